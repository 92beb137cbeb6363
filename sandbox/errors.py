"""Errors of the sandbox infrastructure (not of candidates: those are verdicts)."""


class SandboxError(RuntimeError):
    """The sandbox infrastructure cannot work (workers do not start)."""


class SandboxSelfCheckError(SandboxError):
    """The start-up self-check failed: the configured limits would mis-judge candidates."""
