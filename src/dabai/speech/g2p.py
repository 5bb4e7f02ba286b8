"""Text front end for TTS: normalisation, sentence chunks, Kokoro phonemes, tone-numbered pinyin.

Kokoro's Chinese phonemes come from ``misaki[zh]`` (jieba words → pypinyin →
IPA with tone arrows), the G2P Kokoro v1.0 was trained with. The espeak-ng
fallback gets tone-numbered pinyin (``ni3 hao3``) for its ``cmn-latn-pinyin``
voice, because espeak-ng 1.51 misreads Hanzi with the plain ``cmn`` voice.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from dabai.core.errors import require

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
_HAN = re.compile(r"[\u3400-\u9fff]")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def normalize_text(text: str) -> str:
    """Collapse whitespace and spell out Arabic numbers in Chinese (``3`` → ``三``)."""
    text = re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()
    if _DIGITS.search(text):
        cn2an = require("cn2an", "speech")
        text = cn2an.transform(text, "an2cn")
    return text


def sentences(text: str, max_chars: int = 80) -> list[str]:
    """Split at sentence ends; overlong sentences are split again at commas."""
    out: list[str] = []
    for sent in _SENTENCE_END.split(text):
        sent = sent.strip()
        if not sent:
            continue
        while len(sent) > max_chars:
            cut = max(sent.rfind(c, 0, max_chars) for c in "，,、 ")
            cut = cut + 1 if cut > 0 else max_chars
            out.append(sent[:cut].strip())
            sent = sent[cut:].strip()
        if sent:
            out.append(sent)
    return out


def has_chinese(text: str) -> bool:
    return bool(_HAN.search(text))


@lru_cache(maxsize=1)
def _misaki():
    require("misaki", "speech")
    jieba = require("jieba", "speech")
    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary build at INFO
    from misaki import zh

    return zh.ZHG2P()  # version=None: the phoneme set of Kokoro v1.0


_SYLLABLE = re.compile(r"^([a-z]+)([1-5])$")


def parse_reading(reading: str) -> tuple[str, ...]:
    """Tone-numbered pinyin syllables of a name's reading: ``"Zeng1 xiao3 yan4"`` → ('zeng1', 'xiao3', 'yan4').

    ü may be written ü, v or u:; every syllable carries its tone number, 5 for the neutral tone.
    ValueError names the bad syllable.
    """
    out = []
    for raw in reading.replace("，", " ").replace(",", " ").split():
        syl = raw.lower().replace("ü", "v").replace("u:", "v")
        m = _SYLLABLE.match(syl)
        if not m:
            raise ValueError(f"reading {reading!r}: {raw!r} is not a pinyin syllable with a tone number 1-5, "
                             "e.g. zeng1 xiao3 yan4")
        out.append(syl)
    if not out:
        raise ValueError("the reading is empty; give tone-numbered pinyin, e.g. zeng1 xiao3 yan4")
    return tuple(out)


def split_readings(text: str, readings: dict[str, str] | None) -> list[tuple[str, tuple[str, ...] | None]]:
    """``text`` cut into (piece, syllables) where a word with a reading gets its syllables, other pieces None."""
    words = sorted((w for w, r in (readings or {}).items() if w and r and w in text), key=len, reverse=True)
    if not words:
        return [(text, None)]
    pattern = re.compile("|".join(re.escape(w) for w in words))
    out: list[tuple[str, tuple[str, ...] | None]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], None))
        out.append((m.group(0), parse_reading(readings[m.group(0)])))  # type: ignore[index]
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def kokoro_phonemes(text: str, readings: dict[str, str] | None = None) -> str:
    """Kokoro v1.0 phonemes of Chinese text (misaki[zh]); words in ``readings`` are said as their pinyin."""
    g2p = _misaki()
    out = []
    for piece, syllables in split_readings(text, readings):
        if syllables is not None:
            # misaki's own pinyin → IPA, without the non-syllabic mark its Hanzi path drops too
            out.append("".join(g2p.py2ipa(s) for s in syllables).replace(chr(815), ""))
        elif piece.strip():
            out.append(g2p(piece)[0])
    return re.sub(r" ([,.!?;:])", r"\1", " ".join(p for p in out if p))


def pinyin_tone3(text: str, readings: dict[str, str] | None = None) -> str:
    """Tone-numbered pinyin with punctuation kept as pauses: ``你好，大白`` → ``ni3 hao3, da4 bai2``."""
    pypinyin = require("pypinyin", "speech")
    words: list[str] = []
    for piece, syllables in split_readings(text, readings):
        if syllables is not None:
            words.extend(syllables)
        else:
            words.extend(pypinyin.lazy_pinyin(piece, style=pypinyin.Style.TONE3, neutral_tone_with_five=True,
                                              errors=lambda s: list(s)))
    out = []
    for w in words:
        if w in "，,、；;：:":
            out.append(",")
        elif w in "。.！!？?":
            out.append(".")
        elif w.strip():
            out.append(w)
    return re.sub(r" ([,.])", r"\1", " ".join(out)).strip()
