"""Errors that Dabai reports to users.

Every error a user can cause (a bad file, a wrong flag, a missing model) is a
``DabaiError``: the CLI prints its message and exits non-zero instead of showing
a traceback. Messages say which file (and line), what was found and what was
expected.
"""

from __future__ import annotations


class DabaiError(Exception):
    """Base class of every user-facing error. ``exit_code`` is what the CLI returns."""

    exit_code = 2


class ConfigError(DabaiError):
    """A spec or config file has an unknown key, a wrong type or a bad value."""


class DataError(DabaiError):
    """A dataset file is missing, malformed or inconsistent."""

    def __init__(self, message: str, path: object | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        super().__init__(where + message)
        self.path = path
        self.line = line


class ClassMismatch(ConfigError, DataError):
    """The data's class names do not fit a spec's or a model's classes: either side may be the one to fix,
    so it is both a ConfigError and a DataError."""


class ModelError(DabaiError):
    """A model file is missing, corrupt or incompatible with this runtime."""


class DependencyError(DabaiError):
    """An optional dependency (an extra such as ``dabai[train]``) is not installed."""


def require(module: str, extra: str):
    """Import ``module`` or raise a DependencyError naming the extra that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError(
            f"'{module}' is not installed; install it with: pip install 'dabai[{extra}]'"
        ) from exc
