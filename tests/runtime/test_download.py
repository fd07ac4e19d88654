"""contrib.download: a cached file is used without the network; an unreachable URL says where the
file should go, and leaves nothing half-written."""

import pytest

from tilecraft.contrib import download


def test_cached_file_is_used_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TVM_TEST_DATA", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "cat.png").write_bytes(b"cached")
    path = download.download_testdata("http://unreachable.invalid/cat.png", "cat.png", module="models")
    assert open(path, "rb").read() == b"cached"


def test_unreachable_url_explains_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TVM_TEST_DATA", str(tmp_path))
    with pytest.raises(RuntimeError, match="put it at .*data.bin"):
        download.download_testdata("http://unreachable.invalid/data.bin", "data.bin", module=["a", "b"])
    assert not list(tmp_path.rglob("*.part")) and not (tmp_path / "a" / "b" / "data.bin").exists()
