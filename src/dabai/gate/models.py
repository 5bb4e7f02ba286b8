"""The registry's tables (SQLAlchemy 2 ORM). The schema itself is created by the
Alembic migrations in ``dabai/gate/migrations``; a test checks the two agree.

Times are stored as naive UTC (SQLite has no time zones) and come back as
timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the registry stores only timezone-aware times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Resident(Base):
    """A registered resident. Never deleted: 'remove' deactivates, so the event log keeps its meaning."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    unit: Mapped[str | None] = mapped_column(String(40), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    reading: Mapped[str | None] = mapped_column(String(200), default=None)  # tone-numbered pinyin of the name
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PassRecord(Base):
    """A pass that was issued (the signed QR is the credential; this row is for listing and revoking)."""

    __tablename__ = "passes"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    single_use: Mapped[bool] = mapped_column(Boolean, default=False)
    key_id: Mapped[str] = mapped_column(String(8))


class Revocation(Base):
    """A revoked pass id; a pass listed here is refused everywhere that shares the registry."""

    __tablename__ = "revocations"

    pass_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)


class PassUse(Base):
    """Consumption of a single-use pass. The primary key makes a second use impossible, on any gate."""

    __tablename__ = "pass_uses"

    pass_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    gate_id: Mapped[str] = mapped_column(String(64))


class Event(Base):
    """One gate decision (the event log)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    gate_id: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    pass_id: Mapped[str | None] = mapped_column(String(16), default=None)
    # the pass verdict (passes.PassCheck): valid, else why not; NULL for events logged before revision 0005
    pass_valid: Mapped[bool | None] = mapped_column(Boolean, default=None)
    pass_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    mask_label: Mapped[str | None] = mapped_column(String(32), default=None)
    mask_score: Mapped[float | None] = mapped_column(Float, default=None)
    intent: Mapped[str | None] = mapped_column(String(32), default=None)
    allow: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of reason codes
    latency_ms: Mapped[str] = mapped_column(Text, default="{}")  # JSON mapping stage -> ms
    reply_text: Mapped[str | None] = mapped_column(Text, default=None)
    snapshot: Mapped[str | None] = mapped_column(Text, default=None)
    # door: pending (logged, not yet actuated) -> opening -> opened | failed; not_asked (deny); no_door (allow,
    # no door action configured); NULL for events logged before the door existed. See dabai.gate.door.
    door: Mapped[str | None] = mapped_column(String(16), default=None)
    door_detail: Mapped[str | None] = mapped_column(Text, default=None)


class ConsoleUser(Base):
    """A console login; only a salted scrypt hash of the password is kept."""

    __tablename__ = "console_users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleSession(Base):
    """A console login session. The cookie holds a random token; only its SHA-256 is stored here, so
    deleting the row ends the session (logout, password change, "log out everywhere")."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
