"""DaskBuilder / DaskRunner on a LocalCluster: the same results as the local classes, with
crashes isolated in the Dask worker's own worker processes."""

import pytest
from tuning_candidates import Matmul

from tilecraft.tuning import LocalRunner, MeasureErrorNo

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (pip install "
                                  "'tilecraft[tune]'); the Dask builder and runner need it")
E = MeasureErrorNo


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


def test_dask_build_and_run_gives_the_same_kind_of_results(client):
    from tilecraft.tuning import DaskBuilder, DaskRunner

    kinds = ["ok", "segv", "bad_instantiate", "wrong", "ok"]
    inputs = [Matmul(n=16, factor=4, kind=k) for k in kinds]
    builds = DaskBuilder(client, timeout=20).build(inputs, verbose=0)
    assert [b.error_no for b in builds] == [E.NO_ERROR, E.NO_ERROR, E.INSTANTIATION_ERROR, E.NO_ERROR, E.NO_ERROR]
    ok = builds[0]
    assert ok.data is not None and ok.data[:4] in (b"\x7fELF", b"lib.") and ok.arg_info == (((16, 16), "float32"),) * 3
    runner = DaskRunner(client, timeout=10, number=1, repeat=1, min_repeat_ms=0, check_correctness=True)
    results = runner.run(inputs, builds, verbose=0)
    assert [r.error_no for r in results] == [E.NO_ERROR, E.RUNTIME_DEVICE, E.INSTANTIATION_ERROR,
                                             E.WRONG_ANSWER, E.NO_ERROR], results
    assert "SIGSEGV" in results[1].error_msg
    assert all(0 < r.costs[0] < 1 for r in (results[0], results[4]))
    # bytes-carrying build results measure on this machine too
    with LocalRunner(timeout=10, number=1, repeat=1, min_repeat_ms=0) as local:
        assert local.run(inputs[:1], builds[:1], verbose=0)[0].error_no == E.NO_ERROR


def test_dask_builder_and_runner_accept_a_scheduler_address(client):
    from tilecraft.tuning import DaskBuilder, DaskRunner

    address = client.scheduler.address
    with DaskBuilder(address, timeout=20) as b, DaskRunner(address, timeout=10, number=1, repeat=1,
                                                           min_repeat_ms=0) as r:
        inputs = [Matmul(n=8, factor=2)]
        (res,) = r.run(inputs, b.build(inputs, verbose=0), verbose=0)
    assert res.error_no == E.NO_ERROR and res.costs[0] > 0
