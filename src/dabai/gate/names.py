"""Names said right: synthesise a resident's greeting, transcribe it, compare the name as tonal pinyin.

The greeting is the gate's own (the replies table's ``welcome``), rendered into
the reply cache with the resident's reading, i.e. the very clip the gate will
play. The ASR transcript is turned into tone-numbered pinyin and the name's
syllables (its reading, else pypinyin's) are looked for in it with an edit
distance, so a homophone (晓燕 for 小燕) counts as right and a wrong tone does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dabai.core.errors import require
from dabai.gate.config import GateConfig
from dabai.gate.replies import ReplyVoice, greeting_text
from dabai.gate.residents import ResidentInfo

_HAN = re.compile(r"[\u3400-\u9fff]")


def heard_readings(text: str) -> tuple[frozenset[str], ...]:
    """Per Chinese character of ``text``, every tonal reading it can have (曾: zeng1, ceng2): a transcript
    that writes the right character for a name is right whichever of its readings the name takes."""
    pypinyin = require("pypinyin", "speech")
    han = "".join(_HAN.findall(text))
    if not han:
        return ()
    return tuple(frozenset(r) for r in pypinyin.pinyin(han, style=pypinyin.Style.TONE3, heteronym=True,
                                                       neutral_tone_with_five=True, errors="ignore"))


def expected_syllables(resident: ResidentInfo) -> tuple[str, ...]:
    """How the name should sound: its reading when it has one, else its reading as a name
    (:func:`dabai.speech.names.name_reading`), which is also what the TTS says."""
    from dabai.speech.names import name_reading

    return tuple(resident.reading.split()) if resident.reading else name_reading(resident.name)


def find_name(expected: tuple[str, ...], heard: tuple[frozenset[str], ...],
              near: int | None = None) -> tuple[int, tuple[str, ...]]:
    """(syllable errors, the syllables of ``heard`` that match best): edit distance of ``expected`` against
    its best place in ``heard`` (a syllable matches when it is one of the character's readings;
    substitutions, insertions and deletions count 1 each). Among places with as few errors, the one that
    starts nearest ``near`` (the syllable where the name stands in what was said, :func:`name_position`), else
    the last: 聂云 heard 捏园 in 您好，捏园欢迎回家…请您通过 is 2 errors both at 捏园 and at 通过, and 捏园 is what to show."""
    m, n = len(expected), len(heard)
    if m == 0:
        return 0, ()
    prev = [0] * (n + 1)  # the name may start anywhere in what was heard
    start = list(range(n + 1))
    for i in range(1, m + 1):
        cur, cur_start = [i] + [0] * n, [0] * (n + 1)
        for j in range(1, n + 1):
            options = ((prev[j - 1] + (expected[i - 1] not in heard[j - 1]), start[j - 1]),
                       (prev[j] + 1, start[j]), (cur[j - 1] + 1, cur_start[j - 1]))
            cur[j], cur_start[j] = min(options)
        prev, start = cur, cur_start
    end = min(range(n + 1), key=lambda j: (prev[j], 0 if near is None else abs(start[j] - near), -j))
    span = heard[start[end]:end]
    said = [next(iter(sorted(r))) for r in span]
    for k, readings in enumerate(span):  # show the reading that matched where one did
        for e in expected:
            if e in readings:
                said[k] = e
                break
    return prev[end], tuple(said)


def name_position(text: str, name: str) -> int | None:
    """The Chinese syllables of ``text`` before ``name`` in it (您好，张三，欢迎回家: 2); None when it is not there."""
    at = text.find(name)
    return None if at < 0 else len(_HAN.findall(text[:at]))


@dataclass(frozen=True)
class NameCheck:
    resident_id: int
    name: str
    expected: tuple[str, ...]  # tonal pinyin the name should have
    heard_text: str  # what the ASR heard of the whole greeting
    heard: tuple[str, ...]  # the tonal pinyin in it that matched the name best
    errors: int  # syllable edits between expected and heard (0: said right)
    ambiguous: tuple[str, ...] = ()  # characters with several readings in a name without a reading (曾: zeng1/ceng2)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def to_json(self) -> dict:
        return {"resident_id": self.resident_id, "name": self.name, "ok": self.ok, "expected": " ".join(self.expected),
                "heard": " ".join(self.heard), "heard_text": self.heard_text, "syllable_errors": self.errors,
                "ambiguous": list(self.ambiguous)}


def check_name(resident: ResidentInfo, config: GateConfig, voice: ReplyVoice,
               transcribe: Callable | None = None) -> NameCheck | None:
    """Render the resident's greeting (cached, with the reading), transcribe it and compare; None (with
    ``voice.note``) when speech synthesis is unavailable."""
    greeting = greeting_text(config, resident.name)
    wav = voice.render(greeting, readings=resident.readings)
    if wav is None:
        return None
    if transcribe is None:
        from dabai.speech.asr import transcribe
    text = transcribe(wav).text
    expected = expected_syllables(resident)
    errors, span = find_name(expected, heard_readings(text), name_position(greeting, resident.name))
    ambiguous = () if resident.reading else tuple(
        f"{c}: {'/'.join(sorted(r))}" for c, r in zip(_HAN.findall(resident.name), heard_readings(resident.name))
        if len(r) > 1)
    return NameCheck(resident.id, resident.name, expected, text, span, errors, ambiguous)


def check_names(residents: Iterable[ResidentInfo], config: GateConfig, voice: ReplyVoice,
                transcribe: Callable | None = None) -> list[NameCheck]:
    """:func:`check_name` for each resident (stops early, with ``voice.note``, when TTS is unavailable)."""
    out = []
    for r in residents:
        result = check_name(r, config, voice, transcribe)
        if result is None:
            break
        out.append(result)
    return out


@dataclass
class Enrolment:
    """What enrolling residents' speech did: greetings cached, names checked, and why anything was skipped."""

    greetings: int = 0
    checks: list[NameCheck] | None = None
    speech_note: str | None = None

    def to_json(self) -> dict:
        return {"greetings_cached": self.greetings, "speech_note": self.speech_note,
                "name_checks": None if self.checks is None else [c.to_json() for c in self.checks]}


def enrol(residents: Iterable[ResidentInfo], config: GateConfig, voice: ReplyVoice, check: bool = True,
          transcribe: Callable | None = None) -> Enrolment:
    """The speech side of enrolment: render each greeting into the reply cache (with the reading) and,
    with ``check``, hear it back (:func:`check_name`). The residents are registered whatever happens here;
    a missing TTS or ASR is reported in ``speech_note``, never an error."""
    from dabai.core.errors import DabaiError

    residents = list(residents)
    out = Enrolment()
    if check:
        try:
            out.checks = check_names(residents, config, voice, transcribe)
        except DabaiError as exc:  # no ASR: the greetings are still cached below
            out.speech_note = f"names not checked: {exc}"
    for r in residents:
        if voice.render(greeting_text(config, r.name), readings=r.readings) is not None:
            out.greetings += 1
    out.speech_note = "; ".join(n for n in (voice.speech_note, out.speech_note) if n) or None
    return out
