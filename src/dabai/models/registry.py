"""A small model registry (timm-style): ``dabai train --model NAME`` picks from it.

Each entry is a factory ``(num_classes, input_size, pretrained) -> nn.Module``
whose module follows the detector contract in ``models/base.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from dabai.core.errors import ConfigError

_MODELS: dict[str, Callable] = {}
_DOCS: dict[str, str] = {}


def register_model(name: str):
    def wrap(factory: Callable) -> Callable:
        if name in _MODELS:
            raise ValueError(f"model '{name}' registered twice")
        _MODELS[name] = factory
        _DOCS[name] = (factory.__doc__ or "").strip().splitlines()[0] if factory.__doc__ else ""
        return factory

    return wrap


def _load_builtin() -> None:
    # Importing the modules registers their models; done lazily so that
    # `import dabai.models.registry` never imports torch by itself.
    from dabai.models import mnv2_det, ultraface_det  # noqa: F401


def list_models() -> dict[str, str]:
    _load_builtin()
    return dict(sorted(_DOCS.items()))


def create_model(name: str, num_classes: int, input_size: int = 320, pretrained: str | None = None):
    _load_builtin()
    if name not in _MODELS:
        raise ConfigError(f"unknown model '{name}'; available models: {', '.join(sorted(_MODELS))}")
    return _MODELS[name](num_classes=num_classes, input_size=input_size, pretrained=pretrained)
