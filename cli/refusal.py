"""Refusing a run: one message (what, where, what is allowed, how to fix), no traceback, exit code 2.

Errors raised while the command line and config are parsed, the classes built and the run
checked (``cli.preflight``) become a ``Refused``; ``EXPERT_ITER_TRACEBACK=1`` prints the
traceback as well. Disk errors while the run writes its files (no space, read-only, quota) end it
with one message and exit code 1.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import traceback
from contextlib import contextmanager

from settings.errors import ConfigError

TRACEBACK_ENV = "EXPERT_ITER_TRACEBACK"
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
PERMISSION_ERRNOS = {errno.EACCES, errno.EPERM}  # only for a file of the run
_SPELLING = ("is not accepted", "does not accept option", "unrecognized arguments", "has no attribute",
             "No module named")
_OWNERS = {"harvest": "callbacks.harvest.HarvestCallback", "evaluation": "callbacks.evaluation.EvaluationCallback",
           "humaneval": "callbacks.humaneval_eval.HumanEvalCallback", "adapters": "callbacks.adapters.AdapterCheckpoint"}


class Refused(SystemExit, ValueError, RuntimeError):
    """The run was refused (or stopped by a disk error); its message is already printed.

    A ``SystemExit`` with ``code`` (2 for a refusal), so the command ends without a traceback; also a
    ValueError and RuntimeError, so code that calls ``cli_main`` in-process can catch it as either.
    """

    def __init__(self, message: str, code: int = 2):
        super().__init__(code)
        self.message = message

    def __str__(self) -> str:
        return self.message


def root_message(err: BaseException) -> str:
    """The message that says what is wrong, without the wrappers jsonargparse and Lightning add.

    Our own ``ConfigError`` wins; otherwise the innermost cause, prefixed with the config key and
    the class it was raised for when the wrappers name them and it does not.
    """
    chain = _chain(err)
    ours = [e for e in chain if isinstance(e, ConfigError)]
    if ours:
        return str(ours[-1])
    message = str(chain[-1]).strip() or type(chain[-1]).__name__
    texts = [str(e) for e in chain]
    class_path = [m.group(1) for t in texts for m in re.finditer(r"given class_path '([^']+)'", t)]
    key = next((m.group(1) for t in texts if (m := re.match(r'Parser key "([^"]+)"', t))), None)
    for context in (class_path[-1] if class_path else None, key):
        if context and context not in message:
            message = f"{context}: {message}"
    return message


def _chain(err: BaseException | None) -> list[BaseException]:
    """``err`` and its explicit causes, outermost first; an implicit context is followed only to
    our own ``ConfigError`` (others are unrelated handling inside the libraries)."""
    chain: list[BaseException] = []
    while err is not None and all(err is not e for e in chain):
        chain.append(err)
        context = None if err.__suppress_context__ else err.__context__
        err = err.__cause__ or (context if isinstance(context, ConfigError) else None)
    return chain


def fix_hint(err: BaseException, message: str) -> str | None:
    """How to repair it: the error's own ``fix``, else one derived from the field it names."""
    if getattr(err, "fix", None):
        return err.fix
    if any(s in message for s in _SPELLING):
        return "check the spelling: `python main.py fit --help` lists every option"
    fields = [getattr(err, "field", None)] if getattr(err, "field", None) else []
    fields = fields or [m.group(1) for m in [re.match(r"([a-z_]+\.[a-z_@0-9]+)(?: = |: )", message)] if m]
    if not fields:
        return None
    names = re.findall(r"[a-z_]+\.[a-z_@0-9]+", fields[0])
    owner = names[0].split(".")[0]
    if owner in _OWNERS:
        keys = " / ".join(n.split(".", 1)[1] for n in names)
        return f"change {keys} in the init_args of {_OWNERS[owner]} (trainer.callbacks in the config file)"
    return "change " + " or ".join(f"{n} (in the config file, or --{n}=VALUE)" for n in names)


def refuse(err: BaseException, code: int = 2) -> Refused:
    """Print ``err`` as one message on stderr and return the ``Refused`` to raise."""
    message = root_message(err)
    ours = [e for e in _chain(err) if isinstance(e, ConfigError)]
    fix = fix_hint(ours[-1] if ours else err, message)
    text = f"error: {message}" + (f"\nfix: {fix}" if fix else "")
    if os.environ.get(TRACEBACK_ENV) == "1":
        traceback.print_exception(err, file=sys.stderr)
    else:
        text += f"\n(refused before anything was loaded or written; {TRACEBACK_ENV}=1 shows the traceback)" \
            if code == 2 else f"\n({TRACEBACK_ENV}=1 shows the traceback)"
    print(text, file=sys.stderr, flush=True)
    return Refused(text[len("error: "):], code)


@contextmanager
def refusing():
    """Turn errors of a bad config (raised while parsing, building or checking) into a ``Refused``."""
    from argparse import ArgumentError

    try:
        yield
    except Refused:
        raise
    except (ValueError, TypeError, KeyError, OSError, ArgumentError) as err:
        raise refuse(err) from None


@contextmanager
def stopping_on_disk_errors(root: str):
    """A full disk, a quota or a read-only folder while the run writes: one message, exit code 1."""
    try:
        yield
    except OSError as err:
        ours = bool(err.filename) and os.path.abspath(str(err.filename)).startswith(os.path.abspath(root))
        if not (err.errno in DISK_ERRNOS or (err.errno in PERMISSION_ERRNOS and ours)):
            raise
        where = f" ({err.filename})" if err.filename else ""
        failure = ConfigError(f"writing the run's files under {root} failed: {os.strerror(err.errno)}{where}",
                              fix="every file is written to a temporary file and renamed (or appended whole), so "
                                  "the files already there are intact; free space or make the folder writable, "
                                  "then continue with --ckpt_path last")
        failure.__cause__ = err
        raise refuse(failure, code=1) from None
