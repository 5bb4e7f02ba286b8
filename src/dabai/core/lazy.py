"""Lazy public exports: ``import dabai.x`` stays cheap; names resolve on first use (PEP 562)."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """Return (__getattr__, __all__) for a package whose public names live in submodules."""

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__, sorted(exports)
