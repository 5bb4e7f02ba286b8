"""The door: on an admit, actuate the configured action (a signed HTTP webhook or a command); alert on refusals or
a failed door.

Order of things for one decision (see :meth:`Door.after_decision`):

1. the decision is logged with ``door = "pending"`` (allow, door configured), ``"no_door"`` (allow, nothing to
   actuate) or ``"not_asked"`` (deny) in the decision's own transaction: a decision that could not be logged never
   reaches the door;
2. the event's door state is moved ``pending -> opening`` by a compare-and-set (:func:`dabai.gate.events.set_door`):
   only the caller that wins it actuates, so one decision opens the door at most once;
3. the action runs; the outcome is recorded as ``opened`` or ``failed`` with a detail. An event left at
   ``opening`` means the process died while actuating (outcome unknown).

A webhook is an HTTP POST of a JSON body with ``X-Dabai-Timestamp`` and ``X-Dabai-Signature:
sha256=HEX(HMAC-SHA256(secret, TIMESTAMP + "." + BODY))`` (check it with :func:`verify_signature`) and an
``Idempotency-Key`` naming the decision. It is retried only when the receiver certainly did not act (connection
refused or not established, HTTP 429/5xx); a request sent but unanswered within ``timeout_s`` is not retried (the
door may have opened), and neither is a 4xx refusal. A command runs without a shell with the decision in its
environment (``DABAI_ACTION``, ``DABAI_EVENT_ID``, ``DABAI_GATE_ID``, ``DABAI_REASONS``, ``DABAI_DOOR``) and as JSON on
its standard input; exit 0 is success, another exit code is retried, a time-out kills it and is not retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dabai.core.errors import ConfigError
from dabai.gate.config import DoorAction, DoorRules
from dabai.gate.db import Registry
from dabai.gate.events import set_door
from dabai.gate.result import GateResult

log = logging.getLogger(__name__)

PENDING, OPENING, OPENED, FAILED, NOT_ASKED, NO_DOOR = "pending", "opening", "opened", "failed", "not_asked", "no_door"
SIGNATURE_HEADER = "X-Dabai-Signature"
TIMESTAMP_HEADER = "X-Dabai-Timestamp"


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    attempts: int
    detail: str


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value of a webhook request."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
                     tolerance_s: float = 300.0) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent (replays are refused)."""
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def read_secret(path: str, home_root: Path | None) -> bytes:
    """The shared secret from ``path`` (relative paths: under the gate home), stripped; a clear error if unusable."""
    p = Path(path).expanduser()
    if not p.is_absolute() and home_root is not None:
        p = home_root / p
    try:
        secret = p.read_bytes().strip()
        mode = p.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"door secret_file {p}: cannot read it ({exc.strerror})") from None
    if len(secret) < 16:
        raise ConfigError(f"door secret_file {p}: the secret must be at least 16 bytes "
                          "(e.g. python -c 'import secrets;print(secrets.token_hex(32))' > FILE)")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("door secret_file %s is readable by other users; chmod 600 it", p)
    return secret


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirected webhook is a failure, never re-sent elsewhere


class WebhookAction:
    def __init__(self, cfg: DoorAction, secret: bytes):
        self.cfg, self.secret = cfg, secret
        # direct connection (the relay is on the site's LAN); redirects are not followed
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)

    def describe(self) -> str:
        return f"webhook {self.cfg.url}"

    def run(self, message: dict, key: str) -> ActionResult:
        body = json.dumps(message, ensure_ascii=False, sort_keys=True).encode()
        delay, attempt, detail = self.cfg.retry_delay_s, 0, ""
        while True:
            attempt += 1
            timestamp = f"{time.time():.3f}"
            req = urllib.request.Request(self.cfg.url, data=body, method="POST", headers={
                "Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body), "Idempotency-Key": key,
                "User-Agent": "dabai-gate"})
            retry = False
            try:
                with self._opener.open(req, timeout=self.cfg.timeout_s) as resp:
                    return ActionResult(True, attempt, f"HTTP {resp.status}")
            except urllib.error.HTTPError as exc:
                detail = f"HTTP {exc.code}"
                retry = exc.code == 429 or exc.code >= 500
            except urllib.error.URLError as exc:  # the request was not delivered: safe to send again
                detail = f"not delivered ({exc.reason})"
                retry = True
            except OSError as exc:  # sent, but no (complete) answer: it may have acted, so never re-sent
                detail = f"no answer within {self.cfg.timeout_s:g} s ({type(exc).__name__}); not retried"
            if not retry or attempt > self.cfg.retries:
                return ActionResult(False, attempt, detail)
            log.warning("%s: attempt %d failed (%s); retrying in %.1f s", self.describe(), attempt, detail, delay)
            time.sleep(delay)
            delay *= 2


