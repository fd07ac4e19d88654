"""AutoTVM configuration spaces: the knobs a template defines, and one point of them.

A template is written once and run in three modes, told apart by the `cfg` it is given:

* `ConfigSpace`         `cfg.define_split(...)` etc. record the knobs (the space is their
                         product); `cfg["tile_y"]` answers the knob's first entity, so the
                         template still builds a valid schedule;
* `ConfigEntity`        one point of the space (index, knob values), what a tuner measures and
                         a log stores; `define_*` only checks the knob exists;
* `FallbackConfigEntity` the space's definitions plus hand-chosen values (`fallback_split`,
                         `cfg["tile_x"] = SplitEntity([-1, 16])`, or the most similar workload of
                         a reference log): what an untuned workload gets.

Knobs are classic AutoTVM's: splits ("sp"), reorders ("re"), annotations ("an") and other
options ("ot").  A point's index is mixed-radix over the knobs in definition order, the first
knob varying fastest, so indices in classic logs name the same points.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import OrderedDict


def get_factors(n: int) -> list:
    """The divisors of n, ascending."""
    small = [i for i in range(1, int(math.isqrt(n)) + 1) if n % i == 0]
    return sorted(set(small + [n // i for i in small]))


def get_pow2s(n: int) -> list:
    """1, 2, 4, ... up to the first power of two not below n."""
    return [2**i for i in range(max(0, math.ceil(math.log2(n))) + 1)] if n > 0 else [1]


def _length(axis) -> int:
    """The extent of a knob's axis: an int, a VirtualAxis or a te IterVar of constant extent."""
    if isinstance(axis, int):
        return axis
    if isinstance(axis, VirtualAxis):
        return axis.length
    dom = getattr(axis, "dom", None)
    extent = getattr(getattr(dom, "extent", None), "value", getattr(dom, "extent", None))
    if not isinstance(extent, int):
        raise ValueError(f"a knob over axis {axis} needs a constant extent, got {extent!r}; "
                         "pass the length as an int instead")
    return extent


class VirtualAxis:
    """An axis as a knob sees it: a name and a length (`cfg.axis(iv)`, `cfg.reduce_axis(iv)`)."""

    def __init__(self, var, name: str | None = None):
        self.length = _length(var)
        self.name = name or getattr(getattr(var, "var", None), "name", None) or getattr(var, "name", "axis")

    def __repr__(self) -> str:
        return f"VirtualAxis({self.name}, {self.length})"


# ------------------------------------------------------------------------------------ knob spaces

class TransformSpace:
    """One knob: the list of its entities (the values it can take)."""

    kind = ""

    def __init__(self):
        self.entities: list = []

    def __len__(self) -> int:
        return len(self.entities)

    def __getitem__(self, index):
        return self.entities[index]


class SplitSpace(TransformSpace):
    """Ways to split an axis of `product` iterations into `num_outputs` nested loops."""

    kind = "sp"

    def __init__(self, axes, policy: str = "factors", num_outputs: int = 2, max_factor: int = 1 << 31,
                 filter=None, candidate=None, no_tail: bool | None = None):  # noqa: A002 - classic keyword
        super().__init__()
        self.product = _length(axes[0])
        self.policy, self.num_output = policy, int(num_outputs)
        if self.num_output < 1:
            raise ValueError(f"define_split: num_outputs must be at least 1, got {num_outputs}")
        if policy == "candidate":
            if not candidate:
                raise ValueError("define_split(policy='candidate') needs candidate=[[...], ...]")
            self.entities = [SplitEntity(list(c)) for c in candidate]
        else:
            if policy == "factors":
                factors = get_factors(self.product)
            elif policy == "power2":
                factors = get_pow2s(self.product)
            elif policy == "verbose":
                factors = sorted(set(get_factors(self.product)) | set(get_pow2s(self.product)))
            else:
                raise ValueError(f"define_split: unknown policy {policy!r}; use 'factors', 'power2', 'verbose' "
                                 "or 'candidate'")
            factors = [f for f in factors if f <= max_factor]
            no_tail = policy == "factors" if no_tail is None else no_tail
            for inner in itertools.product(factors, repeat=self.num_output - 1):
                prod = math.prod(inner)
                if self.product % prod == 0 or (not no_tail and prod < self.product):
                    self.entities.append(SplitEntity([-1] + list(inner)[::-1]))
        if filter is not None:
            self.entities = [e for e in self.entities if filter(e)]
        if not self.entities:
            raise ValueError(f"define_split: no split of length {self.product} into {self.num_output} parts "
                             f"passes the policy and filter")

    def __repr__(self) -> str:
        return f"Split(policy={self.policy}, product={self.product}, num_outputs={self.num_output}) len={len(self)}"


