"""Class-name near misses: 'With_Mask' vs 'with_mask', 'with-mask', 'with_msk'.

TAO maps class names silently, so a label spelled slightly differently simply
vanishes from training. Every place that meets an unknown class name uses
``near_miss`` to say which known name it probably meant.
"""

from __future__ import annotations

import difflib
import re


def canonical(name: str) -> str:
    """Lower case with spaces, hyphens and underscores treated alike."""
    return re.sub(r"[\s_\-]+", "_", name.strip().lower())


def near_miss(name: str, classes: list[str]) -> str | None:
    """The known class that ``name`` most likely means, or None if none is close."""
    if name in classes:
        return None
    key = canonical(name)
    by_key = {canonical(c): c for c in classes}
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.8)
    return by_key[close[0]] if close else None


def unknown_class_message(name: str, classes: list[str]) -> str:
    """'class 'With_Mask' is not one of …; 'With_Mask' looks like 'with_mask''."""
    message = f"class {name!r} is not one of the expected classes ({', '.join(classes)})"
    guess = near_miss(name, classes)
    if guess is not None:
        message += f"; {name!r} looks like {guess!r}"
    return message