class CommandAction:
    def __init__(self, cfg: DoorAction):
        self.cfg = cfg

    def describe(self) -> str:
        return f"command {self.cfg.command[0]}"

    def run(self, message: dict, key: str) -> ActionResult:
        env = os.environ | {
            "DABAI_ACTION": str(message["action"]), "DABAI_EVENT_ID": str(message["event_id"]),
            "DABAI_GATE_ID": str(message["gate_id"]), "DABAI_REASONS": ",".join(message["reasons"]),
            "DABAI_DOOR": str(message.get("door") or ""), "DABAI_IDEMPOTENCY_KEY": key}
        stdin = json.dumps(message, ensure_ascii=False).encode()
        delay, attempt = self.cfg.retry_delay_s, 0
        while True:
            attempt += 1
            try:
                proc = subprocess.run(list(self.cfg.command), input=stdin, env=env, capture_output=True,
                                      timeout=self.cfg.timeout_s, check=False)
            except subprocess.TimeoutExpired:
                return ActionResult(False, attempt, f"killed after {self.cfg.timeout_s:g} s; not retried")
            except OSError as exc:
                return ActionResult(False, attempt, f"cannot run {self.cfg.command[0]}: {exc.strerror or exc}")
            if proc.returncode == 0:
                return ActionResult(True, attempt, "exit 0")
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            detail = f"exit {proc.returncode}" + (f": {err[-1][:200]}" if err else "")
            if attempt > self.cfg.retries:
                return ActionResult(False, attempt, detail)
            log.warning("%s: attempt %d failed (%s); retrying in %.1f s", self.describe(), attempt, detail, delay)
            time.sleep(delay)
            delay *= 2


def initial_state(allow: bool, has_door: bool) -> str:
    """The door state a decision is logged with: pending (to actuate), no_door (allow, nothing configured) or
    not_asked (deny)."""
    if not allow:
        return NOT_ASKED
    return PENDING if has_door else NO_DOOR


def make_action(cfg: DoorAction, home_root: Path | None):
    """The action for ``cfg`` (None for kind 'none'); reads a webhook's secret now, so a bad one fails at start."""
    if cfg.kind == "webhook":
        return WebhookAction(cfg, read_secret(cfg.secret_file or "", home_root))
    if cfg.kind == "command":
        return CommandAction(cfg)
    return None


@dataclass
class DoorStats:
    opened: int = 0
    failed: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0


class Door:
    """The door and alert actions of one gate, with the event log as the record of what happened."""

    def __init__(self, rules: DoorRules, registry: Registry, gate_id: str, home_root: Path | None = None):
        self.rules, self.registry, self.gate_id = rules, registry, gate_id
        self.opener = make_action(rules.open, home_root)
        self.alerter = make_action(rules.alert, home_root)
        self.stats = DoorStats()
        self._lock = threading.Lock()

    def initial_state(self, allow: bool) -> str:
        """What the decision's event records before anything is actuated."""
        return initial_state(allow, self.opener is not None)

    def after_decision(self, event: GateResult) -> tuple[str, str | None]:
        """Act on a logged decision; returns (door, detail) as recorded. Call once per decision, after the
        decision's transaction committed."""
        event_id = event.event_id
        if not event.allow:
            if "deny" in self.rules.alert_on:
                self._alert(event, "deny", NOT_ASKED)
            return NOT_ASKED, None
        if self.opener is None:
            return NO_DOOR, None
        with self._lock:  # one actuation at a time, and each decision claimed once
            if not set_door(self.registry, event_id, expect=PENDING, new=OPENING):
                log.error("event %s: the door was already actuated for this decision; not opening again", event_id)
                return OPENING, "already claimed"
            result = self.opener.run(self._message(event, "open", PENDING), f"{self.gate_id}-{event_id}-open")
            state = OPENED if result.ok else FAILED
            detail = f"{self.opener.describe()}: {result.detail} ({result.attempts} attempt(s))"
            set_door(self.registry, event_id, expect=OPENING, new=state, detail=detail)
        if result.ok:
            self.stats.opened += 1
            log.info("event %s: door opened (%s)", event_id, detail)
        else:
            self.stats.failed += 1
            log.error("event %s: DOOR FAILED (%s)", event_id, detail)
            if "door_failed" in self.rules.alert_on:
                self._alert(event, "door_failed", FAILED)
        return state, detail

    def _message(self, event: GateResult, action: str, door: str) -> dict:
        return {"action": action, "event_id": event.event_id, "gate_id": self.gate_id,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"), "allow": bool(event.allow), "reasons": list(event.reasons),
                "resident_id": event.resident_id, "door": door}

    def _alert(self, event: GateResult, why: str, door: str) -> None:
        if self.alerter is None:
            return
        result = self.alerter.run(self._message(event, f"alert:{why}", door), f"{self.gate_id}-{event.event_id}-{why}")
        if result.ok:
            self.stats.alerts_sent += 1
            log.info("event %s: alert (%s) sent", event.event_id, why)
        else:
            self.stats.alerts_failed += 1
            log.error("event %s: alert (%s) failed: %s", event.event_id, why, result.detail)
