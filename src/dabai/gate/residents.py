"""The residents registry: add, list, find, remove (deactivate) and import from CSV.

A CSV import checks every row first, reports each bad row with its line number,
then writes all good rows in one transaction: either they are all in the
registry afterwards or none is.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from dabai.core.errors import DabaiError, DataError
from dabai.gate.db import Registry
from dabai.gate.models import Resident

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{2,30}$")
CSV_COLUMNS = ("name", "unit", "phone", "reading")
_HAN = re.compile(r"[\u3400-\u9fff]")


class ResidentError(DabaiError):
    """A resident cannot be found, is ambiguous, or the given details are invalid."""


@dataclass(frozen=True)
class ResidentInfo:
    """A resident as the rest of the gate sees it (detached from the database session)."""

    id: int
    name: str
    unit: str | None
    phone: str | None
    active: bool
    created_at: datetime
    reading: str | None = None  # how the name is said: tone-numbered pinyin, e.g. "zeng1 xiao3 yan4"

    @classmethod
    def of(cls, row: Resident) -> ResidentInfo:
        return cls(row.id, row.name, row.unit, row.phone, bool(row.active), row.created_at, row.reading)

    @property
    def readings(self) -> dict[str, str]:
        """{name: reading} for the TTS: the registered reading, else the name's reading as a name
        (:func:`dabai.speech.names.name_reading`: 曾 zeng1, 单 shan4 as surnames); empty without Chinese."""
        if self.reading:
            return {self.name: self.reading}
        from dabai.speech.names import name_reading

        reading = name_reading(self.name)
        return {self.name: " ".join(reading)} if reading else {}

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "unit": self.unit, "phone": self.phone, "reading": self.reading,
                "active": self.active, "created_at": self.created_at.isoformat()}


def clean_reading(name: str, reading: str | None) -> str | None:
    """The reading normalised (``Zeng1  xiao3 yan4`` → ``zeng1 xiao3 yan4``); ValueError when it is not
    tone-numbered pinyin with one syllable per Chinese character of the name."""
    reading = (reading or "").strip()
    if not reading:
        return None
    from dabai.speech.g2p import parse_reading

    syllables = parse_reading(reading)
    han = _HAN.findall(name)
    if han and len(han) != len(syllables):
        raise ValueError(f"reading {reading!r} has {len(syllables)} syllable(s) but the name {name!r} has "
                         f"{len(han)} Chinese character(s)")
    return " ".join(syllables)


def validate(name: str, unit: str | None = None, phone: str | None = None) -> tuple[str, str | None, str | None]:
    """Clean and check one resident's fields; raises ValueError naming the bad field."""
    name = (name or "").strip()
    unit = (unit or "").strip() or None
    phone = (phone or "").strip() or None
    if not name:
        raise ValueError("name is empty")
    if len(name) > 100:
        raise ValueError(f"name is {len(name)} characters long; at most 100 are allowed")
    if name.isdigit():
        raise ValueError(f"name {name!r} is only digits; it would be mistaken for a resident id")
    if unit is not None and len(unit) > 40:
        raise ValueError(f"unit {unit!r} is longer than 40 characters")
    if phone is not None and not _PHONE.match(phone):
        raise ValueError(f"phone {phone!r} is not a phone number (digits, spaces, dashes, optional leading +)")
    return name, unit, phone


def add_resident(reg: Registry, name: str, unit: str | None = None, phone: str | None = None,
                 reading: str | None = None) -> ResidentInfo:
    try:
        name, unit, phone = validate(name, unit, phone)
        reading = clean_reading(name, reading)
    except ValueError as exc:
        raise ResidentError(str(exc)) from None
    with reg.write() as s:
        row = Resident(name=name, unit=unit, phone=phone, reading=reading, active=True)
        s.add(row)
        s.flush()
        return ResidentInfo.of(row)


def list_residents(reg: Registry, include_inactive: bool = False) -> list[ResidentInfo]:
    with reg.read() as s:
        q = select(Resident).order_by(Resident.id)
        if not include_inactive:
            q = q.where(Resident.active.is_(True))
        return [ResidentInfo.of(r) for r in s.scalars(q)]


def get_resident(reg: Registry, resident_id: int) -> ResidentInfo | None:
    with reg.read() as s:
        row = s.get(Resident, resident_id)
        return None if row is None else ResidentInfo.of(row)


