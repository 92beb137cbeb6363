"""Curriculum: the train range rises once the harvest solve rate passes the threshold."""

import lightning as L

from callbacks.curriculum import CurriculumCallback
from callbacks.harvest import HarvestCallback
from callbacks.metrics_file import MetricsCallback
from datamodules.expert_iteration import ExpertIterationDataModule
from tests.loop_helpers import metrics_rows
from tests.test_loop_scripted import ScriptedPolicy


class SolveAll(ScriptedPolicy):
    def sample(self, problem_prompts, n=1, **kwargs):
        out = []
        for prompt in problem_prompts:
            problem = self.datamodule_problem(prompt)
            out.append([f"```python\n{problem.reference}\n```"] * n)
        return out

    def datamodule_problem(self, prompt):
        data = self.trainer.datamodule
        pool = [p for level in range(data.level + 1) for p in data._train_at(level)]
        return next(p for p in pool if p.prompt == prompt)


def test_curriculum_raises_train_range_and_keeps_eval_fixed(tmp_path):
    data = ExpertIterationDataModule(train_size=4, val_size=2, test_size=2, difficulty_min=1, difficulty_max=2,
                                     batch_size=4, max_length=4096, curriculum_step=2)
    data.setup()
    val_before = [p.id for p in data.problems("val")]
    policy = SolveAll([], lora_rank=2, learning_rate=1e-3)
    callbacks = [HarvestCallback(samples_per_problem=1, temperature=1.0, progress=False),
                 CurriculumCallback(threshold=0.75), MetricsCallback(print_table=False)]
    trainer = L.Trainer(default_root_dir=str(tmp_path), max_epochs=2, reload_dataloaders_every_n_epochs=1,
                        callbacks=callbacks, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, limit_val_batches=0)
    trainer.fit(policy, datamodule=data)
    rows = metrics_rows(str(tmp_path))
    assert [(r["harvest/difficulty_min"], r["harvest/difficulty_max"]) for r in rows] == [(1, 2), (1, 2), (3, 4)]
    assert [r.get("curriculum/raised") for r in rows] == [None, 1, 1]
    assert data.level == 2 and data.train_range() == (5, 6)
    assert all(3 <= p.difficulty <= 4 for p in data._train_at(1))
    assert [p.id for p in data.problems("val")] == val_before
    assert (tmp_path / "train_level1.jsonl").exists()
    assert data.state_dict()["level"] == 2
