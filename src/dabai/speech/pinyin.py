"""Pinyin syllables and a fuzzy, homophone-tolerant alignment of a phrase inside a transcript.

Whisper often writes a homophone (二维马 for 二维码, 小曲 for 小区) or a
near-homophone of a regional accent (zh/z, n/l, in/ing). Comparing toneless
pinyin syllables, with those confusions made cheap, lets the intent grammar
match what was *said* rather than which characters the ASR picked.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dabai.core.errors import require

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s")
# y/w are spelling, not sounds: yao = iao, wo = uo, yu = ü …
_Y_W = {"yi": "i", "ya": "ia", "yo": "io", "ye": "ie", "yao": "iao", "you": "iu", "yan": "ian", "yin": "in",
        "yang": "iang", "ying": "ing", "yong": "iong", "yu": "v", "yue": "ve", "yuan": "van", "yun": "vn",
        "wu": "u", "wa": "ua", "wo": "uo", "wai": "uai", "wei": "ui", "wan": "uan", "wen": "un", "wang": "uang",
        "weng": "ong"}
_FUZZY_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "r": "l", "f": "h"}
_FUZZY_FINAL = {"ing": "in", "eng": "en", "ang": "an", "iang": "ian", "uang": "uan"}
# initials made at the same place (a confusion a weak ASR or TTS makes often)
_INITIAL_GROUPS = ({"b", "p", "m"}, {"d", "t"}, {"g", "k", "h", ""}, {"j", "q", "x"}, {"z", "c", "s"}, {"l", "n", "r"})
_HAN = re.compile(r"[\u3400-\u9fff]")
_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")

# distance parts, 0 (same) … 1 (unrelated); a syllable's cost mixes them
FUZZY = 0.25  # zh/z, n/l, in/ing …
NEAR = 0.6  # same place of articulation (d/t, j/q/x), or the same rhyme after the medial (uo/o, ian/an)
INITIAL_WEIGHT = 0.45  # share of the initial in a syllable's cost; the final (with the tone-less vowel) weighs more
DELETE = 1.0  # a phrase syllable the speaker skipped
INSERT = 0.8  # an extra syllable inside the matched span


def syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin of the Chinese characters in ``text`` (digits read as Chinese digits)."""
    return han_syllables(text)[1]


def han_chars(text: str) -> str:
    """The Chinese characters of ``text`` as the matcher sees them (digits read as 零一二…九)."""
    return "".join(_HAN.findall(text.translate(_DIGITS)))


def read_digits(text: str) -> str:
    """``text`` with its digits written as the matcher reads them (零一二…九); its Chinese characters are then
    exactly :func:`han_chars`'s, in place."""
    return text.translate(_DIGITS)


def replace_han(text: str, changes: dict[int, str]) -> str:
    """``read_digits(text)`` with the Chinese characters at the given :func:`han_chars` indices replaced."""
    out, k = [], 0
    for ch in read_digits(text):
        if _HAN.match(ch):
            ch = changes.get(k, ch)
            k += 1
        out.append(ch)
    return "".join(out)


def han_syllables(text: str) -> tuple[str, tuple[str, ...]]:
    """(the Chinese characters of ``text``, their toneless pinyin), one syllable per character: a character
    pypinyin cannot read gets ``"\0"``, which matches nothing."""
    pypinyin = require("pypinyin", "speech")
    han = han_chars(text)
    if not han:
        return "", ()
    return han, tuple(pypinyin.lazy_pinyin(han, style=pypinyin.Style.NORMAL, v_to_u=False,
                                           errors=lambda chars: ["\0"] * len(chars)))


_GROUP = re.compile(r"\[([^\[\]]*)\]")


def expand_alternatives(text: str, limit: int = 64) -> list[str]:
    """Every wording of a phrase with alternatives in brackets: ``开[一下|下|]门`` → 开一下门, 开下门, 开门.

    ValueError when brackets do not pair up or the phrase would expand to more than ``limit`` wordings.
    """
    depth = 0
    for ch in text:
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if depth not in (0, 1) or ch == "|" and depth == 0:
            raise ValueError(f"{text!r}: unmatched or nested '[', or '|' outside a [..] group "
                             "(write alternatives as [a|b|])")
    if depth:
        raise ValueError(f"{text!r}: unmatched '[' (write alternatives as [a|b|])")
    out = [text]
    while any("[" in t for t in out):
        nxt = []
        for t in out:
            m = _GROUP.search(t)
            nxt.extend(t[:m.start()] + alt + t[m.end():] for alt in m.group(1).split("|"))  # type: ignore[union-attr]
        out = list(dict.fromkeys(nxt))
        if len(out) > limit:
            raise ValueError(f"{text!r} expands to more than {limit} wordings; split it into several phrases")
    return out


