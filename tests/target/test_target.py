"""Target strings: parsing, resolved defaults, printing, the current-target stack, errors."""

from __future__ import annotations

import llvmlite.binding as llvm
import pytest

from tilecraft.target import Target, create

FULL = "llvm -mcpu=znver3 -num-cores=2 -mtriple=x86_64-linux-gnu -mattr=+avx2,+fma -fast-math"


def test_full_llvm_string():
    t = Target(FULL)
    assert t.kind == "llvm"
    assert t.mcpu == "znver3"
    assert t.mtriple == "x86_64-linux-gnu"
    assert t.mattr == ["+avx2", "+fma"]
    assert t.features == "+avx2,+fma"
    assert t.num_cores == 2
    assert t.fast_math is True
    assert t.keys == ("cpu",)
    assert t.vector_width_bits == 256
    assert t.vector_lanes("float32") == 8 and t.vector_lanes("float64") == 4
    assert t.attrs["num-cores"] == 2


def test_str_round_trips_and_is_canonical():
    t = Target(FULL)
    again = Target(str(t))
    assert str(again) == str(t) and again == t and hash(again) == hash(t)
    assert Target("llvm -num-cores=2 -mcpu=znver3") == Target("llvm -mcpu=znver3 -num-cores=2")
    assert str(Target("llvm")) == "llvm"
    assert Target(t) == t
    assert Target(t.export()) == t
    assert t == FULL


def test_host_defaults():
    t = Target("llvm")
    assert t.mcpu == llvm.get_host_cpu_name()
    assert t.mtriple == llvm.get_process_triple()
    assert t.num_cores is None and t.fast_math is False
    host_avx2 = llvm.get_host_cpu_features().get("avx2", False)
    assert (t.vector_width_bits >= 256) == bool(host_avx2)


def test_vector_width_from_cpu_and_features():
    assert Target("llvm -mcpu=skylake-avx512").vector_width_bits == 512
    assert Target("llvm -mcpu=haswell").vector_width_bits == 256
    assert Target("llvm -mcpu=x86-64").vector_width_bits == 128
    assert Target("llvm -mcpu=x86-64 -mattr=+avx512f").vector_width_bits == 512
    assert Target("llvm -mcpu=skylake-avx512 -mattr=-avx512f").vector_width_bits == 256
    assert Target("llvm -mtriple=aarch64-linux-gnu").vector_width_bits == 128


def test_cross_triple_does_not_take_host_cpu():
    t = Target("llvm -mtriple=aarch64-linux-gnu")
    assert t.mcpu == "generic" and t.mattr == []


def test_option_with_space_separated_value_and_flag_value():
    assert Target("llvm -mcpu znver3").mcpu == "znver3"
    assert Target("llvm -fast-math=0").fast_math is False
    assert Target("llvm --num-cores=4").num_cores == 4


def test_cuda_with_host():
    t = Target("cuda -arch=sm_80", host="llvm -mcpu=znver3")
    assert t.kind == "cuda" and t.arch == "sm_80"
    assert t.keys == ("cuda", "gpu")
    assert t.host.kind == "llvm" and t.host.mcpu == "znver3"
    assert t.max_num_threads == 1024 and t.thread_warp_size == 32
    assert "sm_80" in repr(t) and "znver3" in repr(t)
    assert Target("cuda").arch == "sm_80"


def test_keys_device_and_create():
    t = create("llvm -device=arm_cpu -mtriple=aarch64-linux-gnu")
    assert t.keys[0] == "arm_cpu" and "cpu" in t.keys
    assert Target("llvm -keys=a,b").keys == ("a", "b")
    assert Target("c").kind == "c"


def test_current_target_context():
    assert Target.current() is None
    with Target("llvm -num-cores=3") as t:
        assert Target.current() is t
        assert Target(None).num_cores == 3
        with Target("cuda"):
            assert Target.current().kind == "cuda"
        assert Target.current() is t
    assert Target.current() is None
    with pytest.raises(ValueError, match="no current target"):
        Target.current(allow_none=False)
    assert Target(None).kind == "llvm"


@pytest.mark.parametrize("text,match", [
    ("llvm -mcpux=znver3", r"unknown option '-mcpux'.*valid options: .*-mcpu"),
    ("llvm -arch=sm_80", r"unknown option '-arch' for kind 'llvm'"),
    ("cuda -mcpu=x", r"unknown option '-mcpu' for kind 'cuda'.*-arch"),
    ("metal", r"unknown target kind 'metal'; valid kinds: llvm, c, cuda"),
    ("llvm -num-cores=two", r"'-num-cores' takes an integer"),
    ("llvm -num-cores=0", r"must be positive"),
    ("llvm -fast-math=maybe", r"is a flag"),
    ("llvm -mcpu", r"needs a value"),
    ("llvm znver3", r"expected an option starting with '-'"),
    ("", r"empty target string"),
])
def test_errors_name_the_option(text, match):
    with pytest.raises(ValueError, match=match):
        Target(text)


