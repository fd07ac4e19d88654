"""`tilecraft profile MODEL`: builds the zoo's MLP, verifies it, prints the per-kernel table."""

import json

import pytest

from tilecraft.harness.cli import main

pytest.importorskip("torch")


def test_profile_mlp(tmp_path, capsys):
    out = tmp_path / "profile.json"
    code = main(["profile", "mlp", "--top", "2", "--number", "2", "--peak-gflops", "150", "--peak-gbps", "20",
                 "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    lines = printed.splitlines()
    assert lines[0].split()[:5] == ["#", "Kernel", "Time(ms)", "Share", "Calls"] and "%Peak" in lines[0]
    rows = [line for line in lines[2:] if line.split()[0].isdigit()]
    assert len(rows) == 2 and all("fused_" in r for r in rows)
    assert "top 2 of 3 kernels" in printed and "150 GFLOP/s (given)" in printed
    assert "mlp: verification passed" in printed
    report = json.loads(out.read_text())
    assert report["verification"]["status"] == "passed" and len(report["kernels"]) == 3
    dense = [k for k in report["kernels"] if "dense" in k["name"]]
    assert dense and all(k["flops"] > 0 and k["gflops"] > 0 for k in dense)


def test_profile_unknown_model(capsys):
    assert main(["profile", "no_such_model"]) == 1
    assert "no_such_model" in capsys.readouterr().err
