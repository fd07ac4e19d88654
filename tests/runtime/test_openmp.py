"""OpenMP runtime binding: loading, thread control, and parallel generated code."""

import importlib.util
import os
import subprocess
import sys

import numpy as np
from runtime_ir import PADD_IR, THREADS_INFO, THREADS_IR, add_info, artifact

from tilecraft import runtime as rt
from tilecraft.runtime import ndarray as nd

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def test_load_openmp_is_idempotent_and_real():
    path = rt.load_openmp()
    assert path == rt.load_openmp()
    assert any(name in os.path.basename(path) for name in ("gomp", "omp", "iomp5"))


def test_set_num_threads_controls_parallel_regions():
    mod = rt.Module.from_artifact(artifact(THREADS_IR, THREADS_INFO))
    before = rt.num_threads()
    try:
        for n in (1, 2, 3):
            rt.set_num_threads(n)
            assert rt.num_threads() == n
            out = nd.array(np.zeros(64, "int32"))
            mod(out)
            np.testing.assert_array_equal(out.numpy()[:n], n)
            np.testing.assert_array_equal(out.numpy()[n:], 0)
    finally:
        rt.set_num_threads(before)


def test_parallel_add_matches_numpy():
    info = add_info("padd", "float32")
    mod = rt.Module.from_artifact(artifact(PADD_IR, info))
    rng = np.random.default_rng(1)
    for n in (1, 3, 1000, 100_003):
        a, b = rng.standard_normal(n).astype("float32"), rng.standard_normal(n).astype("float32")
        c = nd.empty((n,), "float32")
        mod(nd.array(a), nd.array(b), c)
        np.testing.assert_array_equal(c.numpy(), a + b)


def test_tvm_num_threads_env_is_honoured():
    code = ("from tilecraft import runtime as rt; rt.load_openmp(); print(rt.num_threads())")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), TVM_NUM_THREADS="3")
    env.pop("OMP_NUM_THREADS", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"


def test_import_does_not_import_torch():
    code = "import sys, tilecraft.runtime; print('torch' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def _spin_setting(env: dict, first: str = "") -> str:
    code = f"{first}import os, tilecraft; print(os.environ.get('GOMP_SPINCOUNT'))"
    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_import_keeps_idle_openmp_threads_spinning_unless_the_user_chose():
    """libgomp throttles its spinning to 1000 once PyTorch's threads exist; importing tilecraft
    before libgomp loads sets its unthrottled default, and leaves a user's choice alone."""
    assert _spin_setting({}) == "300000"
    assert _spin_setting({"GOMP_SPINCOUNT": "5"}) == "5"
    assert _spin_setting({"OMP_WAIT_POLICY": "passive"}) == "None"
    if importlib.util.find_spec("torch") is not None:  # torch loads libgomp: too late to matter, nothing set
        assert _spin_setting({}, first="import torch; ") == "None"