def test_bad_types_and_hosts():
    with pytest.raises(TypeError):
        Target(42)
    with pytest.raises(ValueError, match="host must be a CPU target"):
        Target("cuda", host="cuda")


def test_kind_is_an_object_that_still_compares_as_its_name():
    import pickle

    t = Target("llvm -mcpu=skylake")
    assert t.kind == "llvm" and t.kind.name == "llvm" and t.kind.default_keys == ("cpu",)
    assert Target("cuda").kind.default_keys == ("cuda", "gpu")
    assert pickle.loads(pickle.dumps(t)).kind.name == "llvm"
    assert Target({"kind": "llvm", "mcpu": "skylake"}) == t and t.attrs["mcpu"] == "skylake"


def test_classic_constructors():
    import tilecraft as tvm

    assert str(tvm.target.llvm("-mcpu=skylake")) == "llvm -mcpu=skylake"
    gpu = tvm.target.cuda(arch="sm_86")
    assert gpu.kind.name == "cuda" and gpu.arch == "sm_86" and "gpu" in gpu.keys
    pi = tvm.target.arm_cpu("rasp3b")
    assert pi.mtriple == "armv7l-linux-gnueabihf" and pi.keys[0] == "arm_cpu" and "+neon" in pi.mattr
    with pytest.raises(ValueError, match="unknown board 'rasp9'.*rasp3b"):
        tvm.target.arm_cpu("rasp9")


def test_native_cpu_is_this_machine():
    t = Target("llvm -mcpu=native")
    assert t.mcpu == llvm.get_host_cpu_name()
    assert t.mattr == Target("llvm").mattr


@pytest.mark.parametrize("text, named, suggestion", [
    ("llvm -mcpu=skylakx", "'skylakx'", "'skylake'"),
    ("llvm -mattr=+avx9", "'+avx9'", "'+avx2'"),
    ("llvm -mcpu=skylake -mattr=+avx2,+fmaa", "'+fmaa'", "'+fma'"),
    ("llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a7x", "'cortex-a7x'", "'cortex-a72'"),
])
def test_unknown_cpu_or_feature_is_refused_with_close_matches(text, named, suggestion):
    with pytest.raises(ValueError) as info:
        Target(text)
    msg = str(info.value)
    assert named in msg and suggestion in msg and text in msg


def test_unsigned_feature_is_refused_before_llvm_sees_it():
    """LLVM aborts the process on an -mattr entry without + or -."""
    with pytest.raises(ValueError, match=r"'\+avx2' to enable"):
        Target("llvm -mattr=avx2")


def test_unknown_cpu_in_a_build_does_not_kill_the_process():
    """LLVM kills the process on x86-64 for a CPU it does not know ('64-bit code requested ...')."""
    import subprocess
    import sys

    code = ("import tilecraft as tvm\nfrom tilecraft import te\n"
            "A = te.placeholder((8,), name='A'); B = te.compute((8,), lambda i: A[i] * 2, name='B')\n"
            "try:\n    tvm.build(te.create_schedule(B.op), [A, B], target='llvm -mcpu=notacpu')\n"
            "except ValueError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and "'notacpu'" in out.stdout
    assert "LLVM ERROR" not in out.stderr


def test_host_target_honours_features_the_hypervisor_hides(monkeypatch):
    """A znver4 whose AVX-512 is masked by the hypervisor: the model name implies AVX-512, the
    host's feature list says no; Target("llvm") must follow the feature list (code for the model
    would be refused at run time, or die of SIGILL)."""
    import llvmlite.binding as llvm

    from tilecraft.target import target as target_mod

    features = {"avx": True, "avx2": True, "fma": True, "sse4.2": True, "avx512f": False,
                "avx512bw": False, "avx512dq": False, "avx512vl": False}
    monkeypatch.setattr(llvm, "get_host_cpu_name", lambda: "znver4")
    monkeypatch.setattr(llvm, "get_host_cpu_features", lambda: features)
    target_mod._host.cache_clear()
    try:
        t = Target("llvm")
        assert t.mcpu == "znver4"
        assert not t.has_feature("avx512f") and t.has_feature("avx2")
        assert t.vector_width_bits == 256
        assert "-avx512f" in t.features.split(",")
    finally:
        target_mod._host.cache_clear()
