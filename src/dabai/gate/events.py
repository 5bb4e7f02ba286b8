"""The event log: one row per decision, written inside the decision's own transaction; read back as
:class:`dabai.gate.result.GateResult` (the gate's one result type)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update

from dabai.core.errors import DabaiError
from dabai.gate.db import Registry
from dabai.gate.models import Event, Resident, utcnow
from dabai.gate.result import GateResult, from_event


def add_event(session, *, gate_id: str, allow: bool, reasons, resident_id: int | None = None,
              pass_id: str | None = None, pass_valid: bool | None = None, pass_reason: str | None = None,
              mask_label: str | None = None, mask_score: float | None = None,
              intent: str | None = None, latency_ms: dict | None = None, reply_text: str | None = None,
              snapshot: str | None = None, time: datetime | None = None, door: str | None = None) -> Event:
    """Add one event to an open write transaction (it commits or rolls back with the caller's)."""
    row = Event(time=time or utcnow(), gate_id=gate_id, resident_id=resident_id, pass_id=pass_id,
                pass_valid=pass_valid, pass_reason=pass_reason,
                mask_label=mask_label, mask_score=None if mask_score is None else float(mask_score),
                intent=intent, allow=bool(allow), reasons=json.dumps(list(reasons), ensure_ascii=False),
                latency_ms=json.dumps(latency_ms or {}), reply_text=reply_text, snapshot=snapshot, door=door)
    session.add(row)
    session.flush()
    return row


def set_door(reg: Registry, event_id: int, *, expect: str, new: str, detail: str | None = None) -> bool:
    """Move event ``event_id``'s door state from ``expect`` to ``new`` in one statement; False when it was not
    ``expect`` (someone else moved it). This compare-and-set is what lets a decision open the door only once."""
    with reg.write() as s:
        result = s.execute(update(Event).where(Event.id == event_id, Event.door == expect)
                           .values(door=new, door_detail=detail))
        return result.rowcount == 1


def query_events(reg: Registry, *, outcome: str | None = None, resident: int | None = None,
                 reason: str | None = None, gate_id: str | None = None, since: datetime | None = None,
                 limit: int = 100) -> list[GateResult]:
    """Newest first, filtered by outcome ('allow'/'deny'), resident id, reason code, gate and time."""
    if not 1 <= int(limit) <= 10000:
        raise DabaiError(f"limit must be between 1 and 10000, got {limit}")
    q = select(Event, Resident.name, Resident.unit).outerjoin(Resident, Resident.id == Event.resident_id)
    if outcome in ("allow", "deny"):
        q = q.where(Event.allow.is_(outcome == "allow"))
    if resident is not None:
        q = q.where(Event.resident_id == resident)
    if reason:
        q = q.where(Event.reasons.contains(json.dumps(reason)))
    if gate_id:
        q = q.where(Event.gate_id == gate_id)
    if since is not None:
        q = q.where(Event.time >= since)
    q = q.order_by(Event.id.desc()).limit(int(limit))
    with reg.read() as s:
        return [from_event(e, resident_name=name, resident_unit=unit) for e, name, unit in s.execute(q)]
