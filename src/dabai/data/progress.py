"""Progress bars for long loops over images (tqdm, with ETA), silent when not on a terminal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "img") -> Iterable[T]:
    from tqdm import tqdm

    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    # disable=None: show the bar on a terminal, stay quiet in logs, pipes and tests.
    return tqdm(items, desc=desc, total=total, unit=unit, disable=None, leave=False, dynamic_ncols=True)
