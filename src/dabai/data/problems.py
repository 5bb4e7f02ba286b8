"""Problems found while reading or checking a dataset.

Readers report what they find to a ``Problems`` object instead of raising
directly. By default (``strict``) the first error raises a ``DataError``, which
is what ``convert`` wants; ``data check`` passes a collecting instance so one
bad file does not hide the others and every finding gets reported.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from dabai.core.errors import DataError

log = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"


@dataclass
class Problem:
    severity: str  # "error" or "warning"
    code: str  # stable machine-readable kind, e.g. "bad-label-file", "box-inverted"
    message: str
    path: str = ""  # the file concerned (a label file or an image)
    line: int | None = None

    @property
    def where(self) -> str:
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def to_dict(self) -> dict:
        return asdict(self)


class Problems:
    """Collects problems. In strict mode an error raises at once; warnings are always kept
    (strict readers log them once, summarised, via ``log_summary``)."""

    def __init__(self, strict: bool = True):
        self.strict = strict
        self.items: list[Problem] = []

    def error(self, code: str, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        if self.strict:
            raise DataError(message, path=path, line=line)
        self.items.append(Problem(ERROR, code, message, str(path or ""), line))

    def warning(self, code: str, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        # Strict readers log a summary of their warnings once (see log_summary), not one line each.
        self.items.append(Problem(WARNING, code, message, str(path or ""), line))

    def add_error(self, exc: DataError, code: str) -> None:
        """Record a DataError raised by a helper (strict mode re-raises it)."""
        if self.strict:
            raise exc
        message = str(exc)
        prefix = f"{exc.path}:{exc.line}: " if exc.line is not None else f"{exc.path}: "
        if exc.path is not None and message.startswith(prefix):
            message = message[len(prefix):]
        self.items.append(Problem(ERROR, code, message, str(exc.path or ""), exc.line))

    def log_summary(self, what: str) -> None:
        """Log how many warnings of each kind were found, pointing at ``dabai data check``."""
        counts: dict[str, int] = {}
        for p in self.warnings:
            counts[p.code] = counts.get(p.code, 0) + 1
        if counts:
            kinds = ", ".join(f"{n} {code}" for code, n in sorted(counts.items()))
            first = self.warnings[0]
            log.warning("warning: %s: %s (first: %s: %s); run 'dabai data check' for the full list",
                        what, kinds, first.where, first.message)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == WARNING]
