"""A search task: a computation (ComputeDAG + workload key), the target it is tuned for and the
hardware parameters the search policy reads."""

from __future__ import annotations

import os

from ..target import Target
from .compute_dag import ComputeDAG, LayoutRewriteOption
from .workload_registry import (
    WORKLOAD_FUNC_REGISTRY,
    decode_workload_key,
    make_workload_key,
    register_workload_tensors,
)


def _num_cores() -> int:
    env = os.environ.get("TVM_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cache_line_bytes() -> int:
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index0/coherency_line_size") as f:
            v = int(f.read().strip())
            return v if v > 0 else 64
    except (OSError, ValueError):
        return 64


class HardwareParams:
    """What the search knows about the hardware (classic fields, in record order).  A field left
    None takes the default for `target` read from this machine: the cores this process may use
    (TVM_NUM_THREADS or the CPU affinity; a target's -num-cores wins), the vector width of the
    target's CPU, the cache line size; GPU limits from the CUDA target."""

    FIELDS = ("num_cores", "vector_unit_bytes", "cache_line_bytes", "max_shared_memory_per_block",
              "max_local_memory_per_block", "max_threads_per_block", "max_vthread_extent", "warp_size")

    def __init__(self, num_cores=None, vector_unit_bytes=None, cache_line_bytes=None,
                 max_shared_memory_per_block=None, max_local_memory_per_block=None, max_threads_per_block=None,
                 max_vthread_extent=None, warp_size=None, target=None, target_host=None):
        given = dict(num_cores=num_cores, vector_unit_bytes=vector_unit_bytes, cache_line_bytes=cache_line_bytes,
                     max_shared_memory_per_block=max_shared_memory_per_block,
                     max_local_memory_per_block=max_local_memory_per_block,
                     max_threads_per_block=max_threads_per_block, max_vthread_extent=max_vthread_extent,
                     warp_size=warp_size)
        defaults = self.defaults(target) if target is not None else {}
        self._check(given, target)
        for k in self.FIELDS:
            v = given[k] if given[k] is not None else defaults.get(k, 0)
            setattr(self, k, int(v))

    @staticmethod
    def defaults(target) -> dict:
        t = target if isinstance(target, Target) else Target(str(target))
        if t.kind == "cuda":
            return dict(num_cores=-1, vector_unit_bytes=16, cache_line_bytes=64,
                        max_shared_memory_per_block=t.max_shared_memory_per_block,
                        max_local_memory_per_block=2147483647, max_threads_per_block=t.max_num_threads,
                        max_vthread_extent=8, warp_size=t.thread_warp_size)
        return dict(num_cores=t.num_cores or _num_cores(), vector_unit_bytes=t.vector_width_bits // 8,
                    cache_line_bytes=_cache_line_bytes(), max_shared_memory_per_block=0,
                    max_local_memory_per_block=0, max_threads_per_block=0, max_vthread_extent=0, warp_size=0)

    def to_list(self) -> list:
        return [getattr(self, k) for k in self.FIELDS]

    @staticmethod
    def _check(given: dict, target) -> None:
        """A count the user gives must be positive (0 for the GPU fields of a CPU target); num_cores -1 is
        classic's value for a CUDA target, which has no CPU cores: a CPU search would never parallelise."""
        cuda = target is not None and (target if isinstance(target, Target) else Target(str(target))).kind == "cuda"
        for k, v in given.items():
            if v is None:
                continue
            if isinstance(v, bool) or not hasattr(v, "__index__"):
                raise TypeError(f"HardwareParams: {k} must be an int, got {v!r}")
            low = 1 if k in ("num_cores", "vector_unit_bytes", "cache_line_bytes") else 0
            if v < low and not (k == "num_cores" and v == -1 and cuda):
                raise ValueError(f"HardwareParams: {k} must be {'positive' if low else '>= 0'}, got {v}"
                                 + ("; -1 (no CPU cores) goes only with target='cuda', and leaving num_cores "
                                    "None takes the target's default" if k == "num_cores" else ""))

    @classmethod
    def from_list(cls, values) -> HardwareParams:
        """From a record, as stored (a CUDA task's num_cores is -1): not re-checked."""
        hw = cls.__new__(cls)
        for k, v in zip(cls.FIELDS, list(values)[:len(cls.FIELDS)]):
            setattr(hw, k, int(v))
        return hw

    def __eq__(self, other):
        return isinstance(other, HardwareParams) and self.to_list() == other.to_list()

    def __hash__(self):
        return hash(tuple(self.to_list()))

    def __repr__(self) -> str:
        return "HardwareParams(" + ", ".join(f"{k}={getattr(self, k)}" for k in self.FIELDS) + ")"

    def __str__(self) -> str:
        return "HardwareParams:\n" + "".join(f"  {k}: {getattr(self, k)}\n" for k in self.FIELDS)


_DAGS: dict = {}


def _dag_for_key(workload_key: str) -> ComputeDAG:
    """One ComputeDAG per workload key for tasks read from records (a log holds many lines per key)."""
    dag = _DAGS.get(workload_key)
    if dag is None:
        dag = ComputeDAG(workload_key)
        if len(_DAGS) > 512:
            _DAGS.clear()
        _DAGS[workload_key] = dag
    return dag


def _as_target(target, target_host=None):
    if target is None:
        raise ValueError("SearchTask needs a target, e.g. target=\"llvm\"")
    return Target(target, host=target_host) if target_host is not None else Target(target)


class SearchTask:
    """A computation to tune for a target.

        task = SearchTask(func=matmul, args=(1024, 1024, 1024), target="llvm")
        task = SearchTask(workload_key='["matmul", 1024, 1024, 1024]', target="llvm")
        task = SearchTask(compute_dag=dag, workload_key=dag.workload_key(), target="llvm")
    """

    def __init__(self, func=None, args=None, compute_dag=None, workload_key=None, target=None, target_host=None,
                 hardware_params=None, layout_rewrite_option=None, task_inputs=None,
                 task_inputs_overwrite=False, task_inputs_save_to_file=False, desc=""):
        if func is None and workload_key is None and compute_dag is None:
            raise ValueError("SearchTask needs a registered workload function (func=, args=), a workload_key, "
                             "or a compute_dag")
        if func is not None:
            workload_key = make_workload_key(func, args)
        if compute_dag is None:
            compute_dag = ComputeDAG(workload_key)
        if workload_key is None:
            workload_key = compute_dag.workload_key()
            register_workload_tensors(workload_key, compute_dag.tensors)
        self._compute_dag = compute_dag
        self.workload_key = workload_key
        self.target = _as_target(target, target_host)
        self.target_host = self.target.host
        self.hardware_params = hardware_params if hardware_params is not None else HardwareParams(target=self.target)
        if layout_rewrite_option is None:
            layout_rewrite_option = LayoutRewriteOption.get_target_default(self.target)
        self.layout_rewrite_option = int(layout_rewrite_option)
        if isinstance(task_inputs, dict):
            self.task_input_names = list(task_inputs)
            self.task_inputs = dict(task_inputs)
        elif isinstance(task_inputs, (list, tuple)):
            self.task_input_names, self.task_inputs = list(task_inputs), {}
        elif task_inputs is None:
            self.task_input_names, self.task_inputs = [], {}
        else:
            raise ValueError("task_inputs must be a dict {name: array} or a list of names")
        self.desc = desc
        # the relay group the task was extracted from (extract_tasks): its strategy kernels are the
        # candidate with no transform steps, measured first
        self.default_group = None

    @classmethod
    def from_record(cls, record_task: list) -> SearchTask:
        """The task of a v0.6 record ([workload_key, target, hardware params, target_host,
        layout_rewrite_option, task input names]; the later fields may be missing).  Its
        ComputeDAG is built from the workload key only when asked for, so reading a log is cheap
        and works for workloads this process has not registered."""
        task = cls.__new__(cls)
        key, target = record_task[0], record_task[1]
        hw = record_task[2] if len(record_task) > 2 else None
        host = record_task[3] if len(record_task) > 3 else ""
        task._compute_dag = None
        task.workload_key = key
        task.target = _as_target(target, host or None)
        task.target_host = task.target.host
        task.hardware_params = (HardwareParams.from_list(hw) if hw is not None
                                else HardwareParams(target=task.target))
        task.layout_rewrite_option = int(record_task[4]) if len(record_task) > 4 else LayoutRewriteOption.NO_REWRITE
        task.task_input_names = list(record_task[5]) if len(record_task) > 5 else []
        task.task_inputs = {}
        task.desc = ""
        task.default_group = None
        return task

    @property
    def compute_dag(self) -> ComputeDAG:
        if self._compute_dag is None:
            self._compute_dag = _dag_for_key(self.workload_key)
        return self._compute_dag

    @compute_dag.setter
    def compute_dag(self, dag) -> None:
        self._compute_dag = dag

    def default_schedule(self):
        """(te schedule, tensors) of the candidate with no transform steps: the strategies' kernels
        of the relay group the task came from (what relay.build uses without a record), or the
        computation's naive schedule for a te workload."""
        if self.default_group is None:
            return self.compute_dag.apply_steps_from_state([], self.layout_rewrite_option)
        from ..relay.backend.te_compiler import default_group_schedule

        with self.target:
            sch, tensors, _ = default_group_schedule(self.default_group, self.desc or "default", self.target)
        return sch, tensors

    def schedule_from_steps(self, steps, layout_rewrite_option=None):
        """(te schedule, tensors) of a candidate's transform steps; no steps: the default schedule."""
        if not steps:
            return self.default_schedule()
        return self.compute_dag.apply_steps_from_state(steps, layout_rewrite_option or self.layout_rewrite_option)

    # ------------------------------------------------------------------ tuning, best records
    def tune(self, tuning_options=None, search_policy=None, adaptive_training=False):
        """Search schedules for this task (auto_schedule.auto_schedule with these options)."""
        from .auto_schedule import auto_schedule

        return auto_schedule(self, search_policy, tuning_options)

    def _best(self, log_file):
        from .measure_record import load_best_record

        inp, _ = load_best_record(log_file, self.workload_key)
        if inp is None:
            raise RuntimeError(f"no valid record for workload {self.workload_key} in {log_file}: tune the task "
                               f"with RecordToFile({log_file!r}) first, or check the log is for this workload")
        return inp

    def apply_best(self, log_file, include_compatible=False, layout_rewrite_option=None):
        """(te schedule, tensors) of the fastest valid record of this workload in log_file."""
        return self.schedule_from_steps(self._best(log_file).steps, layout_rewrite_option)

    def print_best(self, log_file, print_mode="schedule") -> str:
        """The fastest record's schedule as te schedule code ("schedule"), or its CUDA source ("cuda")."""
        inp = self._best(log_file)
        if print_mode == "schedule":
            if not inp.steps and self.default_group is not None:
                return (f"# {self.desc or self.workload_key}: the default schedule (the operator strategies' "
                        "kernels) measured fastest; no transform steps\n")
            return self.compute_dag.print_python_code_from_state(inp.steps)
        if print_mode == "cuda":
            from ..driver.build_module import build

            sch, args = self.schedule_from_steps(inp.steps)
            return build(sch, args, target=self.target).get_source()
        raise ValueError(f"print_mode must be 'schedule' or 'cuda', got {print_mode!r}")

    # ------------------------------------------------------------------ identity, pickling
    def record_prefix(self) -> list:
        """The task part of a v0.6 record: [workload_key, target, hardware params, target_host,
        layout_rewrite_option, task input names]."""
        return [self.workload_key, str(self.target), self.hardware_params.to_list(),
                str(self.target_host) if self.target_host is not None else "", self.layout_rewrite_option,
                list(self.task_input_names)]

    def __getstate__(self):
        return {"compute_dag": self.compute_dag, "workload_key": self.workload_key, "target": str(self.target),
                "target_host": str(self.target_host) if self.target_host is not None else None,
                "hardware_params": self.hardware_params.to_list(),
                "layout_rewrite_option": self.layout_rewrite_option, "task_input_names": self.task_input_names,
                "desc": self.desc, "default_group": self.default_group}

    def __setstate__(self, state):
        name = decode_workload_key(state["workload_key"])[0]
        if name not in WORKLOAD_FUNC_REGISTRY and state["workload_key"] not in WORKLOAD_FUNC_REGISTRY:
            # A workload registered in the parent's __main__ or extracted from a model: the
            # pickled DAG carries its tensors.
            register_workload_tensors(state["workload_key"], state["compute_dag"].tensors)
        self._compute_dag = state["compute_dag"]
        self.workload_key = state["workload_key"]
        self.target = _as_target(state["target"], state["target_host"])
        self.target_host = self.target.host
        self.hardware_params = HardwareParams.from_list(state["hardware_params"])
        self.layout_rewrite_option = state["layout_rewrite_option"]
        self.task_input_names = list(state["task_input_names"])
        self.task_inputs = {}
        self.desc = state["desc"]
        self.default_group = state.get("default_group")

    def __repr__(self) -> str:
        return f"SearchTask({self.workload_key}, target={str(self.target)!r})"
