"""The per-user home folder of Dabai: an argument, else ``$DABAI_HOME``, else ``~/.dabai``.

One rule for every package that keeps state there (the gate's registry and keys in
:mod:`dabai.gate.home`, the legacy speech-pack folder in :mod:`dabai.speech.models`).
Nothing is created here.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "DABAI_HOME"


def dabai_home(path: str | os.PathLike | None = None) -> Path:
    """``path`` when given, else ``$DABAI_HOME`` when set and not empty, else ``~/.dabai`` (``~`` expanded)."""
    return Path(path or os.environ.get(ENV_HOME) or Path.home() / ".dabai").expanduser()
