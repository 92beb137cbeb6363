"""Whatever the model writes becomes a verdict; a non-finite loss never reaches the adapter."""

import math
import types

import pytest
import torch

from callbacks.adapters import save_adapter
from verify.verification import verify_replies
from lightning_modules.policy import PolicyModule
from tasks import make_problem

REPLIES = {
    "empty": "",
    "binary": "```python\n\x00\x01\xff\xfe garbage \x00\n```",
    "enormous": "```python\n" + "x = 1\n" * 200_000 + "```",
    "not python": "I think the answer is to use a stack. Let me explain in prose only.",
    "unterminated": "```python\ndef f(:\n",
    "bytes-like escape": "```python\n" + "\udcff" * 10 + "\n```",
}


@pytest.mark.parametrize("kind", REPLIES)
def test_any_model_output_is_a_verdict(kind):
    problem = make_problem("rpn", 3, seed=1)
    rows = verify_replies([problem], [[REPLIES[kind]]], timeout_s=5)
    assert len(rows) == 1 and rows[0]["passed"] is False
    assert isinstance(rows[0]["status"], str) and rows[0]["status"] != "pass"


class _NaNModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, **kwargs):
        return types.SimpleNamespace(loss=self.w * math.nan)


def test_nonfinite_losses_are_skipped_then_stop_training():
    policy = PolicyModule(max_consecutive_nonfinite=3)
    policy.model = _NaNModel()
    batch = {"input_ids": torch.ones(1, 4, dtype=torch.long), "attention_mask": torch.ones(1, 4),
             "labels": torch.ones(1, 4, dtype=torch.long)}
    assert policy.training_step(batch, 0) is None
    assert policy.training_step(batch, 1) is None
    with pytest.raises(RuntimeError, match="3 steps in a row"):
        policy.training_step(batch, 2)
    assert policy.nonfinite_total == 3


def test_nonfinite_adapter_is_never_saved(tmp_path):
    policy = PolicyModule(lora_rank=2)
    policy.configure_model()
    with torch.no_grad():
        next(p for n, p in policy.named_parameters() if "lora_B" in n).fill_(math.inf)
    with pytest.raises(RuntimeError, match="not finite"):
        save_adapter(policy.model, str(tmp_path), 1)
    assert not (tmp_path / "iter_1").exists()
    with pytest.raises(RuntimeError, match="non-finite adapter"):
        policy.on_save_checkpoint({"state_dict": policy.state_dict()})