def find_resident(reg: Registry, ref: str | int, include_inactive: bool = False) -> ResidentInfo:
    """A resident by id (digits) or by an unambiguous name (exact match among active residents)."""
    text = str(ref).strip()
    if text.isdigit():
        info = get_resident(reg, int(text))
        if info is None or (not info.active and not include_inactive):
            raise ResidentError(f"no {'' if include_inactive else 'active '}resident with id {text}")
        return info
    with reg.read() as s:
        q = select(Resident).where(Resident.name == text)
        if not include_inactive:
            q = q.where(Resident.active.is_(True))
        rows = list(s.scalars(q))
    if not rows:
        raise ResidentError(f"no active resident named {text!r}; see 'dabai residents list'")
    if len(rows) > 1:
        ids = ", ".join(f"{r.id} ({r.unit or 'no unit'})" for r in rows)
        raise ResidentError(f"{len(rows)} residents are named {text!r}: ids {ids}; give the id instead")
    return ResidentInfo.of(rows[0])


def set_reading(reg: Registry, ref: str | int, reading: str | None) -> ResidentInfo:
    """Correct how a resident's name is said (None or "" clears it: the G2P's own reading is used)."""
    info = find_resident(reg, ref)
    try:
        reading = clean_reading(info.name, reading)
    except ValueError as exc:
        raise ResidentError(str(exc)) from None
    with reg.write() as s:
        row = s.get(Resident, info.id)
        row.reading = reading
        s.flush()
        return ResidentInfo.of(row)


def remove_resident(reg: Registry, ref: str | int) -> ResidentInfo:
    """Deactivate a resident: their passes stop working; the row and its history are kept."""
    info = find_resident(reg, ref)
    with reg.write() as s:
        row = s.get(Resident, info.id)
        row.active = False
        s.flush()
        return ResidentInfo.of(row)


@dataclass(frozen=True)
class ImportReport:
    """Result of a CSV import: what was added and which lines were refused, and why."""

    added: list[ResidentInfo]
    errors: list[tuple[int, str]]  # (line number, message)

    def to_json(self) -> dict:
        return {"added": [r.to_json() for r in self.added],
                "errors": [{"line": line, "error": msg} for line, msg in self.errors]}


def import_csv(reg: Registry, path: str | Path) -> ImportReport:
    """Import residents from a CSV with a header row containing ``name`` (and optionally ``unit``, ``phone``,
    ``reading``)."""
    path = Path(path)
    rows, errors = parse_csv(path)
    added: list[ResidentInfo] = []
    with reg.write() as s:
        seen = {(r.name, r.unit): r.id for r in s.scalars(select(Resident).where(Resident.active.is_(True)))}
        fresh, first_line = [], {}
        for row in rows:
            line, name, unit, _, _ = row
            if (name, unit) in seen:
                errors.append((line, f"{name} ({unit or 'no unit'}) is already registered as id {seen[(name, unit)]}"))
            elif (name, unit) in first_line:
                errors.append((line, f"{name} ({unit or 'no unit'}) repeats line {first_line[(name, unit)]}"))
            else:
                first_line[(name, unit)] = line
                fresh.append(row)
        errors.sort()
        rows = fresh
        if rows:
            objs = [Resident(name=n, unit=u, phone=p, reading=r, active=True) for _, n, u, p, r in rows]
            s.add_all(objs)
            s.flush()
            added = [ResidentInfo.of(o) for o in objs]
    return ImportReport(added, errors)


def parse_csv(path: Path) -> tuple[list[tuple[int, str, str | None, str | None, str | None]], list[tuple[int, str]]]:
    """Check every row of a residents CSV: (good rows with their line numbers, bad lines with reasons)."""
    if not path.is_file():
        raise DataError("CSV file not found", path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start}); save the CSV as UTF-8", path) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise DataError("the file is empty; expected a header row such as: name,unit,phone,reading", path) from None
    if "name" not in header:
        raise DataError(f"the header {header} has no 'name' column; expected: name,unit,phone", path, 1)
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise DataError(f"unknown column(s) {unknown}; allowed: {', '.join(CSV_COLUMNS)}", path, 1)
    good, bad = [], []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            bad.append((line, f"{len(record)} fields, expected {len(header)} ({','.join(header)})"))
            continue
        fields = dict(zip(header, record))
        try:
            name, unit, phone = validate(fields.get("name", ""), fields.get("unit"), fields.get("phone"))
            reading = clean_reading(name, fields.get("reading"))
        except ValueError as exc:
            bad.append((line, str(exc)))
            continue
        good.append((line, name, unit, phone, reading))
    return good, bad
