"""One visitor's outcome, in one type and one JSON shape.

`gate check --json`, each line of `gate run --json`, `gate events --json` and the console's decision log all
show a :class:`GateResult`, and :meth:`GateResult.to_json` is the only place its JSON shape is written
(docs/gate.md, "One result"). A result is built once from the logged event (:func:`from_event`) and never
mutated: what happens after the decision (the door, the reply audio) makes a new one with
:func:`dataclasses.replace`. Fields the event log does not keep (reply audio, speech note, transcript) are
``None`` in results read back from the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dabai.gate.decision import Decision, Observations


@dataclass(frozen=True)
class GateResult:
    event_id: int | None
    time: datetime  # when the decision was logged (timezone-aware UTC)
    gate_id: str
    allow: bool
    reasons: list[str]  # empty when allowed; codes in the fixed order of dabai.gate.decision
    intent: str | None
    resident_id: int | None = None  # the pass's resident, when the pass was authentic
    resident_name: str | None = None
    resident_unit: str | None = None
    pass_id: str | None = None
    pass_valid: bool | None = None  # None: an event logged before the log kept the pass verdict
    pass_reason: str | None = None  # the pass refusal (passes.PassCheck.reason); None when valid
    mask_label: str | None = None  # the decisive face
    mask_score: float | None = None
    reply_text: str | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)
    snapshot: str | None = None  # the denied visitor's photo (gate run)
    door: str | None = None  # opened | failed | not_asked | no_door | pending | opening (see dabai.gate.door)
    door_detail: str | None = None
    transcript: str | None = None  # what the ASR heard (gate check --audio)
    reply_audio: str | None = None
    reply_cached: bool | None = None  # every clip of the reply came from the cache (None: no reply audio)
    speech_note: str | None = None  # why replies are not heard in the gate's own voice (no audio, or a fallback)
    # the live objects behind a result decided in this process (None when read back from the log); not JSON
    decision: Decision | None = field(default=None, compare=False, repr=False)
    observations: Observations | None = field(default=None, compare=False, repr=False)
    qr_codes: list = field(default_factory=list, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The one JSON shape of a gate result (every key always present; null when unknown)."""
        return {
            "event_id": self.event_id,
            "time": self.time.isoformat(),
            "gate_id": self.gate_id,
            "allow": self.allow,
            "reasons": list(self.reasons),
            "intent": self.intent,
            "transcript": self.transcript,
            "resident": None if self.resident_id is None else
            {"id": self.resident_id, "name": self.resident_name, "unit": self.resident_unit},
            "mask": None if self.mask_label is None else
            {"label": self.mask_label, "score": None if self.mask_score is None else round(float(self.mask_score), 4)},
            "pass": {"valid": self.pass_valid, "reason": self.pass_reason, "pass_id": self.pass_id},
            "reply_text": self.reply_text,
            "reply_audio": self.reply_audio,
            "reply_cached": self.reply_cached,
            "speech_note": self.speech_note,
            "snapshot": self.snapshot,
            "door": self.door,
            "door_detail": self.door_detail,
            "latency_ms": {k: round(float(v), 2) for k, v in self.latency_ms.items()},
        }


def from_event(row, *, resident_name: str | None = None, resident_unit: str | None = None, **live) -> GateResult:
    """The result of one event-log row (``dabai.gate.models.Event``); ``live``: the in-process extras
    (decision, observations, latency_ms with the stages after logging, transcript, qr_codes)."""
    import json

    fields: dict[str, Any] = dict(
        event_id=row.id, time=row.time, gate_id=row.gate_id, allow=bool(row.allow),
        reasons=json.loads(row.reasons or "[]"), intent=row.intent, resident_id=row.resident_id,
        resident_name=resident_name, resident_unit=resident_unit, pass_id=row.pass_id, pass_valid=row.pass_valid,
        pass_reason=row.pass_reason, mask_label=row.mask_label, mask_score=row.mask_score,
        reply_text=row.reply_text, latency_ms=json.loads(row.latency_ms or "{}"), snapshot=row.snapshot,
        door=row.door, door_detail=row.door_detail)
    return GateResult(**(fields | live))