class ReorderSpace(TransformSpace):
    """Orders of a list of axes (permutations of their indices)."""

    kind = "re"

    def __init__(self, axes, policy: str = "all", candidate=None, spatial=None, reduce=None):
        super().__init__()
        self.num_axes, self.policy = len(axes), policy
        n = len(axes)
        if policy == "identity":
            perms = [tuple(range(n))]
        elif policy == "all":
            perms = list(itertools.permutations(range(n)))
        elif policy == "interval_all":
            perms = [tuple(range(i)) + p + tuple(range(j, n)) for i in range(n) for j in range(i + 1, n + 1)
                     for p in itertools.permutations(range(i, j))]
            perms = list(dict.fromkeys(perms))
        elif policy == "candidate":
            keys = [id(a) for a in axes]
            perms = [tuple(keys.index(id(a)) for a in c) for c in candidate or []]
        elif policy == "interleave":
            keys = [id(a) for a in axes]
            sp = [keys.index(id(a)) for a in spatial or []]
            rd = [keys.index(id(a)) for a in reduce or []]
            perms = [tuple(sp[:k] + rd + sp[k:]) for k in range(len(sp) + 1)]
        else:
            raise ValueError(f"define_reorder: unknown policy {policy!r}; use 'identity', 'all', 'interval_all', "
                             "'candidate' or 'interleave'")
        self.entities = [ReorderEntity(list(p)) for p in perms]

    def __repr__(self) -> str:
        return f"Reorder(policy={self.policy}) len={len(self)}"


class AnnotateSpace(TransformSpace):
    """An annotation per axis: 'none', 'unroll', 'vec', 'parallel'."""

    kind = "an"
    _CHOICES = {
        "none": ([["none"]], None),
        "try_unroll": ([["none", "unroll"]], None),
        "try_vec": ([["none"]], ["none", "vec"]),
        "try_unroll_vec": ([["none", "unroll"]], ["none", "unroll", "vec"]),
        "unroll": ([["unroll"]], None),
        "vec": ([["none"]], ["vec"]),
        "parallel": ([["parallel"]], ["parallel"]),
    }

    def __init__(self, axes, policy: str = "try_unroll"):
        super().__init__()
        if policy not in self._CHOICES:
            raise ValueError(f"define_annotate: unknown policy {policy!r}; use one of {sorted(self._CHOICES)}")
        self.num_axes, self.policy = len(axes), policy
        (each,), last = self._CHOICES[policy]
        per_axis = [each] * (len(axes) - 1) + [last or each] if axes else []
        self.entities = [AnnotateEntity(list(a)) for a in itertools.product(*per_axis)]

    def __repr__(self) -> str:
        return f"Annotate(policy={self.policy}) len={len(self)}"


class OtherOptionSpace(TransformSpace):
    """A knob with explicit candidate values (`define_knob`)."""

    kind = "ot"

    def __init__(self, axes, policy=None, candidate=()):
        super().__init__()
        if not candidate:
            raise ValueError("define_knob needs at least one candidate value")
        self.entities = [OtherOptionEntity(v) for v in candidate]

    def __repr__(self) -> str:
        return f"OtherOption({[e.val for e in self.entities]}) len={len(self)}"


# ------------------------------------------------------------------------------------ entities

def _stage(sch, op):
    return sch[op]


class SplitEntity:
    """Split factors, outermost first; -1 means 'whatever is left'."""

    def __init__(self, size):
        self.size = [int(s) for s in size]

    def apply(self, sch, op, axis):
        """Split `axis` of `op`'s stage; returns the loops, outermost first."""
        axes = []
        for i in range(1, len(self.size)):
            outer, axis = _stage(sch, op).split(axis, factor=int(math.prod(self.size[i:])))
            axes.append(outer)
        return axes + [axis]

    def to_json(self):
        return self.size

    def __eq__(self, other):
        return isinstance(other, SplitEntity) and self.size == other.size

    def __hash__(self):
        return hash(tuple(self.size))

    def __repr__(self) -> str:
        return f"sp{self.size}"


