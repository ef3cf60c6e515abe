"""The one exception tree of Synthos.

    SynthosError                      base of everything Synthos raises on purpose
    +-- InputError                    the user's input cannot be used (CLI exit 2, HTTP 400)
    |   +-- DatasetNotFound           the path does not exist or is not a file
    |   +-- UnreadableDataset         the bytes cannot be parsed in the claimed/detected format
    |   +-- UnsupportedFormat         the format is not one we read
    |   +-- EmptyDataset              no rows (empty file, header only)
    |   +-- NoUsableColumns           nothing left to measure after typing the columns
    |   +-- SchemaMismatch            dataset and reference have no usable column in common
    |   +-- InvalidOption             an option value is out of range
    |   +-- NotEligible               the result does not meet the warranty eligibility rule
    |   +-- InvalidKey                a signing/verification key cannot be read or used
    |   +-- IllegalClaimTransition    a warranty claim cannot move to the requested status
    |   +-- CorruptShardState         bytes that are not a readable partial state of a shard
    |   +-- IncompatibleShardStates   partial states that cannot be merged
    +-- EngineError                   a defect or an unexpected numeric state inside the engine

Errors carry a stable ``code`` (for API payloads and Step Functions Catch) and a one-line
message meant for a human. Nothing matches on message text.
"""

from __future__ import annotations


class SynthosError(Exception):
    """Base class of every error Synthos raises on purpose."""

    code = "synthos_error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InputError(SynthosError):
    code = "invalid_input"


class DatasetNotFound(InputError):
    code = "dataset_not_found"


class UnreadableDataset(InputError):
    code = "unreadable_dataset"


class UnsupportedFormat(InputError):
    code = "unsupported_format"


class EmptyDataset(InputError):
    code = "empty_dataset"


class NoUsableColumns(InputError):
    code = "no_usable_columns"


class SchemaMismatch(InputError):
    code = "schema_mismatch"


class InvalidOption(InputError):
    code = "invalid_option"


class EngineError(SynthosError):
    code = "engine_error"


class NotEligible(InputError):
    code = "not_eligible"


class InvalidKey(InputError):
    code = "invalid_key"


class IllegalClaimTransition(InputError):
    code = "illegal_claim_transition"


class CorruptShardState(InputError):
    """Bytes that are not a readable partial state (garbage, truncated, wrong version)."""

    code = "corrupt_shard_state"


class IncompatibleShardStates(InputError):
    """Partial states that cannot be merged (other source, seed, sample size or columns)."""

    code = "incompatible_shard_states"
