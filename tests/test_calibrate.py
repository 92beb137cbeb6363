"""scripts/calibrate.py with a scripted policy: cells, resume, stale prompts, partial recalibration."""
import json

import pytest

from scripts import calibrate
from tests.test_loop_scripted import WRONG


class FirstSampleSolves:
    """Reply 0 of every prompt is the reference solution, the others are wrong; counts prompts."""

    def __init__(self, problems):
        self.by_prompt = {p.prompt: p for p in problems}
        self.prompts = 0

    def sample(self, prompts, n=1, on_replies=None, progress=None, **kwargs):
        replies = [[f"```python\n{self.by_prompt[p].reference}\n```"] + [WRONG] * (n - 1) for p in prompts]
        for i, reply in enumerate(replies):
            on_replies([i], [reply])
            progress(1)
        self.prompts += len(prompts)
        return replies


def _run(tmp_path, families, difficulties="1", problems=2, k=2, out="cal.json", extra=()):
    argv = ["--families", families, "--difficulties", difficulties, "--problems", str(problems), "--k", str(k),
            "--samples", str(tmp_path / "samples.jsonl"), "--out", str(tmp_path / out),
            "--md", str(tmp_path / out.replace(".json", ".md")), *extra]
    wanted = calibrate.cell_problems(families.split(","), [int(d) for d in difficulties.split(",")], problems)
    policy = FirstSampleSolves(wanted)
    summary = calibrate.main(argv, policy=policy)
    return summary, policy, json.loads((tmp_path / out).read_text())


def test_cells_report_mean_and_any_of_k_and_a_rerun_samples_nothing(tmp_path):
    summary, policy, report = _run(tmp_path, "caesar,rpn", "1,2", problems=2, k=4)
    assert policy.prompts == 8 and summary["sampled_problems"] == 8
    assert [(c["family"], c["difficulty"]) for c in report["cells"]] == [
        ("caesar", 1), ("rpn", 1), ("caesar", 2), ("rpn", 2)]
    assert all(c["problems"] == 2 and c["any_of_k"] == 1.0 and c["mean_pass"] == 0.25 for c in report["cells"])
    assert report["k"] == 4 and report["model"] == "qwen2.5-coder-0.5b-instruct" and report["cpu"]
    md = (tmp_path / "cal.md").read_text()
    assert "| caesar | 25% (100%) | 25% (100%) |" in md and report["command"] in md
    summary, policy, again = _run(tmp_path, "caesar,rpn", "1,2", problems=2, k=4)
    assert policy.prompts == 0 and summary["sampled_problems"] == 0 and again["cells"] == report["cells"]


def test_a_killed_run_resumes_with_the_problems_it_had_not_finished(tmp_path):
    _run(tmp_path, "caesar", problems=3)
    lines = (tmp_path / "samples.jsonl").read_text().splitlines()
    (tmp_path / "samples.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:17])  # 1 prompt + a torn row
    summary, policy, report = _run(tmp_path, "caesar", problems=3)
    assert policy.prompts == 2 and report["cells"][0]["problems"] == 3


def test_samples_of_an_older_prompt_do_not_count(tmp_path):
    _run(tmp_path, "caesar", problems=2)
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    for row in rows:
        row["prompt_sha"] = "0" * 16  # as if the family's wording had changed since
        row["passed"] = False
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary, policy, report = _run(tmp_path, "caesar", problems=2)
    assert policy.prompts == 2 and report["cells"][0]["mean_pass"] == 0.5


def test_recalibrating_one_family_keeps_the_other_cells_with_their_date(tmp_path):
    _run(tmp_path, "caesar,rpn", "1,2")
    report = json.loads((tmp_path / "cal.json").read_text())
    for cell in report["cells"]:
        cell.pop("date"), cell.pop("cpu")
        cell["mean_pass"] = 0.125 if cell["family"] == "rpn" else cell["mean_pass"]
    report.update(date="2026-01-01", command="python scripts/calibrate.py --earlier")
    (tmp_path / "cal.json").write_text(json.dumps(report))
    (tmp_path / "samples.jsonl").unlink()
    summary, policy, new = _run(tmp_path, "caesar", "1,2")
    assert policy.prompts == 4 and summary["kept_cells"] == 2
    by_cell = {(c["family"], c["difficulty"]): c for c in new["cells"]}
    assert set(by_cell) == {("caesar", 1), ("caesar", 2), ("rpn", 1), ("rpn", 2)}
    assert by_cell["rpn", 1]["date"] == "2026-01-01" and by_cell["rpn", 1]["mean_pass"] == 0.125
    assert by_cell["caesar", 1]["date"] != "2026-01-01"
    assert [e["command"] for e in new["earlier"]] == ["python scripts/calibrate.py --earlier"]
    assert "--earlier" in (tmp_path / "cal.md").read_text()


@pytest.mark.parametrize("content, message", [
    (None, "k 2 there, 4 here"), ("{not json", "is not a calibration file")])
def test_an_incompatible_out_file_stops_before_sampling_and_stays_as_it_was(tmp_path, capsys, content, message):
    _run(tmp_path, "caesar,rpn")
    if content is not None:
        (tmp_path / "cal.json").write_text(content)
    before = (tmp_path / "cal.json").read_text(), (tmp_path / "cal.md").read_text()
    with pytest.raises(SystemExit) as error:
        _run(tmp_path, "caesar", k=4)
    assert message in str(error.value)
    assert ((tmp_path / "cal.json").read_text(), (tmp_path / "cal.md").read_text()) == before