class ReorderEntity:
    def __init__(self, perm):
        self.perm = [int(p) for p in perm]

    def apply(self, sch, op, axes):
        ordered = [axes[i] for i in self.perm]
        _stage(sch, op).reorder(*ordered)
        return ordered

    def to_json(self):
        return self.perm

    def __eq__(self, other):
        return isinstance(other, ReorderEntity) and self.perm == other.perm

    def __hash__(self):
        return hash(tuple(self.perm))

    def __repr__(self) -> str:
        return f"re{self.perm}"


class AnnotateEntity:
    def __init__(self, anns):
        self.anns = list(anns)

    def apply(self, sch, op, axes, axis_lens=None, max_unroll=None, vec_size=None, cfg=None):
        """Annotate each axis; an 'unroll' longer than max_unroll and a 'vec' whose length is not
        in vec_size (an int or a list) are skipped."""
        stage = _stage(sch, op)
        for i, (ax, ann) in enumerate(zip(axes, self.anns)):
            length = axis_lens[i] if axis_lens is not None else None
            if ann == "unroll" and (max_unroll is None or length is None or length <= max_unroll):
                stage.unroll(ax)
            elif ann == "vec":
                sizes = [vec_size] if isinstance(vec_size, int) else vec_size
                if sizes is None or length is None or length in sizes:
                    stage.vectorize(ax)
            elif ann == "parallel":
                stage.parallel(ax)
            elif ann != "none":
                raise ValueError(f"unknown annotation {ann!r}")
        return axes

    def to_json(self):
        return self.anns

    def __eq__(self, other):
        return isinstance(other, AnnotateEntity) and self.anns == other.anns

    def __hash__(self):
        return hash(tuple(self.anns))

    def __repr__(self) -> str:
        return f"an{self.anns}"


class OtherOptionEntity:
    def __init__(self, val):
        self.val = val

    def to_json(self):
        return self.val

    def __eq__(self, other):
        return isinstance(other, OtherOptionEntity) and self.val == other.val

    def __hash__(self):
        return hash(repr(self.val))

    def __repr__(self) -> str:
        return repr(self.val)


_ENTITY_OF_KIND = {"sp": SplitEntity, "re": ReorderEntity, "an": AnnotateEntity, "ot": OtherOptionEntity}


def _feature_of(entity) -> list:
    """Numbers describing one knob value (for the 'knob' features of the XGB tuner)."""
    if isinstance(entity, SplitEntity):
        return [float(s) for s in entity.size[1:]] or [0.0]
    if isinstance(entity, ReorderEntity):
        return [float(p) for p in entity.perm]
    if isinstance(entity, AnnotateEntity):
        return [float(["none", "unroll", "vec", "parallel"].index(a)) if a in ("none", "unroll", "vec", "parallel")
                else 4.0 for a in entity.anns]
    v = entity.val
    return [float(v)] if isinstance(v, (bool, int, float)) else [float(hash(str(v)) % 997)]


# ------------------------------------------------------------------------------------ spaces

