"""Search policies: which candidates to measure next.

`SketchPolicy` (Ansor): sketches from the rules (sketch.py), random completions of them (every
split's lengths sampled from the factors of its extent, parallel / vectorize / unroll
annotations), then an evolutionary search ranked by the cost model (mutate tile sizes, parallel
granularity, vectorization and unroll depth), returning the best candidates not measured yet plus
an epsilon share of random ones.

A candidate is kept as a *recipe* (sketch, split lengths, annotation choices) that materializes
into a State, so mutations change numbers, never step lists, and always give a state that replays.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from .cost_model import RandomModel
from .loop_state import ComputeAtKind, IteratorAnnotation, IteratorKind, StageKind
from .sketch import consumer_ids, generate_sketches, state_key
from .transform_steps import SplitStep, StepError

UNROLL_STEPS = (0, 16, 64, 512)
MAX_VECTORIZE = 64
MAX_INNERMOST_SPLIT = 64

DEFAULT_PARAMS = {
    "eps_greedy": 0.05,
    "sample_init_min_population": 64,
    "evolutionary_search_population": 128,
    "evolutionary_search_num_iters": 3,
    "evolutionary_search_mutation_prob": 0.85,
    "retry_search_one_round_on_empty": 3,
    "sketch_max_num": 100,
}
_ALIASES = {"evolutionary_search_num": "evolutionary_search_population"}


def _divisors(n: int) -> list:
    small = [d for d in range(1, int(math.isqrt(n)) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _prime_factors(n: int) -> list:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


@dataclass(frozen=True)
class Recipe:
    """One candidate: a sketch, the lengths of its splits ({step index: lengths}) and, per stage
    id, (number of outer loops fused for parallel, vectorize the innermost?, unroll depth)."""

    sketch: int
    lengths: tuple  # ((step index, lengths), ...)
    annotations: tuple  # ((stage id, (parallel depth, vectorize, unroll)), ...)
    locations: tuple = ()  # ((stage id, depth), ...): 0 = at root, d = at its consumer's d-th loop


class SketchPolicy:
    """Ansor's policy for CPUs.  `SketchPolicy(task, program_cost_model, params=...)`, or keyword
    parameters only (`SketchPolicy(sketch_max_num=..., evolutionary_search_num=...)`) and the task
    bound when tuning starts."""

    def __init__(self, task=None, program_cost_model=None, params=None, seed=None, verbose=1,
                 init_search_callbacks=None, **param_kwargs):
        self.params = dict(DEFAULT_PARAMS)
        for k, v in {**(params or {}), **param_kwargs}.items():
            k = _ALIASES.get(k, k)
            if k not in DEFAULT_PARAMS:
                raise ValueError(f"SketchPolicy has no parameter {k!r}; known: {', '.join(sorted(DEFAULT_PARAMS))}")
            self.params[k] = v
        if program_cost_model is not None and not all(callable(getattr(program_cost_model, m, None))
                                                      for m in ("predict", "update")):
            raise TypeError(f"SketchPolicy(program_cost_model=...) takes a cost model such as "
                            f"auto_scheduler.XGBModel() or RandomModel(), got {program_cost_model!r}")
        if task is not None and not hasattr(task, "compute_dag"):
            raise TypeError(f"SketchPolicy(task=...) takes an auto_scheduler.SearchTask, got {task!r} "
                            f"({type(task).__name__})")
        self.cost_model = program_cost_model if program_cost_model is not None else RandomModel()
        self.rng = random.Random(seed)
        self.verbose = verbose
        self.init_search_callbacks = list(init_search_callbacks or [])
        self.task = None
        self.measured: dict = {}  # state key -> (recipe or None, cost)
        if task is not None:
            self.bind(task)

    # ------------------------------------------------------------------ setup
    def bind(self, task) -> SketchPolicy:
        if self.task is task:
            return self
        self.task = task
        self.sketches = generate_sketches(self)[: int(self.params["sketch_max_num"])]
        if not self.sketches:
            raise ValueError(f"no sketch for task {task.desc or task.workload_key}")
        self._splits = [[i for i, s in enumerate(sk.transform_steps) if isinstance(s, SplitStep)]
                        for sk in self.sketches]
        self._contiguous = [self._contiguous_splits(sk) for sk in self.sketches]
        self._movable = [self._movable_stages(sk) for sk in self.sketches]
        self.lanes = max(1, int(task.hardware_params.vector_unit_bytes or 32) // 4)
        for cb in self.init_search_callbacks:
            cb.callback(self)
        return self

    def generate_sketches(self, print_for_debug=False) -> list:
        if print_for_debug:
            for s in self.sketches:
                print(s)
        return list(self.sketches)

    # ------------------------------------------------------------------ recipes
    def _contiguous_splits(self, sketch) -> set:
        """Indices of the sketch's splits of a stage's last spatial axis (the contiguous one in the
        output): their innermost piece is what gets vectorized."""
        state, out = self.task.compute_dag.get_init_state(), set()
        for i, step in enumerate(sketch.transform_steps):
            if isinstance(step, SplitStep):
                st = state.stages[step.stage_id]
                axis = getattr(st.op, "axis", ())
                if axis and st.iters[step.iter_id].name == axis[-1].var.name:
                    out.add(i)
            state._add(step)
        return out

    def _movable_stages(self, sketch) -> list:
        """Stages whose place the search chooses: untiled, at root, not an output."""
        tiled = {step.stage_id for step in sketch.transform_steps if isinstance(step, SplitStep)}
        dag, out = sketch.compute_dag, []
        for sid, st in enumerate(sketch.stages):
            if st.op_type == StageKind.PLACEHOLDER or st.compute_at != ComputeAtKind.ROOT or sid in tiled \
                    or dag.is_output(st.op) or not consumer_ids(sketch, sid):
                continue
            out.append(sid)
        return out

    def random_recipe(self) -> Recipe:
        rng = self.rng
        k = rng.randrange(len(self.sketches))
        steps = self.sketches[k].transform_steps
        lengths = tuple((i, self._sample_lengths(steps[i].extent, len(steps[i].lengths), i in self._contiguous[k]))
                        for i in self._splits[k])
        anns = tuple((sid, (rng.randint(1, 3), rng.random() < 0.8, rng.choice(UNROLL_STEPS)))
                     for sid in range(len(self.sketches[k].stages)))
        locations = tuple((sid, rng.randint(0, 2)) for sid in self._movable[k])
        return Recipe(k, lengths, anns, locations)

    def _sample_lengths(self, extent, n: int, contiguous: bool = False) -> tuple:
        """Random lengths whose product divides extent, innermost at most MAX_INNERMOST_SPLIT; a
        contiguous axis mostly gets an innermost piece of whole vectors."""
        if not extent:
            return (1,) * n
        out, rem = [], extent
        for level in range(n):  # innermost first
            choices = [d for d in _divisors(rem) if level > 0 or d <= MAX_INNERMOST_SPLIT]
            if level == 0 and contiguous and self.rng.random() < 0.85:
                choices = [d for d in choices if d % self.lanes == 0] or choices
            d = self.rng.choice(choices)
            out.append(d)
            rem //= d
        return tuple(reversed(out))

    def materialize(self, recipe: Recipe):
        """The State a recipe stands for, or None if its steps do not apply."""
        sketch = self.sketches[recipe.sketch]
        lengths = dict(recipe.lengths)
        steps = [replace(s, lengths=lengths[i]) if i in lengths else s for i, s in enumerate(sketch.transform_steps)]
        try:
            state = self.task.compute_dag.state_from_steps(steps)
            self._place(state, dict(recipe.locations))
            self._annotate(state, dict(recipe.annotations))
        except (StepError, ValueError, IndexError) as e:
            if self.verbose >= 2:
                print(f"recipe does not apply: {e}")
            return None
        return state

    @staticmethod
    def _place(state, locations: dict) -> None:
        """Compute each movable stage at root or inside its last consumer, at the d-th of the loops
        they share (never deeper: a deeper loop would recompute the stage for nothing), when its
        other consumers are computed there too."""
        dag = state.compute_dag
        for sid in sorted(locations, reverse=True):
            cons = consumer_ids(state, sid)
            if locations[sid] <= 0 or not cons:
                continue
            target = cons[-1]
            attach = state.attach_map.stage_to_attach_iter
            if any(attach.get(c, (None,))[0] != target for c in cons[:-1]):
                continue
            op, top = state.stages[sid].op, state.stages[target].op
            shared = [iv.var.name for iv in top.axis[: dag.access_analyzer.get_num_common_outer_iterator(op, top)]]
            iters = state.stages[target].iters
            depth = 0
            while depth < min(locations[sid], len(iters)) and iters[depth].name.split(".")[0] in shared:
                depth += 1
            if depth:
                state.compute_at(sid, target, depth - 1)

    def _annotate(self, state, anns: dict) -> None:
        cores = self.task.hardware_params.num_cores
        attached = state.attach_map.iter_to_attached_stages
        if any(st.iters and st.iters[-1].extent is None for st in state.stages):
            # stages moved by compute_at have no extents in the view: te bound inference fills them
            bounded = self.task.compute_dag.infer_bound_from_state(state)
            state.stages[:] = bounded.stages
        for sid in range(len(state.stages) - 1, -1, -1):
            st = state.stages[sid]
            if st.op_type == StageKind.PLACEHOLDER or st.compute_at == ComputeAtKind.INLINED or not st.iters:
                continue
            depth, vec, unroll = anns.get(sid, (1, True, 0))
            inner = st.iters[-1]
            if vec and inner.iter_kind == IteratorKind.SPATIAL and inner.annotation == IteratorAnnotation.NONE \
                    and inner.extent is not None and 2 <= inner.extent <= MAX_VECTORIZE \
                    and not attached.get((sid, len(st.iters) - 1)) and len(st.iters) > 1:
                state.vectorize(sid, len(st.iters) - 1)
            if st.compute_at == ComputeAtKind.ROOT:
                self._parallel(state, sid, depth, cores)
            if unroll and any(it.iter_kind == IteratorKind.REDUCTION for it in state.stages[sid].iters):
                state.pragma(sid, 0, f"auto_unroll_max_step${unroll}")

    @staticmethod
    def _parallel(state, sid: int, depth: int, cores: int) -> None:
        st = state.stages[sid]
        attached = state.attach_map.iter_to_attached_stages
        chosen, extent = [], 1
        for i, it in enumerate(st.iters[:-1] if len(st.iters) > 1 else st.iters):
            if it.iter_kind != IteratorKind.SPATIAL or it.annotation != IteratorAnnotation.NONE:
                break
            chosen.append(i)
            extent *= it.extent or 1
            if len(chosen) >= depth or extent >= cores * 16 or attached.get((sid, i)):
                break
        if not chosen:
            return
        it = state.fuse(sid, chosen) if len(chosen) > 1 else chosen[0]
        state.parallel(sid, it)

    def mutate(self, recipe: Recipe) -> Recipe:
        rng = self.rng
        kind = rng.random()
        if kind < 0.15 and recipe.locations:
            locations = dict(recipe.locations)
            sid = rng.choice(list(locations))
            locations[sid] = rng.choice([d for d in (0, 1, 2, 3) if d != locations[sid]])
            return replace(recipe, locations=tuple(sorted(locations.items())))
        if kind < 0.6 and recipe.lengths:
            lengths = dict(recipe.lengths)
            idx = rng.choice(list(lengths))
            extent = self.sketches[recipe.sketch].transform_steps[idx].extent or 1
            ls = list(lengths[idx])
            full = [extent // max(1, math.prod(ls))] + ls  # outermost part first
            src = [i for i, f in enumerate(full) if f > 1]
            if src:
                i = rng.choice(src)
                p = rng.choice(_prime_factors(full[i]))
                j = rng.choice([x for x in range(len(full)) if x != i])
                full[i] //= p
                full[j] *= p
                if full[-1] <= MAX_INNERMOST_SPLIT:
                    lengths[idx] = tuple(full[1:])
            return replace(recipe, lengths=tuple(sorted(lengths.items())))
        anns = dict(recipe.annotations)
        sid = rng.choice(list(anns))
        depth, vec, unroll = anns[sid]
        if kind < 0.75:
            depth = max(1, depth + rng.choice((-1, 1)))
        elif kind < 0.9:
            unroll = rng.choice(UNROLL_STEPS)
        else:
            vec = not vec
        anns[sid] = (depth, vec, unroll)
        return replace(recipe, annotations=tuple(sorted(anns.items())))

    # ------------------------------------------------------------------ search
    def sample_initial_population(self, n: int) -> list:
        out, tries = {}, 0
        while len(out) < n and tries < n * 4:
            tries += 1
            r = self.random_recipe()
            s = self.materialize(r)
            if s is not None:
                out.setdefault(state_key(s), (r, s))
        return list(out.values())

    def search(self, num_measure: int) -> list:
        """(recipe, state) pairs to measure next: the cost model's best unmeasured candidates of an
        evolutionary search, and an eps-greedy share of random ones."""
        p = self.params
        init = self.sample_initial_population(int(p["sample_init_min_population"]))
        best_measured = sorted((v for v in self.measured.values() if v[0] is not None), key=lambda v: v[1])[:16]
        pool = {state_key(s): (r, s) for r, s in init}
        for r, _ in best_measured:
            s = self.materialize(r)
            if s is not None:
                pool.setdefault(state_key(s), (r, s))
        scored: dict = {}
        population = list(pool.items())
        for _ in range(int(p["evolutionary_search_num_iters"])):
            fresh = [(k, rs) for k, rs in population if k not in scored]
            if fresh:
                for (k, rs), score in zip(fresh, self.cost_model.predict(self.task, [rs[1] for _, rs in fresh])):
                    scored[k] = (float(score), rs)
            ranked = sorted(((scored[k][0], k) for k, _ in population), reverse=True)
            size = int(p["evolutionary_search_population"])
            parents = [scored[k][1][0] for _, k in ranked[: max(2, size // 4)]]
            children = {}
            for _ in range(size):
                r = self.rng.choice(parents)
                if self.rng.random() < p["evolutionary_search_mutation_prob"]:
                    r = self.mutate(r)
                s = self.materialize(r)
                if s is not None:
                    children.setdefault(state_key(s), (r, s))
            population = [(k, scored[k][1]) for _, k in ranked[: size // 4]] + list(children.items())
        fresh = [(k, rs) for k, rs in population if k not in scored]
        if fresh:
            for (k, rs), score in zip(fresh, self.cost_model.predict(self.task, [rs[1] for _, rs in fresh])):
                scored[k] = (float(score), rs)
        best = [rs for _, k, rs in sorted(((v[0], k, v[1]) for k, v in scored.items()), key=lambda x: -x[0])
                if k not in self.measured]
        n_random = int(round(num_measure * p["eps_greedy"]))
        picked = best[: num_measure - n_random]
        taken = {state_key(s) for _, s in picked} | set(self.measured)
        randoms = [rs for rs in init if state_key(rs[1]) not in taken]
        self.rng.shuffle(randoms)
        return picked + randoms[:n_random]

    def record(self, recipe, state, cost: float) -> None:
        """Remember a measured candidate (its recipe, when the policy made it, seeds the search)."""
        self.measured[state_key(state)] = (recipe, cost)


class EmptyPolicy:
    """Measures the DAG's default schedule once (classic's EmptyPolicy, for tests)."""

    def __init__(self, task=None, init_search_callbacks=None):
        self.task, self.measured = task, {}
        self.init_search_callbacks = list(init_search_callbacks or [])
        self.cost_model = RandomModel()

    def bind(self, task):
        self.task = task
        return self

    def search(self, num_measure: int) -> list:
        s = self.task.compute_dag.get_init_state()
        return [] if state_key(s) in self.measured else [(None, s)]

    def record(self, recipe, state, cost: float) -> None:
        self.measured[state_key(state)] = (recipe, cost)
