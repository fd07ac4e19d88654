"""JSON-lines record files: one line per record, durable appends, torn/corrupt lines skipped
with a warning naming file and line, clear errors for paths that cannot be written."""

import os
import warnings

import pytest

from tilecraft.tuning import append_records, read_records

RECORDS = [{"i": [["matmul", "llvm"], [["SP", 2, 0, 64, [8], 1]]], "r": [[1.5e-4], 0, 0.2, 1700000000],
            "v": "v0.6"},
           {"input": ["llvm", "dense", [], {}], "config": {"index": 3}, "result": [[2e-3], 0, 0.5, 1.0]},
           [1, 2.5, "x", None, True]]


def _read(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        objs = list(read_records(path))
    return objs, [str(w.message) for w in caught]


def test_round_trip_appends_one_line_per_record(tmp_path):
    path = tmp_path / "log.json"
    assert append_records(path, RECORDS[:2]) == 2
    append_records(path, RECORDS[2:])
    assert path.read_text().count("\n") == 3
    objs, warns = _read(path)
    assert objs == RECORDS and warns == []


def test_torn_last_line_is_skipped_with_a_warning_and_appending_goes_on(tmp_path):
    path = tmp_path / "log.json"
    append_records(path, RECORDS)
    whole = path.read_bytes()
    path.write_bytes(whole[:-25])  # a writer killed in the middle of the last line
    objs, warns = _read(path)
    assert objs == RECORDS[:2]
    assert len(warns) == 1 and f"{path}:3:" in warns[0] and "truncated" in warns[0]
    append_records(path, [{"after": "resume"}])  # must not glue onto the fragment
    objs, warns = _read(path)
    assert objs == RECORDS[:2] + [{"after": "resume"}] and len(warns) == 1 and f"{path}:3:" in warns[0]


def test_corrupt_middle_line_and_decode_failures_name_the_line(tmp_path):
    path = tmp_path / "log.json"
    path.write_text('{"a": 1}\n\nnot json at all\n{"a": 2}\n{"b": 3}\n')
    objs, warns = _read(path)
    assert objs == [{"a": 1}, {"a": 2}, {"b": 3}] and len(warns) == 1 and f"{path}:3:" in warns[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert list(read_records(path, decode=lambda o: o["a"])) == [1, 2]
    assert [f"{path}:{n}:" in str(w.message) for w, n in zip(caught, (3, 5))] == [True, True]


def test_unserialisable_object_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "log.json"
    append_records(path, RECORDS[:1])
    before = path.read_bytes()
    with pytest.raises(TypeError):
        append_records(path, [{"ok": 1}, {"bad": object()}])
    assert path.read_bytes() == before


def test_unwritable_paths_raise_errors_naming_the_path(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "log.json"
    with pytest.raises(FileNotFoundError, match=r"no/such/dir.*does not exist"):
        append_records(missing, RECORDS)
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        append_records(tmp_path, RECORDS)
    with pytest.raises(FileNotFoundError, match="log.json"):
        list(read_records(missing))


def test_permission_denied_names_the_path(tmp_path, monkeypatch):
    import tilecraft.tuning.records as records

    def refuse(path, mode="r", *a, **k):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(records, "open", refuse, raising=False)  # works when the tests run as root too
    with pytest.raises(PermissionError, match=r"log.json: permission denied"):
        append_records(tmp_path / "log.json", RECORDS)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only directory")
def test_read_only_directory(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match=r"ro/log.json.*permission denied"):
            append_records(locked / "log.json", RECORDS)
    finally:
        locked.chmod(0o700)
