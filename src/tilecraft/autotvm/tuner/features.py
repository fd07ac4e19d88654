"""Feature vectors of an AutoTVM task's configurations, for the XGBoost cost model.

Three kinds, as in classic AutoTVM (`XGBTuner(feature_type=...)`):

* "knob"    the configuration's knob values (`ConfigEntity.get_flatten_feature`): free to
            compute, but only meaningful within one template;
* "itervar" what the configuration's *lowered loop nest* does: the template is instantiated,
            lowered with the same driver `lower` the builders use, and the auto-scheduler's
            per-store features are taken (`auto_scheduler.feature.per_store_features`: loop
            extents and annotations, arithmetic, bytes and reuse of every buffer access).  A
            vector is the rows of the first `n_stores` stores, zero-padded, then the sum of all
            rows, so configurations with a different number of stores still line up;
* "curve"   a fixed-length summary of the itervar rows that does not depend on how many stores a
            program has (the maximum and mean over its stores of the arithmetic-intensity curve,
            the loop nest's size and each buffer slot's bytes, lines and reuse), so records of
            *other* tasks can train a model for this one (transfer learning).

A configuration the template or the lowering rejects has no features (None): the model ranks it
last.  Lowering costs about a millisecond or two per configuration for small templates (measured
on the tests' matmul), so features are cached per index and the search that needs many of them
(sa_model_optimizer.py) bounds how many new points it visits per plan.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ...auto_scheduler.feature import feature_names, per_store_features
from ...driver.build_module import lower

FEATURE_TYPES = ("knob", "itervar", "curve")
MAX_STORES = 8  # itervar vectors hold at most this many stores' rows (plus the sum of all)

_NAMES = feature_names()
_CURVE_COLUMNS = np.array([i for i, n in enumerate(_NAMES) if n.startswith("arith_intensity_curve")
                           or n in ("outer_prod", "num_loops", "alloc_size", "float_mad", "float_addsub",
                                    "float_mul", "int_mad", "int_addsub", "int_mul", "vec_prod", "vec_len",
                                    "unroll_prod", "unroll_len", "parallel_prod", "parallel_len")
                           or n.split(".", 1)[-1] in ("bytes", "unique_bytes", "lines", "reuse_dis_bytes",
                                                      "reuse_ct", "stride")], dtype=np.int64)


def store_rows(task, config) -> np.ndarray | None:
    """Per-store features of `task` under `config` (None when it cannot be instantiated or lowered)."""
    try:
        sch, args = task.instantiate(config)
        mod = lower(sch, args)
        return per_store_features(mod)
    except Exception:  # noqa: BLE001 - an invalid configuration is ranked last, never fatal
        return None


def itervar_vector(rows: np.ndarray, n_stores: int) -> np.ndarray:
    out = np.zeros((n_stores + 1, rows.shape[1]), dtype=np.float32)
    take = min(n_stores, len(rows))
    out[:take] = rows[:take]
    out[n_stores] = rows.sum(axis=0)
    return out.ravel()


def curve_vector(rows: np.ndarray) -> np.ndarray:
    sel = rows[:, _CURVE_COLUMNS] if len(rows) else np.zeros((1, len(_CURVE_COLUMNS)), dtype=np.float32)
    return np.concatenate([sel.max(axis=0), sel.mean(axis=0)]).astype(np.float32)


class FeatureCache:
    """Feature vectors of one task's configurations by index (least recently used dropped past
    `capacity`), of one feature type."""

    def __init__(self, task, feature_type: str, capacity: int = 20000):
        if feature_type not in FEATURE_TYPES:
            raise ValueError(f"feature_type must be one of {', '.join(FEATURE_TYPES)}, got {feature_type!r}")
        self.task, self.feature_type, self.capacity = task, feature_type, capacity
        self.n_stores = None  # itervar: fixed by the first configuration that lowers
        self.cache: OrderedDict = OrderedDict()
        self.extracted = 0  # how many configurations were lowered (for tests and budgets)

    def vector(self, config):
        """The feature vector of a ConfigEntity (None when it cannot be lowered)."""
        if self.feature_type == "knob":
            return np.asarray(config.get_flatten_feature(), dtype=np.float32)
        rows = store_rows(self.task, config)
        self.extracted += 1
        return None if rows is None else self.vector_of_rows(rows)

    def vector_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The itervar or curve vector of per-store feature rows (of this task or another)."""
        if self.feature_type == "curve":
            return curve_vector(rows)
        if self.n_stores is None:
            self.n_stores = max(1, min(MAX_STORES, len(rows)))
        return itervar_vector(rows, self.n_stores)

    def get(self, indices) -> list:
        """Vectors of the configurations with these indices of the task's space (None: invalid)."""
        out = []
        space = self.task.config_space
        for index in indices:
            index = int(index)
            if index in self.cache:
                self.cache.move_to_end(index)
                out.append(self.cache[index])
                continue
            v = self.vector(space.get(index)) if space.is_index_valid(index) else None
            self.cache[index] = v
            if len(self.cache) > self.capacity:
                self.cache.popitem(last=False)
            out.append(v)
        return out

    def matrix(self, indices):
        """(X, mask): the rows of the indices that have features, and which ones do."""
        vecs = self.get(indices)
        mask = np.array([v is not None for v in vecs], dtype=bool)
        return stack([v for v in vecs if v is not None]), mask


def stack(vectors) -> np.ndarray:
    """Rows of equal length (itervar vectors of other tasks are padded or cut to the first's length)."""
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    n = len(vectors[0])
    out = np.zeros((len(vectors), n), dtype=np.float32)
    for i, v in enumerate(vectors):
        out[i, :min(n, len(v))] = v[:n]
    return out
