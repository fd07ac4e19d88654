"""XGBoost cost model over one task's configurations (classic AutoTVM's XGBoostCostModel).

Training data is the measured configurations' feature vectors (features.py) and their FLOP/s
divided by the best so far (1 = the fastest seen).  loss_type:

* "reg"          squared error on that throughput: the model predicts it;
* "rank"         pairwise ranking (xgboost's rank:pairwise) on it: the model predicts an order;
* "rank-binary"  pairwise ranking of "good" (at least half the best throughput) against the rest.

Training stops when the training set's average top-k recall (a-recall@plan_size: how much of
the true top-n the predicted top-n holds, averaged over n <= plan_size) has not improved for 25
rounds, as in classic TVM.  A base model trained on other workloads' records (transfer
learning, `fit_log`) enters as the prior margin the trees correct.

xgboost is imported when the model is made, never by `import tilecraft`.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from .features import FeatureCache, stack, store_rows
from .model_based_tuner import CostModel

logger = logging.getLogger("tilecraft.autotvm")

LOSS_TYPES = ("reg", "rank", "rank-binary")


def import_xgboost():
    try:
        import xgboost
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("XGBTuner needs the xgboost package; install the tuning extras with "
                          "`pip install tilecraft[tune]` (or `pip install xgboost`), or tune with GATuner or "
                          "RandomTuner, which need no model") from e
    return xgboost


class XGBoostCostModel(CostModel):
    """`XGBoostCostModel(task, feature_type="itervar", loss_type="reg", num_threads=None)`."""

    def __init__(self, task, feature_type="itervar", loss_type="reg", num_threads=None):
        self.xgb = import_xgboost()
        if loss_type not in LOSS_TYPES:
            raise ValueError(f"loss_type must be one of {', '.join(LOSS_TYPES)}, got {loss_type!r}")
        self.task, self.feature_type, self.loss_type = task, feature_type, loss_type
        self.num_threads = num_threads or max(1, (os.cpu_count() or 2) // 2)
        self.features = FeatureCache(task, feature_type)
        objective = "reg:squarederror" if loss_type == "reg" else "rank:pairwise"
        self.xgb_params = {"max_depth": 3, "gamma": 0.0001, "min_child_weight": 1, "subsample": 1.0, "eta": 0.3,
                           "lambda": 1.0, "alpha": 0, "objective": objective, "nthread": self.num_threads,
                           "verbosity": 0, "disable_default_eval_metric": 1,
                           "seed": int(np.random.randint(1 << 30))}
        self.bst = None
        self.base_model = None

    # ------------------------------------------------------------------ training
    def fit(self, xs, ys, plan_size) -> None:
        x, mask = self.features.matrix(xs)
        y = np.asarray(ys, dtype=np.float64)[mask]
        self.bst = self._train(x, y / max(float(y.max(initial=0.0)), 1e-8), plan_size, self.base_model)

    def fit_log(self, records, plan_size, min_seed_records=500) -> bool:
        """Train on other workloads' records, their throughput normalised per workload.  "knob"
        features only make sense within one template, so only records of this task's template
        count for them; "itervar" and "curve" records need their template registered here."""
        vectors, costs, groups = [], [], []
        self.features.get([0])  # itervar: this task's first configuration fixes the vector width
        for inp, res in records:
            if res.error_no != 0 or (self.feature_type == "knob" and inp.task.name != self.task.name):
                continue
            vec = self._record_vector(inp)
            if vec is not None:
                vectors.append(vec)
                costs.append(float(np.mean(res.costs)))
                groups.append((inp.task.name, repr(inp.task.args)))
        if len(vectors) < min_seed_records:
            logger.debug("load_history: %d usable records of other workloads, fewer than min_seed_records=%d; "
                         "no transfer learning", len(vectors), min_seed_records)
            return False
        costs = np.asarray(costs)
        y = np.zeros(len(costs))
        for g in set(groups):
            m = np.array([h == g for h in groups])
            y[m] = costs[m].min() / costs[m]
        self.bst = self._train(stack(vectors), y, plan_size, None)
        return True

    def _record_vector(self, inp):
        if self.feature_type == "knob":
            return np.asarray(inp.config.get_flatten_feature(), dtype=np.float32)
        rows = store_rows(inp.task, inp.config)
        if rows is None:
            return None
        return self.features.vector_of_rows(rows)

    def _train(self, x, y, plan_size, base):
        xgb = self.xgb
        if len(x) == 0:
            return None
        label = (y >= 0.5).astype(np.float64) if self.loss_type == "rank-binary" else y
        dtrain = xgb.DMatrix(x, label=label)
        if base is not None:
            dtrain.set_base_margin(base.predict_matrix(x, output_margin=True))
        k = max(1, min(plan_size, len(y)))
        true_order = np.argsort(-y, kind="stable")

        def a_recall(preds, _dtrain):
            pred_order = np.argsort(-preds, kind="stable")
            hits, total = set(), 0.0
            for n in range(k):
                hits.add(int(pred_order[n]))
                total += len(hits.intersection(true_order[:n + 1].tolist())) / (n + 1)
            return f"a-recall@{k}", total / k

        stop = xgb.callback.EarlyStopping(rounds=25, metric_name=f"a-recall@{k}", data_name="tr", maximize=True,
                                          save_best=True)
        bst = xgb.train(self.xgb_params, dtrain, num_boost_round=400, evals=[(dtrain, "tr")],
                        custom_metric=a_recall, verbose_eval=False, callbacks=[stop])
        logger.debug("XGBoostCostModel: trained on %d configurations, %d rounds", len(y), bst.num_boosted_rounds())
        return bst

    # ------------------------------------------------------------------ prediction
    def predict(self, xs, output_margin=False) -> np.ndarray:
        x, mask = self.features.matrix(xs)
        out = np.full(len(mask), -np.inf)
        if mask.any():
            out[mask] = self.predict_matrix(x, output_margin)
        return out

    def predict_matrix(self, x, output_margin=False) -> np.ndarray:
        if self.bst is None and self.base_model is None:
            return np.random.uniform(0, 1, len(x))  # untrained: any order is as good as another
        margin = self.base_model.predict_matrix(x, output_margin=True) if self.base_model is not None else 0.0
        if self.bst is None:
            return np.asarray(margin, dtype=np.float64)
        return self.bst.inplace_predict(x, predict_type="margin" if output_margin else "value",
                                        base_margin=None if self.base_model is None else margin).astype(np.float64)

    # ------------------------------------------------------------------ transfer learning
    def spawn_base_model(self) -> XGBoostCostModel:
        base = XGBoostCostModel(self.task, self.feature_type, self.loss_type, self.num_threads)
        base.features = self.features  # same vectors (and itervar width) as this model
        return base

    def set_base_model(self, base_model) -> None:
        self.base_model = base_model
