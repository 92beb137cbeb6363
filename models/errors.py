"""The one error the model loaders raise."""


class ModelSourceError(RuntimeError):
    """A model could not be fetched, verified or converted (message says why and what to do)."""
