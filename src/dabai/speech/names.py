"""How a Chinese personal name is read when nobody registered its reading.

pypinyin reads a character the way it is read in running text: 曾 ceng2 (曾经), 单 dan1, 解 jie3,
仇 chou2, 朴 pu3, 任 ren4. As a surname they are zeng1, shan4, xie4, qiu2, piao2, ren2. pypinyin
(0.55) has no surname mode, so the surname readings come from ``data/surnames.yaml`` (single and
compound surnames), and the given name is read by pypinyin as a word of its own::

    >>> name_reading("曾小燕")
    ('zeng1', 'xiao3', 'yan4')
    >>> name_reading("尉迟敬德")
    ('yu4', 'chi2', 'jing4', 'de2')
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from dabai.core.config import load_yaml
from dabai.core.errors import ConfigError, require

_HAN = re.compile(r"[\u3400-\u9fff]")


def surnames_path() -> Path:
    return Path(str(resources.files("dabai.speech") / "data" / "surnames.yaml"))


@lru_cache(maxsize=1)
def surname_readings() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(single, compound): surname → tone-numbered syllables, from ``data/surnames.yaml``."""
    from dabai.speech.g2p import parse_reading

    path = surnames_path()
    data = load_yaml(path)
    out: list[dict[str, tuple[str, ...]]] = []
    for key, length in (("single", 1), ("compound", 2)):
        table = {}
        for surname, reading in (data.get(key) or {}).items():
            try:
                syllables = parse_reading(str(reading))
            except ValueError as exc:
                raise ConfigError(f"{path}: {key}.{surname}: {exc}") from None
            if len(surname) != length or len(syllables) != length:
                raise ConfigError(f"{path}: {key}.{surname}: a {key} surname has {length} character(s) and "
                                  f"as many syllables, got {surname!r}: {reading!r}")
            table[surname] = syllables
        out.append(table)
    return out[0], out[1]


def name_reading(name: str) -> tuple[str, ...]:
    """Tone-numbered pinyin of the Chinese characters of ``name`` read as a personal name (5 = neutral)."""
    han = "".join(_HAN.findall(name))
    if not han:
        return ()
    single, compound = surname_readings()
    if len(han) >= 3 and han[:2] in compound:
        surname, given = compound[han[:2]], han[2:]
    elif len(han) >= 2 and han[0] in single:
        surname, given = single[han[0]], han[1:]
    elif len(han) >= 2:  # a surname pypinyin reads right on its own (王, 李), then the given name
        surname, given = _pinyin(han[0]), han[1:]
    else:
        surname, given = (), han
    return surname + _pinyin(given)


def _pinyin(text: str) -> tuple[str, ...]:
    pypinyin = require("pypinyin", "speech")
    return tuple(pypinyin.lazy_pinyin(text, style=pypinyin.Style.TONE3, neutral_tone_with_five=True,
                                      errors="ignore"))
