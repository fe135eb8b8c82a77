"""The project's own exceptions: each message says what went wrong, where, and what to do."""


class LlmopsError(Exception):
    """An error the user can cause and fix; the CLI prints it as one line and exits non-zero."""


class ConfigError(LlmopsError):
    """params.yaml is missing, malformed, or has an unknown key, wrong type or out-of-range value."""


class DataFormatError(LlmopsError):
    """An input file cannot be read as any supported format, or too much of it is bad."""


class DataValidationError(LlmopsError):
    """The prepared data failed one or more expectations of the validation suite."""


class ModelSourceError(LlmopsError):
    """The base model could not be found or read from the configured source."""


class TrainingError(LlmopsError):
    """A training rank failed; the message names the rank and its error."""


class TrackingError(LlmopsError):
    """The MLflow tracking server or registry could not be reached or gave an unusable answer."""


class RegistryBusyError(LlmopsError):
    """Another deploy or rollback holds the registry lock for longer than we are willing to wait."""


class DeployError(LlmopsError):
    """A deploy or rollback cannot proceed (no evaluated run, unknown version) or the gate refused the model."""


class StageError(LlmopsError):
    """A pipeline stage failed under an orchestrator; the message is the stage's own error line."""

    def __init__(self, stage: str, reason: str, seconds: float = 0.0) -> None:
        super().__init__(f"stage {stage} failed: {reason}")
        self.stage = stage
        self.reason = reason
        self.seconds = seconds


class GateRefusedError(DeployError):
    """The gate refused (or could not judge) the candidate; @champion did not move. Exit code 3, not 1."""

    exit_code = 3


class WorkspaceBusyError(LlmopsError):
    """Another flow run kept the DVC workspace for longer than this one was willing to wait."""
