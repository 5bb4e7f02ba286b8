"""Class-name near misses: 'With_Mask' vs 'with_mask', 'with-mask', 'with_msk'.

TAO maps class names silently, so a label spelled slightly differently simply
vanishes from training. Every place that meets an unknown class name uses
``near_miss`` to say which known name it probably meant.
"""

from __future__ import annotations

import re

from dabai.core.errors import ClassMismatch


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
    # A typo is an edit or two; 'without_mask' vs 'with_mask' (3 edits) are different words.
    allowed = 1 if len(key) <= 10 else 2
    scored = sorted((edit_distance(key, k), k) for k in by_key)
    if scored and scored[0][0] <= allowed and (len(scored) == 1 or scored[1][0] > scored[0][0]):
        return by_key[scored[0][1]]
    return None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def unknown_class_message(name: str, classes: list[str]) -> str:
    """'class 'With_Mask' is not one of …; 'With_Mask' looks like 'with_mask''."""
    message = f"class {name!r} is not one of the expected classes ({', '.join(classes)})"
    guess = near_miss(name, classes)
    if guess is not None:
        message += f"; {name!r} looks like {guess!r}"
    return message


def check_classes(data_classes: list[str], known: list[str], where: object, known_as: str) -> None:
    """Every class of the data must be one of ``known`` (a spec's or a model's classes, ``known_as`` says
    which): TAO's silent mapping failure, made loud. The one check of training, evaluation and parity."""
    unknown = [c for c in data_classes if c not in known]
    if unknown:
        hints = [f"'{c}' looks like '{guess}'" for c in unknown if (guess := near_miss(c, known)) is not None]
        raise ClassMismatch(f"the data's classes {list(data_classes)} do not match the {known_as}'s classes "
                            f"{list(known)}: {unknown} not in the {known_as}" + (f" ({'; '.join(hints)})" if hints else ""),
                            path=where)