class ConfigSpace:
    """The knobs a template defines (see the module docstring); len() is the number of points."""

    is_fallback = False

    def __init__(self):
        self.space_map: OrderedDict = OrderedDict()
        self._entity_map: OrderedDict = OrderedDict()
        self._constraints: list = []
        self.flop = 0
        self.code_hash = None
        self.errors: list = []
        self.template_key = None

    # ---- defining knobs (what a template calls)
    @staticmethod
    def axis(var):
        return VirtualAxis(var)

    reduce_axis = axis

    def define_split(self, name, axis, policy="factors", **kwargs):
        self._define(SplitSpace, name, [axis], policy, **kwargs)

    def define_reorder(self, name, axes, policy, **kwargs):
        self._define(ReorderSpace, name, list(axes), policy, **kwargs)

    def define_annotate(self, name, axes, policy, **kwargs):
        self._define(AnnotateSpace, name, list(axes), policy, **kwargs)

    def define_knob(self, name, candidate):
        self._define(OtherOptionSpace, name, [], None, candidate=list(candidate))

    def multi_filter(self, filter):  # noqa: A002 - classic keyword
        """Keep only points for which filter(entity_map) is true (constraints across knobs)."""
        self._constraints.append(filter)

    def add_flop(self, flop):
        self.flop += float(flop)

    def raise_error(self, msg):
        self.errors.append(msg)

    def valid(self) -> bool:
        return not self.errors

    def _define(self, space_class, name, axes, policy, **kwargs):
        if name in self.space_map:
            return  # a template instantiated twice (e.g. compute and schedule) defines once
        space = space_class(axes, policy, **kwargs)
        self.space_map[name] = space
        self._entity_map[name] = space[0]

    # ---- the space
    def __len__(self) -> int:
        return math.prod(len(s) for s in self.space_map.values()) if self.space_map else 1

    @property
    def range_length(self) -> int:
        return len(self)

    def __getitem__(self, name):
        try:
            return self._entity_map[name]
        except KeyError:
            raise KeyError(f"the configuration has no knob {name!r}; knobs: {list(self._entity_map)}") from None

    def __iter__(self):
        return iter(self.space_map)

    def point2knob(self, index: int) -> list:
        out = []
        for space in self.space_map.values():
            out.append(index % len(space))
            index //= len(space)
        return out

    def knob2point(self, knobs) -> int:
        index, radix = 0, 1
        for k, space in zip(knobs, self.space_map.values()):
            index += k * radix
            radix *= len(space)
        return index

    def index_of(self, config) -> int | None:
        """The index of the point whose knobs equal config's (None when one is not in the space)."""
        entities = getattr(config, "_entity_map", {})
        knobs = []
        for name, space in self.space_map.items():
            if name not in entities or entities[name] not in space.entities:
                return None
            knobs.append(space.entities.index(entities[name]))
        return self.knob2point(knobs)

    def get(self, index: int) -> ConfigEntity:
        """The point with this index."""
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"config index {index} is outside the space (0 .. {len(self) - 1})")
        entities = OrderedDict((name, space[k]) for (name, space), k in
                               zip(self.space_map.items(), self.point2knob(index)))
        return ConfigEntity(index, self.code_hash, entities, self._constraints)

    def is_index_valid(self, index: int) -> bool:
        if not self._constraints:
            return 0 <= index < len(self)
        entities = dict(zip(self.space_map, (s[k] for s, k in zip(self.space_map.values(), self.point2knob(index)))))
        return all(f(entities) for f in self._constraints)

    def get_rand_index(self, rng=random, to_exclude=()) -> int:
        """A random valid index not in to_exclude (None when none is left after many tries)."""
        for _ in range(1000):
            i = rng.randrange(len(self))
            if i not in to_exclude and self.is_index_valid(i):
                return i
        return None

    def random_walk(self, index: int, rng=random) -> int:
        """A neighbour: one knob changed to another of its values."""
        knobs = self.point2knob(index)
        movable = [i for i, s in enumerate(self.space_map.values()) if len(s) > 1]
        if not movable:
            return index
        for _ in range(100):
            k = rng.choice(movable)
            new = list(knobs)
            new[k] = rng.randrange(len(list(self.space_map.values())[k]))
            point = self.knob2point(new)
            if new != knobs and self.is_index_valid(point):
                return point
        return index

    def dims(self) -> list:
        return [len(s) for s in self.space_map.values()]

    def __repr__(self) -> str:
        lines = [f"ConfigSpace (len={len(self)}, range_length={self.range_length}, space_map="]
        lines += [f"  {i:2d} {name}: {space}" for i, (name, space) in enumerate(self.space_map.items())]
        return "\n".join(lines) + "\n)"


