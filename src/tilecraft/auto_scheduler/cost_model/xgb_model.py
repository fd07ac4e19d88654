"""A learned cost model: gradient-boosted trees (xgboost) over per-store features, trained online.

A program's score is the sum of its stores' scores, score(P) = f(x_1) + ... + f(x_n), where x_i
is the feature vector of the i-th innermost store (see `auto_scheduler.feature`).  The target is
the measured throughput normalised per task (best cost / cost, in (0, 1]).  xgboost fits one row
at a time, so the loss on the *sum* is given as a custom objective ("pack-sum" squared error,
the idea of classic Ansor's model): every row of a program ("pack") gets the gradient
w * (score(P) - y) and the hessian w * n, n the number of rows of the program.  (The exact hessian
of the sum is the n x n matrix of ones; its row sum n bounds it, so a boosting round moves the
program's sum by at most eta times its error however many stores it has.  Classic Ansor uses 1,
which overshoots once eta * n > 1.)  The weight w = max(y, 0.1) makes fast programs count most
(the search cares about the top of the ranking) while slow and failed ones still teach the model
that they are slow.  Training stops when the pack-sum RMSE on the training set has not improved
for 50 rounds.

xgboost is imported when a model is created, never by `import tilecraft`.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict

import numpy as np

from ..feature import (
    feature_length,
    get_per_store_features_from_measure_pairs,
    get_per_store_features_from_states,
)
from .cost_model import CostModel

logger = logging.getLogger("auto_scheduler")

_FEATURE_LENGTH_ATTR = "tilecraft_feature_length"


def _xgboost():
    try:
        import xgboost
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("XGBModel needs the xgboost package; install the tuning extras with "
                          "`pip install tilecraft[tune]` (or `pip install xgboost`), or use RandomModel") from e
    return xgboost


def _pack(features, throughputs=None):
    """Stack per-program feature arrays into rows; returns (X, pack_ids, per-row labels or None)."""
    sizes = np.fromiter((len(f) for f in features), dtype=np.int64, count=len(features))
    pack_ids = np.repeat(np.arange(len(features)), sizes)
    nonempty = [f for f in features if len(f)]
    if nonempty:
        x = np.concatenate(nonempty).astype(np.float32, copy=False)
    else:
        x = np.zeros((0, features[0].shape[1] if len(features) else 0), dtype=np.float32)
    y = None if throughputs is None else np.asarray(throughputs, dtype=np.float64)[pack_ids]
    return x, pack_ids, y


class XGBModel(CostModel):
    """Predicts normalised throughput (higher = faster) as a sum of per-store xgboost predictions.

    verbose_eval: log the training metric every this many rounds (logger "auto_scheduler", debug).
    num_warmup_sample: until more candidates than this have been measured, predict random scores.
    seed: seeds xgboost and the warm-up random scores.
    model_file: load a trained model from it when it exists, and save to it after every update.
    adaptive_training: retrain only when the data has grown by a fifth since the last training.
    """

    def __init__(self, verbose_eval=25, num_warmup_sample=100, seed=None, model_file=None,
                 adaptive_training=False, max_n_bufs=None):
        _xgboost()
        self.xgb_params = {
            "max_depth": 10,
            "gamma": 0.001,
            "min_child_weight": 0,
            "eta": 0.2,
            "nthread": max(1, (os.cpu_count() or 2) // 2),
            "verbosity": 0,
            "seed": 43 if seed is None else seed,
            "base_score": 0.0,
            "disable_default_eval_metric": 1,
        }
        self.num_boost_round = 10000
        self.early_stopping_rounds = 50
        self.min_weight = 0.1
        self.verbose_eval = verbose_eval
        self.num_warmup_sample = num_warmup_sample
        self.model_file = model_file
        self.adaptive_training = adaptive_training
        self.max_n_bufs = max_n_bufs
        self.bst = None
        self.inputs: list = []
        self.results: list = []
        self.last_train_length = 0
        self._input_features: list = []  # features of self.inputs[i], extracted once
        # features by (workload key, target, steps): a candidate ranked by predict() and then
        # measured is lowered once, not again by update()
        self._state_features: OrderedDict = OrderedDict()
        self.feature_cache_size = 20000
        self._rng = np.random.default_rng(seed)
        if model_file and os.path.isfile(model_file):
            logger.info("XGBModel: loading the trained model in %s", model_file)
            self.load(model_file)

    # ------------------------------------------------------------------------------ training
    def update(self, inputs, results) -> None:
        """Learn from newly measured candidates (retrains on everything measured so far)."""
        if len(inputs) != len(results):
            raise ValueError(f"{len(inputs)} measure inputs but {len(results)} results")
        if not inputs:
            return
        self.inputs.extend(inputs)
        self.results.extend(results)
        if self.adaptive_training and len(self.inputs) - self.last_train_length < self.last_train_length / 5:
            return
        self.last_train_length = len(self.inputs)
        for inp in self.inputs[len(self._input_features):]:
            self._input_features.append(self._features(inp.task, [inp.state])[0])
        _, throughputs, _ = get_per_store_features_from_measure_pairs(
            self.inputs, self.results, skip_first_n_feature_extraction=len(self.inputs), max_n_bufs=self.max_n_bufs)
        features = self._input_features
        self.fit(features, throughputs)
        if self.model_file and self.bst is not None:
            self.save(self.model_file)

    def fit(self, features, throughputs) -> None:
        """Train from scratch on per-program feature arrays and their normalised throughputs."""
        xgb = _xgboost()
        throughputs = np.asarray(throughputs, dtype=np.float64)
        if len(features) != len(throughputs):
            raise ValueError(f"{len(features)} feature arrays but {len(throughputs)} throughputs")
        x, pack_ids, y = _pack(features, throughputs)
        if len(x) == 0 or not np.any(throughputs > 0):
            logger.debug("XGBModel: nothing to learn from yet (no valid measurement)")
            return
        w = np.maximum(y, self.min_weight)
        n_packs = len(features)
        y_pack = throughputs
        pack_size = np.bincount(pack_ids, minlength=n_packs)
        has_rows = pack_size > 0
        hess = w * pack_size[pack_ids]

        def pack_sum_square_error(preds, _dtrain):
            total = np.bincount(pack_ids, weights=preds, minlength=n_packs)
            return (total[pack_ids] - y) * w, hess

        def pack_sum_rmse(preds, _dtrain):
            total = np.bincount(pack_ids, weights=preds, minlength=n_packs)
            err = (total - y_pack)[has_rows]
            return "p-rmse", float(np.sqrt(np.mean(err * err)))

        dtrain = xgb.DMatrix(x, label=y)
        callbacks = [xgb.callback.EarlyStopping(rounds=self.early_stopping_rounds, metric_name="p-rmse",
                                                data_name="tr", maximize=False, save_best=True, min_delta=1e-6)]
        if self.verbose_eval:
            callbacks.append(_log_callback(xgb, int(self.verbose_eval)))
        bst = xgb.train(self.xgb_params, dtrain, num_boost_round=self.num_boost_round, evals=[(dtrain, "tr")],
                        obj=pack_sum_square_error, custom_metric=pack_sum_rmse, verbose_eval=False,
                        callbacks=callbacks)
        bst.set_attr(**{_FEATURE_LENGTH_ATTR: str(x.shape[1])})
        self.bst = bst

    def update_from_file(self, file_name, n_lines=None) -> None:
        """Pre-train from a record log (every measured candidate in it, or its first n_lines)."""
        from ..measure_record import RecordReader

        inputs, results = [], []
        for i, (inp, res) in enumerate(RecordReader(file_name)):
            if n_lines is not None and i >= n_lines:
                break
            if not inp.steps:  # a task's default schedule, whose loop IR no state describes
                continue
            inputs.append(inp)
            results.append(res)
        logger.info("XGBModel: loaded %d measurement records from %s", len(inputs), file_name)
        self.update(inputs, results)

    # ---------------------------------------------------------------------------- prediction
    def predict(self, task, states) -> np.ndarray:
        """Scores of states (higher = faster); -inf for a state that cannot be lowered.
        Random scores until more than num_warmup_sample candidates have been measured."""
        features = self._features(task, states)
        if self.bst is not None and len(self.inputs) > self.num_warmup_sample:
            scores = self.predict_features(features)
        else:
            scores = self._rng.uniform(0.0, 1.0, len(states))
        for i, f in enumerate(features):
            if len(f) == 0:
                scores[i] = -np.inf
        return scores

    def _features(self, task, states) -> list:
        """Per-store features of states, from the cache where the same steps were seen before."""
        out = [None] * len(states)
        keys = [_state_key(task, st) for st in states]
        cache = self._state_features
        missing = []
        for i, key in enumerate(keys):
            f = cache.get(key) if key is not None else None
            if f is None:
                missing.append(i)
            else:
                cache.move_to_end(key)
                out[i] = f
        if missing:
            fresh = get_per_store_features_from_states([states[i] for i in missing], task, self.max_n_bufs)
            for i, f in zip(missing, fresh):
                out[i] = f
                if keys[i] is not None:
                    cache[keys[i]] = f
            while len(cache) > self.feature_cache_size:
                cache.popitem(last=False)
        return out

    def predict_features(self, features) -> np.ndarray:
        """Scores of programs given as per-store feature arrays (-inf for an empty one)."""
        if self.bst is None:
            raise RuntimeError("XGBModel.predict_features: the model is not trained yet; call update() or load()")
        x, pack_ids, _ = _pack(features)
        raw = self.bst.inplace_predict(x) if len(x) else np.zeros(0)
        scores = np.bincount(pack_ids, weights=raw, minlength=len(features)).astype(np.float64)
        scores[np.bincount(pack_ids, minlength=len(features)) == 0] = -np.inf
        return scores

    # ------------------------------------------------------------------------------- storage
    def save(self, file_name) -> None:
        """Write the trained trees (xgboost's format: .json or .ubj by the file's extension)."""
        if self.bst is None:
            raise RuntimeError("XGBModel.save: the model is not trained yet; call update() first")
        self.bst.save_model(os.fspath(file_name))

    def load(self, file_name) -> None:
        """Read trees written by save(); the loaded model predicts at once (no warm-up)."""
        xgb = _xgboost()
        file_name = os.fspath(file_name)
        if not os.path.isfile(file_name):
            raise FileNotFoundError(f"XGBModel.load: no model file {file_name!r}")
        bst = xgb.Booster(self.xgb_params)
        bst.load_model(file_name)
        n = bst.attr(_FEATURE_LENGTH_ATTR)
        expected = feature_length(self.max_n_bufs)
        if n is not None and int(n) != expected:
            raise ValueError(f"XGBModel.load: {file_name!r} was trained on {n} features per store, but this "
                             f"model extracts {expected} (max_n_bufs={self.max_n_bufs}); retrain it")
        self.bst = bst
        self.num_warmup_sample = -1


def _state_key(task, state):
    """A hashable identity of a candidate (its task and its steps), or None when it has none."""
    steps = getattr(state, "transform_steps", None)
    if steps is None:
        return None
    try:
        key = (getattr(task, "workload_key", None) or id(task), str(getattr(task, "target", "")), tuple(steps))
        hash(key)
    except TypeError:
        return None
    return key


def _log_callback(xgb, every: int):
    class _Log(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            if epoch % every == 0:
                tr = evals_log.get("tr", {})
                msg = "  ".join(f"tr-{k}: {v[-1]:.6f}" for k, v in tr.items())
                logger.debug("XGBModel: round %d  %s", epoch, msg)
            return False

    return _Log()
