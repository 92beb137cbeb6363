"""Expert iteration for code LLMs: ``python main.py fit --config configs/smoke.yaml``."""

from __future__ import annotations

import os
import sys

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException

from cli import preflight
from callbacks.checkpoint_io import AtomicCheckpointIO
from cli.config_file import expand_includes
from cli.refusal import refusing, stopping_on_disk_errors
from datamodules.expert_iteration import ExpertIterationDataModule
from settings.errors import ConfigError
from lightning_modules.policy import PolicyModule
from storage.atomic import write_text_atomic

# Parse errors are raised (and printed as one message by cli.refusal), not printed with usage.
PARSER_KWARGS = {"exit_on_error": False, **{c: {"exit_on_error": False} for c in ("fit", "validate", "test", "predict")}}


class RunConfigSaver(SaveConfigCallback):
    """Saves the parsed config as ``<default_root_dir>/config.yaml`` (atomically, rank 0)."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.already_saved:
            return
        if trainer.is_global_zero:
            path = os.path.join(trainer.default_root_dir, self.config_filename)
            write_text_atomic(path, self.parser.dump(self.config, skip_none=False))
        self.already_saved = True


class ExpertIterationCLI(LightningCLI):
    """Keeps TensorBoard logs and checkpoints in fixed folders of the run, across resumes.

    A bad command line, config or run folder is refused (one message, exit code 2) before the
    model loads or anything is written: parsing, building the classes and ``cli.preflight``
    run under ``refusing()``.
    """

    def parse_arguments(self, parser, args) -> None:
        with refusing():
            super().parse_arguments(parser, args)

    def _parse_ckpt_path(self) -> None:
        # Lightning would silently replace the config's model settings by the checkpoint's; a
        # resumed fit instead compares them (cli.resume_check) and names every difference.
        if self.config.get("subcommand") != "fit":
            with refusing():
                super()._parse_ckpt_path()

    def instantiate_classes(self) -> None:
        with refusing():
            super().instantiate_classes()

    def after_instantiate_classes(self) -> None:
        if self.subcommand == "fit":
            with refusing():
                preflight.run(self.trainer, self.model, self.datamodule, self.config["fit"])

    def _run_subcommand(self, subcommand: str) -> None:
        with stopping_on_disk_errors(self.trainer.default_root_dir):
            super()._run_subcommand(subcommand)

    def instantiate_trainer(self, **kwargs):
        config = self._get(self.config_init, "trainer", default={})
        root = config.get("default_root_dir") or os.getcwd()
        if os.path.exists(root) and not os.path.isdir(root):
            raise ConfigError(f"trainer.default_root_dir = {root!r} is a file; it must be a folder (or not exist)",
                              field="trainer.default_root_dir")
        if config.get("logger") in (None, True):
            kwargs["logger"] = TensorBoardLogger(root, name="tensorboard", version="run", default_hp_metric=False)
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


def cli_main(args: list[str] | None = None, run: bool = True) -> ExpertIterationCLI:
    """Runs the CLI. A refused run raises ``cli.refusal.Refused`` (a SystemExit with code 2)."""
    from_argv = args is None
    args = list(sys.argv[1:] if from_argv else args)
    with refusing():
        args = expand_includes(args)  # refuses bad config files; ``include:`` parts become --config files
    if from_argv:  # LightningCLI warns when given args beside a command line: hand it the expanded argv
        sys.argv[1:], args = args, None
    try:
        return ExpertIterationCLI(
            PolicyModule,
            ExpertIterationDataModule,
            save_config_callback=RunConfigSaver,
            save_config_kwargs={"overwrite": True},
            parser_kwargs=PARSER_KWARGS,
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
