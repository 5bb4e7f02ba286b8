"""Data for the console pages (kept apart from the routes so it is easy to test)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dabai.core.errors import DabaiError
from dabai.gate.config import DEFAULT_REPLIES
from dabai.gate.db import Registry
from dabai.gate.events import query_events
from dabai.gate.passes import issue_pass, list_passes, write_qr_png
from dabai.gate.residents import add_resident, list_residents, remove_resident

REASON_CODES = sorted(k for k in DEFAULT_REPLIES if k != "welcome")


def recent_events(reg: Registry, n: int):
    return query_events(reg, limit=n)


def filtered_events(reg: Registry, outcome: str, reason: str, resident: str, limit: int):
    filters = {k: v for k, v in {"outcome": outcome, "reason": reason, "resident": resident}.items() if v}
    error = None
    if outcome and outcome not in ("allow", "deny"):
        error, outcome = f"unknown outcome {outcome!r}", ""
    if reason and reason not in REASON_CODES:
        error, reason = f"unknown reason {reason!r}", ""
    rid = None
    if resident:
        if resident.strip().isdigit():
            rid = int(resident)
        else:
            error = f"resident must be an id (digits), got {resident!r}"
    rows = query_events(reg, outcome=outcome or None, reason=reason or None, resident=rid,
                        limit=max(1, min(limit, 1000)))
    return rows, filters, error


def residents(reg: Registry):
    return list_residents(reg)


def add(reg: Registry, form: dict):
    return add_resident(reg, str(form.get("name", "")), str(form.get("unit", "")) or None,
                        str(form.get("phone", "")) or None)


def remove(reg: Registry, resident_id: int):
    return remove_resident(reg, resident_id)


def passes(reg: Registry):
    return list_passes(reg)


def issue(home, config, reg: Registry, form: dict):
    """Issue a pass from the form; returns (IssuedPass, PNG bytes)."""
    from dabai.gate.keys import load_private_key

    try:
        days = float(form.get("valid_days") or 30)
    except ValueError:
        raise DabaiError(f"valid days must be a number, got {form.get('valid_days')!r}") from None
    issued = issue_pass(reg, load_private_key(home), str(form.get("resident", "")), valid_days=days,
                        single_use=bool(form.get("single_use")), max_name_bytes=config.passes.max_name_bytes,
                        max_valid_days=config.passes.max_valid_days)
    with tempfile.TemporaryDirectory() as tmp:
        png = write_qr_png(issued.text, Path(tmp) / "pass.png").read_bytes()
    return issued, png