class ConfigEntity(ConfigSpace):
    """One point of a space: its index and one entity per knob."""

    def __init__(self, index, code_hash, entity_map, constraints=()):
        super().__init__()
        self.index = index
        self.code_hash = code_hash
        self._entity_map = OrderedDict(entity_map)
        self._constraints = list(constraints)

    def _define(self, space_class, name, axes, policy, **kwargs):
        pass  # the point is fixed; a missing knob is reported when the template reads it

    def __len__(self) -> int:
        return 1

    def get_flatten_feature(self) -> list:
        return [x for e in self._entity_map.values() for x in _feature_of(e)]

    def get_other_option(self) -> dict:
        return {k: e.val for k, e in self._entity_map.items() if isinstance(e, OtherOptionEntity)}

    def to_json_dict(self) -> dict:
        kinds = {SplitEntity: "sp", ReorderEntity: "re", AnnotateEntity: "an", OtherOptionEntity: "ot"}
        return {"index": int(self.index), "code_hash": self.code_hash,
                "entity": [[k, kinds[type(e)], e.to_json()] for k, e in self._entity_map.items()]}

    @staticmethod
    def from_json_dict(json_dict) -> ConfigEntity:
        entities = OrderedDict()
        for name, kind, value in json_dict["entity"]:
            if kind not in _ENTITY_OF_KIND:
                raise ValueError(f"unknown knob kind {kind!r} for {name!r} (expected sp, re, an or ot)")
            entities[name] = _ENTITY_OF_KIND[kind](value)
        return ConfigEntity(json_dict["index"], json_dict.get("code_hash"), entities)

    def __eq__(self, other):
        return isinstance(other, ConfigEntity) and self._entity_map == other._entity_map

    def __hash__(self):
        return hash(tuple(self._entity_map.items()))

    def __repr__(self) -> str:
        items = ", ".join(f"({k!r}, {e.to_json()!r})" for k, e in self._entity_map.items())
        return f"[{items}],{self.code_hash},{self.index}"


class FallbackConfigEntity(ConfigSpace):
    """An untuned workload's configuration: the space's knobs, set by hand (or from a reference log)."""

    is_fallback = True
    index = -1

    def __init__(self, workload=None):
        super().__init__()
        self.workload = workload

    def fallback_split(self, name, constraints):
        """Set split `name` to the largest factors not above `constraints` (innermost first; -1: no limit)."""
        space = self.space_map[name]
        if not isinstance(space, SplitSpace) or len(constraints) != space.num_output:
            raise ValueError(f"fallback_split({name!r}): need {getattr(space, 'num_output', '?')} constraints "
                             f"for a split knob, got {constraints}")
        limits = [c if c != -1 else math.inf for c in constraints]
        size = [1] * space.num_output
        now = space.product
        for i in reversed(range(space.num_output)):
            fits = [f for f in get_factors(now) if f <= limits[i]]
            size[i] = fits[-1]
            now //= fits[-1]
        size[0] = -1
        self._entity_map[name] = SplitEntity(size)

    def fallback_with_reference_log(self, ref_log):
        """Copy the knobs of the reference log's record whose workload is most similar (same task,
        the closest shapes), clipped into this space: `ref_log` is [(MeasureInput, MeasureResult)]."""
        best, best_score = None, -1.0
        for inp, _ in ref_log:
            score = _similarity(inp.task.workload, self.workload) if self.workload else 0.0
            if score > best_score:
                best, best_score = inp.config, score
        if best is None:
            return
        for name, entity in best._entity_map.items():
            if name in self.space_map and isinstance(entity, SplitEntity):
                self.fallback_split(name, [-1] + entity.size[1:])
            elif name in self.space_map and entity in self.space_map[name].entities:
                self._entity_map[name] = entity

    def __setitem__(self, name, entity):
        self._entity_map[name] = entity

    def __repr__(self) -> str:
        return f"FallbackConfigEntity({ConfigEntity.__repr__(self)})"


def _similarity(a, b) -> float:
    """How alike two workloads' numbers are (1 / (1 + distance of the log shapes))."""
    def numbers(w):
        out = []
        for x in w if isinstance(w, (list, tuple)) else [w]:
            if isinstance(x, (list, tuple)):
                out += numbers(x)
            elif isinstance(x, (int, float)) and not isinstance(x, bool):
                out.append(math.log2(max(1.0, float(x))))
        return out

    na, nb = numbers(a[1:]), numbers(b[1:])
    if a[0] != b[0] or len(na) != len(nb):
        return 0.0
    return 1.0 / (1.0 + math.dist(na, nb))

