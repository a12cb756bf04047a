"""One exception tree for the whole library.

::

    StatcodgenError
    ├── InputError (ValueError)        a file or table is not what was expected
    │   ├── NotesFormatError           explanatory-notes file
    │   ├── DataFormatError            labelled data, persona files, generated files
    │   └── UnknownCodeError           a code that is not in the hierarchy
    ├── ConfigError (ValueError)       a parameter or config value is invalid
    ├── FetchError                     download, mirror or checksum problem
    ├── LLMError                       the LLM endpoint failed
    │   ├── FatalLLMError              401 / 404 / context too long: stop the run
    │   └── BudgetExceededError        max_cost reached: the run stopped cleanly
    └── MissingDependencyError (ImportError)  an optional extra is not installed

Every message says what was wrong, where (file, sheet, row, column or parameter) and what was
expected, so the user can fix the input without reading a traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "StatcodgenError",
    "InputError",
    "NotesFormatError",
    "DataFormatError",
    "UnknownCodeError",
    "ConfigError",
    "FetchError",
    "LLMError",
    "FatalLLMError",
    "BudgetExceededError",
    "MissingDependencyError",
]


class StatcodgenError(Exception):
    """Base class of every error raised on purpose by statcodgen."""


class InputError(StatcodgenError, ValueError):
    """A file or table does not have the expected content.

    The location parts (``file``, ``sheet``, ``row``, ``column``) are kept as attributes and
    written into the message in that order, followed by what was ``expected``.
    Rows are reported 1-based as a spreadsheet user sees them when ``row`` is given.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Any = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.sheet = sheet
        self.row = row
        self.column = column
        self.expected = expected
        self.reason = message
        where = []
        if file is not None:
            where.append(f"file {str(file)!r}")
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = (", ".join(where) + ": " if where else "") + message
        if expected:
            text += f" Expected: {expected}."
        super().__init__(text)


class NotesFormatError(InputError):
    """An explanatory-notes file cannot be read as notes."""


class DataFormatError(InputError):
    """A labelled-data, persona or generated-data file cannot be read."""


class UnknownCodeError(InputError):
    """One or more codes are not in the classification hierarchy."""


class ConfigError(StatcodgenError, ValueError):
    """A parameter or a configuration value is invalid."""


class FetchError(StatcodgenError):
    """A public file could not be fetched, found in the mirror, or failed its checksum."""


class LLMError(StatcodgenError):
    """The LLM endpoint failed."""


class FatalLLMError(LLMError):
    """An error that retrying cannot fix (bad key, unknown model, prompt too long)."""


class BudgetExceededError(LLMError):
    """The run reached its ``max_cost`` and stopped; completed requests are kept in the journal."""


class MissingDependencyError(StatcodgenError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""
