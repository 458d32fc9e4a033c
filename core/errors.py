"""The error hierarchy; adapters and clients translate SDK errors into these at the boundary."""

from __future__ import annotations


class HearthError(Exception):
    """Base of every error hearth raises on purpose."""


class ConfigError(HearthError):
    """A configuration value is missing or malformed; the message names the variable."""


class PlatformError(HearthError):
    """A chat platform refused or failed a call."""


class RateLimited(PlatformError):
    """The platform asked us to slow down for ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"rate limited for {retry_after:.1f}s")
        self.retry_after = max(0.0, float(retry_after))


class MessageTooLong(PlatformError):
    """The text exceeds what the platform accepts in one message."""


class LLMError(HearthError):
    """A model call failed: server unreachable, model missing, malformed stream."""


class LLMUnavailable(LLMError):
    """The model server cannot be reached or the model is not available."""


class BudgetExceeded(HearthError):
    """A cloud call would pass a daily spending cap, so it was not made."""


class ToolError(HearthError):
    """A tool refused its input; the message is shown to the model."""


class StorageError(HearthError):
    """The database failed, e.g. a migration that could not be applied."""


class TaskFailed(HearthError):
    """A task could not be finished; its thread was already told why (no second message)."""


class Redelivered(HearthError):
    """A platform delivered a message already handled (before a restart): nothing is started."""
