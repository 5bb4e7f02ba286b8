"""Pinyin syllables and a fuzzy, homophone-tolerant alignment of a phrase inside a transcript.

Whisper often writes a homophone (二维马 for 二维码, 小曲 for 小区) or a
near-homophone of a regional accent (zh/z, n/l, in/ing). Comparing toneless
pinyin syllables, with those confusions made cheap, lets the intent grammar
match what was *said* rather than which characters the ASR picked.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dabai.errors import require

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w")
_FUZZY_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "r": "l", "f": "h"}
_FUZZY_FINAL = {"ing": "in", "eng": "en", "ang": "an", "iang": "ian", "uang": "uan"}
_HAN = re.compile(r"[\u3400-\u9fff]")
_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")

# costs of the alignment (a phrase syllable is 1 unit)
SAME_FUZZY = 0.15  # zhi/zi, lin/ling …
SAME_FINAL = 0.5  # only the initial differs
SAME_INITIAL = 0.6  # only the final differs
DELETE = 1.0  # a phrase syllable the speaker skipped
INSERT = 0.8  # an extra syllable inside the matched span


def syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin of the Chinese characters in ``text`` (digits read as Chinese digits)."""
    pypinyin = require("pypinyin", "speech")
    han = "".join(_HAN.findall(text.translate(_DIGITS)))
    if not han:
        return ()
    return tuple(pypinyin.lazy_pinyin(han, style=pypinyin.Style.NORMAL, errors="ignore", v_to_u=False))


@lru_cache(maxsize=4096)
def split(syllable: str) -> tuple[str, str]:
    """(initial, final) of a toneless syllable; y/w count as initials."""
    for ini in _INITIALS:
        if syllable.startswith(ini) and len(syllable) > len(ini):
            return ini, syllable[len(ini):]
    return "", syllable


@lru_cache(maxsize=16384)
def fuzzy(syllable: str) -> tuple[str, str]:
    ini, fin = split(syllable)
    return _FUZZY_INITIAL.get(ini, ini), _FUZZY_FINAL.get(fin, fin)


@lru_cache(maxsize=65536)
def cost(a: str, b: str) -> float:
    """Substitution cost of syllable ``a`` heard as ``b`` (0 = same, 1 = unrelated)."""
    if a == b:
        return 0.0
    fa, fb = fuzzy(a), fuzzy(b)
    if fa == fb:
        return SAME_FUZZY
    if fa[1] == fb[1]:
        return SAME_FINAL
    if fa[0] == fb[0]:
        return SAME_INITIAL
    return 1.0


def align(phrase: tuple[str, ...], text: tuple[str, ...]) -> tuple[float, int, int]:
    """Best match of the whole ``phrase`` against any span of ``text``.

    Returns (score in [0, 1], start, end) where score = 1 − cost / len(phrase)
    and ``text[start:end]`` is the matched span (semi-global edit distance).
    """
    m, n = len(phrase), len(text)
    if m == 0 or n == 0:
        return 0.0, 0, 0
    inf = float("inf")
    # prev[j]: cost of aligning phrase[:i] so that it ends right before text[j]; start[j]: where it began
    prev = [0.0] * (n + 1)
    start = list(range(n + 1))
    for i in range(1, m + 1):
        cur = [inf] * (n + 1)
        cur_start = [0] * (n + 1)
        cur[0] = prev[0] + DELETE
        cur_start[0] = start[0]
        p = phrase[i - 1]
        for j in range(1, n + 1):
            best, origin = prev[j - 1] + cost(p, text[j - 1]), start[j - 1]
            if prev[j] + DELETE < best:
                best, origin = prev[j] + DELETE, start[j]
            if cur[j - 1] + INSERT < best:
                best, origin = cur[j - 1] + INSERT, cur_start[j - 1]
            cur[j], cur_start[j] = best, origin
        prev, start = cur, cur_start
    end = min(range(n + 1), key=lambda j: (prev[j], -j))
    return max(0.0, 1.0 - prev[end] / m), start[end], end


def find_exact(words: tuple[tuple[str, ...], ...], text: tuple[str, ...], covered: list[bool]) -> None:
    """Mark occurrences (fuzzy-equal syllables) of any word in ``words`` as covered, longest first."""
    n = len(text)
    for word in sorted(words, key=len, reverse=True):
        k = len(word)
        for s in range(0, n - k + 1):
            if any(covered[s : s + k]):
                continue
            if all(fuzzy(w) == fuzzy(t) for w, t in zip(word, text[s : s + k])):
                for j in range(s, s + k):
                    covered[j] = True
