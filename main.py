"""Expert iteration for code LLMs: ``python main.py fit --config configs/smoke.yaml``."""

from __future__ import annotations

import os
import sys

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException

from callbacks.checkpoint_io import AtomicCheckpointIO
from datamodules.expert_iteration import ExpertIterationDataModule
from lightning_modules.policy import PolicyModule


class RunConfigSaver(SaveConfigCallback):
    """Saves the parsed config as ``<default_root_dir>/config.yaml`` (atomically, rank 0)."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.already_saved:
            return
        if trainer.is_global_zero:
            os.makedirs(trainer.default_root_dir, exist_ok=True)
            path = os.path.join(trainer.default_root_dir, self.config_filename)
            self.parser.save(self.config, path + ".tmp", overwrite=True, format="yaml")
            os.replace(path + ".tmp", path)
        self.already_saved = True


class ExpertIterationCLI(LightningCLI):
    """Keeps TensorBoard logs and checkpoints in fixed folders of the run, across resumes."""

    def instantiate_trainer(self, **kwargs):
        config = self._get(self.config_init, "trainer", default={})
        root = config.get("default_root_dir") or os.getcwd()
        if os.path.exists(root) and not os.path.isdir(root):
            raise ValueError(f"trainer.default_root_dir = {root!r} is a file; it must be a folder (or not exist)")
        if config.get("logger") in (None, True):
            kwargs["logger"] = TensorBoardLogger(root, name="tensorboard", version="run")
        callbacks = list(config.get("callbacks") or [])
        if config.get("enable_checkpointing") is not False and not any(isinstance(c, ModelCheckpoint) for c in callbacks):
            # One file, rewritten (atomically) at every epoch end: found by --ckpt_path last.
            # (save_top_k=0 with save_last=True would write nothing until training ends.)
            checkpoint = ModelCheckpoint(dirpath=os.path.join(root, "checkpoints"), filename="last",
                                         save_top_k=1, enable_version_counter=False)
            kwargs["callbacks"] = callbacks + [checkpoint]
        if not config.get("plugins"):
            kwargs["plugins"] = [AtomicCheckpointIO()]
        return super().instantiate_trainer(**kwargs)


def check_config_files(args: list[str]) -> None:
    """Fail with the file's name when a --config file is missing, unreadable or not YAML."""
    import yaml

    paths = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--config", "-c")]
    paths += [a.split("=", 1)[1] for a in args if a.startswith("--config=")]
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                yaml.safe_load(f)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise SystemExit(f"error: config file {path!r} cannot be used: {err}") from None


def cli_main(args: list[str] | None = None, run: bool = True) -> ExpertIterationCLI:
    check_config_files(list(sys.argv[1:] if args is None else args))
    try:
        return ExpertIterationCLI(
            PolicyModule,
            ExpertIterationDataModule,
            save_config_callback=RunConfigSaver,
            save_config_kwargs={"overwrite": True},
            trainer_defaults={"reload_dataloaders_every_n_epochs": 1, "num_sanity_val_steps": 0, "limit_val_batches": 0},
            args=args,
            run=run,
        )
    except SIGTERMException:
        print("Stopped by SIGTERM. checkpoints/last.ckpt holds the last complete outer iteration; "
              "continue with --ckpt_path last", file=sys.stderr)
        raise SystemExit(143) from None


if __name__ == "__main__":
    cli_main()
