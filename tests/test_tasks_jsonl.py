"""JSONL round trip, atomic writes, truncated-tail recovery and mid-file corruption."""
import os

import pytest

from tasks import FAMILIES, load_jsonl, make_problem, save_jsonl


@pytest.fixture
def problems():
    return [make_problem(f, d, 5) for f in FAMILIES for d in (1, 9)]


def test_round_trip(tmp_path, problems):
    path = tmp_path / "train.jsonl"
    save_jsonl(problems, path)
    assert load_jsonl(path) == problems
    assert path.read_text().count("\n") == len(problems)
    assert os.listdir(tmp_path) == ["train.jsonl"]  # no temporary file left behind


def test_overwrite_replaces_whole_file(tmp_path, problems):
    path = tmp_path / "val.jsonl"
    save_jsonl(problems, path)
    save_jsonl(problems[:2], str(path))
    assert load_jsonl(path) == problems[:2]


def test_failed_write_keeps_the_old_file(tmp_path, problems):
    path = tmp_path / "test.jsonl"
    save_jsonl(problems[:3], path)

    def broken():
        yield problems[0]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        save_jsonl(broken(), path)
    assert load_jsonl(path) == problems[:3]
    assert os.listdir(tmp_path) == ["test.jsonl"]


def test_truncated_last_line_is_dropped_with_a_warning(tmp_path, problems):
    path = tmp_path / "train.jsonl"
    save_jsonl(problems[:3], path)
    text = path.read_text()
    path.write_text(text + text.splitlines()[0][:57])  # a crash mid-append
    with pytest.warns(UserWarning, match="truncated"):
        assert load_jsonl(path) == problems[:3]


def test_corrupt_middle_line_names_file_and_line(tmp_path, problems):
    path = tmp_path / "train.jsonl"
    save_jsonl(problems[:3], path)
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1][:40] + "\n"
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=r"train\.jsonl:2"):
        load_jsonl(path)


def test_wrong_record_shape_is_an_error_even_on_the_last_line(tmp_path, problems):
    path = tmp_path / "train.jsonl"
    save_jsonl(problems[:1], path)
    with open(path, "a") as f:
        f.write('{"id": "x"}')
    with pytest.raises(ValueError, match=r"train\.jsonl:2.*missing"):
        load_jsonl(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    save_jsonl([], path)
    assert load_jsonl(path) == []


@pytest.mark.parametrize("before, after", [
    ('{"a": 1}\n{"a": 2', '{"a": 1}\n{"a": 3}\n'),  # a row cut short by a crash: dropped first
    ('{"a": 2', '{"a": 3}\n'),                       # the only row, cut short
    ('{"a": 1}\n', '{"a": 1}\n{"a": 3}\n'),          # intact: appended to
    ('', '{"a": 3}\n')])
def test_append_row_after_a_torn_last_line_keeps_the_file_readable(tmp_path, before, after):
    from storage.atomic import append_row, read_rows

    path = tmp_path / "rows.jsonl"
    path.write_text(before)
    append_row(path, {"a": 3})
    assert path.read_text() == after and read_rows(path)[-1] == {"a": 3}
