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

from dabai.errors import require

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


def kokoro_phonemes(text: str) -> str:
    """Kokoro v1.0 phonemes of Chinese text (misaki[zh])."""
    phonemes, _ = _misaki()(text)
    return phonemes


def pinyin_tone3(text: str) -> str:
    """Tone-numbered pinyin with punctuation kept as pauses: ``你好，大白`` → ``ni3 hao3, da4 bai2``."""
    pypinyin = require("pypinyin", "speech")
    words = pypinyin.lazy_pinyin(text, style=pypinyin.Style.TONE3, neutral_tone_with_five=True, errors=lambda s: list(s))
    out = []
    for w in words:
        if w in "，,、；;：:":
            out.append(",")
        elif w in "。.！!？?":
            out.append(".")
        elif w.strip():
            out.append(w)
    return re.sub(r" ([,.])", r"\1", " ".join(out)).strip()
