"""The policy: a causal LM with a LoRA adapter, trained on verified solutions, able to sample."""

from __future__ import annotations

from contextlib import nullcontext

import lightning as L
import torch
from peft import LoraConfig, get_peft_model

from lightning_modules.model_args import check_policy_args, check_target_modules
from lightning_modules.dropout import use_word_dropout
from lightning_modules.loss import answer_loss, answer_loss_with_kl
from lightning_modules.merging import merged_adapter
from lightning_modules.prompting import DEFAULT_SYSTEM_PROMPT, PromptFormat
from generation.sampling import sample_replies
from models.tiny import TINY_MODEL_NAME, load_tiny

DEFAULT_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class PolicyModule(L.LightningModule):
    """Qwen2.5-Coder (or any causal LM) wrapped with PEFT LoRA.

    Args:
        model: hub id, local folder, ``.gguf`` file, packaged short name
            (``qwen2.5-coder-0.5b-instruct``) or ``tiny-random-qwen2`` (tests, smoke runs).
        dtype: ``auto``, ``bf16``, ``fp16`` or ``fp32`` for the frozen base weights.
        lora_rank: LoRA rank r (>= 1).
        lora_alpha: LoRA scaling alpha.
        lora_dropout: dropout on the LoRA input, in [0, 1).
        target_modules: names of the linear layers that get adapters.
        learning_rate: AdamW learning rate (> 0).
        weight_decay: AdamW weight decay (>= 0).
        kl_to_base: weight of KL(base || policy) on the answer tokens, added to the
            cross-entropy (0: plain fine-tuning). A pull toward the base model against
            forgetting; costs one extra forward pass per step. ``train/loss`` stays the
            cross-entropy; the KL is logged as ``train/kl``.
        max_consecutive_nonfinite: stop training after this many non-finite losses in a row.
        reset_adapter_each_iteration: restart the adapter (and optimizer state) from scratch at
            every outer iteration, as STaR and ReST-EM do, instead of continuing it.
        merge_for_sampling: merge the adapter into the weights while sampling (faster; the base
            weights are restored exactly afterwards).
        system_prompt: system message of every chat prompt (null for none).
        seed: seed of the tiny random model (ignored for real models).
    """

    def __init__(
        self,
        model: str = TINY_MODEL_NAME,
        dtype: str = "auto",
        lora_rank: int = 16,
        lora_alpha: int = 32,
        lora_dropout: float = 0.05,
        target_modules: list[str] | None = None,
        learning_rate: float = 2e-4,
        weight_decay: float = 0.0,
        kl_to_base: float = 0.0,
        max_consecutive_nonfinite: int = 3,
        reset_adapter_each_iteration: bool = False,
        merge_for_sampling: bool = True,
        system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
        seed: int = 0,
    ):
        super().__init__()
        check_policy_args(model, dtype, lora_rank, lora_alpha, lora_dropout, learning_rate, weight_decay, kl_to_base)
        check_target_modules(model, target_modules)
        self.save_hyperparameters()
        self.model = None
        self.tokenizer = None
        self.prompt_format: PromptFormat | None = None  # built with the tokenizer in configure_model
        self.strict_loading = False  # checkpoints hold the adapter only
        self.nonfinite_in_row = 0
        self.nonfinite_total = 0

    # ----- building -----------------------------------------------------------------------
    def configure_model(self) -> None:
        if self.model is not None:
            return
        base, self.tokenizer = self._load_base()
        targets = self.hparams.target_modules or DEFAULT_TARGETS
        _check_targets(base, targets)
        config = LoraConfig(
            r=self.hparams.lora_rank,
            lora_alpha=self.hparams.lora_alpha,
            lora_dropout=self.hparams.lora_dropout,
            target_modules=targets,
            task_type="CAUSAL_LM",
        )
        self.model = get_peft_model(base, config)
        use_word_dropout(self.model)  # the same dropout from a quarter of the random draws
        self.prompt_format = PromptFormat(self.tokenizer, self.hparams.system_prompt)
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        if hasattr(datamodule, "connect"):
            datamodule.connect(self.prompt_format)  # how the datamodule encodes its training examples

    def _load_base(self):
        name = self.hparams.model
        if name == TINY_MODEL_NAME:
            return load_tiny(seed=self.hparams.seed)
        from models.source import load_pretrained

        return load_pretrained(name, dtype=self.hparams.dtype)

    def reset_adapter(self) -> None:
        """Re-initialise every LoRA weight (B = 0, so the policy equals the base model again)."""
        for module in self.model.modules():
            if hasattr(module, "reset_lora_parameters"):
                module.reset_lora_parameters("default", True)

    def on_train_epoch_start(self) -> None:
        # Every module trains in train mode (LoRA dropout on). A resumed run's base model comes
        # from from_pretrained in eval mode and Lightning keeps modes as it finds them.
        self.model.train()
        if self.hparams.reset_adapter_each_iteration and self.current_epoch > 0:
            self.reset_adapter()
            for optimizer in self.trainer.optimizers:
                optimizer.state.clear()

    # ----- training -----------------------------------------------------------------------
    def forward(self, input_ids, attention_mask, labels=None):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)

    def training_step(self, batch, batch_idx):
        if batch.get("empty"):
            return None  # nothing verified this iteration: no optimizer step
        args = (self.model, batch["input_ids"], batch["attention_mask"], batch["labels"])
        weight = self.hparams.kl_to_base
        if weight:
            ce, kl = answer_loss_with_kl(*args)
            loss = ce + weight * kl
        else:
            ce, kl = answer_loss(*args), None
            loss = ce
        if not torch.isfinite(loss):
            return self._skip_nonfinite(loss)
        self.nonfinite_in_row = 0
        tokens = int((batch["labels"] != -100).sum())
        self.log("train/loss", ce, prog_bar=True, batch_size=tokens)
        self.log("train/tokens", float(tokens), reduce_fx="sum", batch_size=1)
        if kl is None:
            return loss
        self.log("train/kl", kl, prog_bar=True, batch_size=tokens)
        return {"loss": loss, "ce": ce.detach(), "kl": kl.detach()}

    def _skip_nonfinite(self, loss):
        self.nonfinite_in_row += 1
        self.nonfinite_total += 1
        self.log("train/nonfinite_steps", float(self.nonfinite_total), batch_size=1)
        limit = self.hparams.max_consecutive_nonfinite
        if self.nonfinite_in_row >= limit:
            raise RuntimeError(
                f"training stopped: loss was {loss.item()} for {self.nonfinite_in_row} steps in a row "
                f"(max_consecutive_nonfinite={limit}); lower the learning rate or check the data"
            )
        return None

    def configure_optimizers(self):
        params = [p for p in self.model.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.hparams.learning_rate, weight_decay=self.hparams.weight_decay)

    # ----- checkpoints: adapter weights only ------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        trainable = {n for n, p in self.named_parameters() if p.requires_grad}
        state = checkpoint["state_dict"]
        for key in [k for k in state if k not in trainable]:
            del state[key]
        bad = [k for k, v in state.items() if not torch.isfinite(v).all()]
        if bad:
            raise RuntimeError(f"refusing to save a non-finite adapter: {bad[:3]}")

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in self.named_parameters() if p.requires_grad}

    # ----- sampling -------------------------------------------------------------------------
    def render(self, problem_prompt: str) -> str:
        return self.prompt_format.render(problem_prompt)

    def sample(self, problem_prompts: list[str], **kwargs) -> list[list[str]]:
        """Replies for each problem prompt; keyword arguments as ``sample_replies``."""
        prompts = [self.render(p) for p in problem_prompts]
        with merged_adapter(self.model) if self.hparams.merge_for_sampling else nullcontext():
            return sample_replies(self.model, self.tokenizer, prompts, **kwargs)


def _check_targets(model, targets: list[str]) -> None:
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in names]
    if missing:
        raise ValueError(
            f"model.target_modules {missing} are not modules of this model; "
            f"linear layers it has include {sorted(n for n in names if n.endswith('proj'))}"
        )