@lru_cache(maxsize=4096)
def split(syllable: str) -> tuple[str, str]:
    """(initial, final) as pronounced: ``wo`` → ("", "uo"), ``qu`` → ("q", "v"), ``shi`` → ("sh", "i")."""
    if syllable in _Y_W:
        return "", _Y_W[syllable]
    if syllable[:1] in "yw":  # a spelling pypinyin does not produce; keep it as it is
        return "", syllable
    for ini in _INITIALS:
        if syllable.startswith(ini) and len(syllable) > len(ini):
            fin = syllable[len(ini):]
            if ini in ("j", "q", "x") and fin.startswith("u"):
                fin = "v" + fin[1:]  # ju, que, xuan are jü, qüe, xüan
            return ini, fin
    return "", syllable


@lru_cache(maxsize=16384)
def fuzzy(syllable: str) -> tuple[str, str]:
    ini, fin = split(syllable)
    return _FUZZY_INITIAL.get(ini, ini), _FUZZY_FINAL.get(fin, fin)


def _initial_distance(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if _FUZZY_INITIAL.get(a, a) == _FUZZY_INITIAL.get(b, b):
        return FUZZY
    fa, fb = _FUZZY_INITIAL.get(a, a), _FUZZY_INITIAL.get(b, b)
    return NEAR if any(fa in g and fb in g for g in _INITIAL_GROUPS) else 1.0


def _final_distance(a: str, b: str) -> float:
    if a == b:
        return 0.0
    fa, fb = _FUZZY_FINAL.get(a, a), _FUZZY_FINAL.get(b, b)
    if fa == fb:
        return FUZZY
    ra, rb = _rhyme(fa), _rhyme(fb)
    return NEAR if ra == rb and ra else 1.0


def _rhyme(final: str) -> str:
    """The final without its medial: uo → o, ian → an, ui → i (uei → ei is written ui)."""
    if final in ("ui", "un", "iu"):  # written short for uei, uen, iou
        final = {"ui": "uei", "un": "uen", "iu": "iou"}[final]
    if len(final) > 1 and final[0] in "iuv":
        return final[1:]
    return final


@lru_cache(maxsize=65536)
def cost(a: str, b: str) -> float:
    """Substitution cost of syllable ``a`` heard as ``b`` (0 = same, 1 = unrelated)."""
    if a == b:
        return 0.0
    if not (a.isalpha() and b.isalpha()):  # a masked position ("\0") never matches
        return 1.0
    (ia, fa), (ib, fb) = split(a), split(b)
    return INITIAL_WEIGHT * _initial_distance(ia, ib) + (1 - INITIAL_WEIGHT) * _final_distance(fa, fb)


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


def _alignment(phrase: tuple[str, ...], span: tuple[str, ...]) -> list[tuple[int | None, int | None]]:
    """One cheapest alignment of the whole of ``phrase`` with the whole of ``span`` (the costs of :func:`align`;
    ties prefer a substitution), as (phrase index, span index) steps in order: both for a syllable matched to a
    heard one, (i, None) for one left out, (None, j) for a heard syllable the phrase does not have."""
    m, n = len(phrase), len(span)
    table = [[0.0] * (n + 1) for _ in range(m + 1)]
    table[0] = [j * INSERT for j in range(n + 1)]
    for i in range(1, m + 1):
        table[i][0] = i * DELETE
        for j in range(1, n + 1):
            table[i][j] = min(table[i - 1][j - 1] + cost(phrase[i - 1], span[j - 1]),
                              table[i - 1][j] + DELETE, table[i][j - 1] + INSERT)
    steps: list[tuple[int | None, int | None]] = []
    i, j = m, n
    while i > 0 or j > 0:
        if i > 0 and j > 0 and table[i][j] == table[i - 1][j - 1] + cost(phrase[i - 1], span[j - 1]):
            steps.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and table[i][j] == table[i - 1][j] + DELETE:
            steps.append((i - 1, None))
            i -= 1
        else:
            steps.append((None, j - 1))
            j -= 1
    return steps[::-1]


def substitutions(phrase: tuple[str, ...], span: tuple[str, ...]) -> list[tuple[int, int]]:
    """The syllables ``phrase`` was matched to by sound, not by identity, when aligned with the whole of ``span``
    (the span :func:`align` found): ``(phrase index, span index)`` pairs whose :func:`cost` is above 0, on one
    cheapest alignment (the same costs as :func:`align`; ties prefer a substitution)."""
    if not phrase or not span:
        return []
    return [(i, j) for i, j in _alignment(phrase, span)
            if i is not None and j is not None and cost(phrase[i], span[j]) > 0]


def lost(phrase: tuple[str, ...], span: tuple[str, ...]) -> list[int]:
    """The syllables of ``phrase`` not heard in ``span`` (the span :func:`align` found), neither as written nor by
    near sound: left out, or heard as an unrelated sound (:func:`cost` 1), on one cheapest alignment of the two
    (the costs of :func:`align`; ties prefer a substitution). Phrase indices, in order."""
    return [i for i, j in _alignment(phrase, span)
            if i is not None and (j is None or cost(phrase[i], span[j]) >= 1.0)]


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
