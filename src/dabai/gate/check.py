"""One visitor, one decision: detector + QR + pass verification + intent + decision + event log.

:class:`GateChecker` holds what a gate loads once (registry, public keys,
detector, reply voice) and runs the pipeline with a latency breakdown. The
decision and the use of a single-use pass are written in one transaction
with the event, so the log never disagrees with what the gate did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from dabai.core.errors import DabaiError, ModelError
from dabai.core.images import read_bgr
from dabai.gate.config import GateConfig
from dabai.gate.db import Registry
from dabai.gate.decision import Decision, Observations, decide
from dabai.gate.door import initial_state
from dabai.gate.events import add_event
from dabai.gate.home import GateHome
from dabai.gate.keys import PublicKey, load_public_keys
from dabai.gate.passes import INVALID_REASONS, PassCheck, consume, verify_text
from dabai.gate.qr import QRCode, decode_qr, pick_pass_text
from dabai.gate.replies import ReplyVoice
from dabai.runtime.types import Detection

DetectorFn = Callable[[np.ndarray], list[Detection]]


def load_detector(path: str | Path | None = None) -> DetectorFn:
    """The mask detector (the shipped default model unless ``path``), with a clear error when absent."""
    try:
        from dabai.runtime.detector import Detector
    except ImportError as exc:
        raise ModelError(f"the mask detector runtime (dabai.runtime.detector) is not available: {exc}") from None
    return Detector.load(path)


@dataclass
class CheckResult:
    decision: Decision
    observations: Observations
    latency_ms: dict[str, float]
    event_id: int | None
    transcript: str | None = None
    reply_audio: Path | None = None
    reply_note: str | None = None  # why replies are not heard in the gate's own voice (no audio, or a fallback)
    qr_codes: list[QRCode] = field(default_factory=list)
    reply_cached: bool | None = None  # the reply came whole from the cache (None: no reply audio)

    def to_json(self) -> dict:
        d, obs = self.decision, self.observations
        r = d.resident
        return {
            "allow": d.allow,
            "reasons": list(d.reasons),
            "resident": None if r is None else {"id": r.id, "name": r.name, "unit": r.unit},
            "mask": None if d.mask is None else {"label": d.mask.label, "score": round(float(d.mask.score), 4)},
            "pass": obs.pass_check.to_json(),
            "intent": obs.intent,
            "reply_text": d.reply_text,
            "reply_audio": None if self.reply_audio is None else str(self.reply_audio),
            "reply_cached": self.reply_cached,
            "speech_note": self.reply_note,
            "latency_ms": {k: round(v, 2) for k, v in self.latency_ms.items()},
        }


class GateChecker:
    """A gate's checking pipeline. ``detector`` may be any callable image -> list[Detection]."""

    def __init__(self, home: GateHome, registry: Registry, config: GateConfig | None = None, *,
                 detector: DetectorFn | None = None, keys: dict[str, PublicKey] | None = None,
                 voice: ReplyVoice | None = None, model_path: str | Path | None = None, door=None):
        self.home = home
        self.registry = registry
        self.config = config or GateConfig()
        self.keys = keys if keys is not None else load_public_keys(home)
        self._detector = detector
        self._model_path = model_path
        self.voice = voice if voice is not None else ReplyVoice(home.root, self.config.voice)
        self.door = door  # a dabai.gate.door.Door: its state is logged with each decision (actuated by the caller)

    @property
    def detector(self) -> DetectorFn:
        if self._detector is None:
            self._detector = load_detector(self._model_path)
        return self._detector

    # -- stages -------------------------------------------------------------------------------
    def detect(self, image: np.ndarray) -> tuple[Detection, ...]:
        return tuple(self.detector(image))

    def read_pass(self, image: np.ndarray) -> tuple[str | None, list[QRCode]]:
        codes = decode_qr(image)
        return pick_pass_text(codes), codes

    def verify(self, text: str | None, now: datetime | None = None) -> PassCheck:
        return verify_text(self.registry, self.keys, text, now=now, clock_skew_s=self.config.passes.clock_skew_s)

    def hear(self, audio) -> tuple[str | None, str | None]:
        """(intent, transcript) of a spoken request; a clear error when ASR is not installed."""
        try:
            from dabai.speech import transcribe
        except ImportError as exc:
            raise DabaiError(f"speech recognition is not available ({exc}); give the intent with "
                             "--intent enter instead of --audio") from None
        t = transcribe(audio)
        return (t.intent or None), t.text

    def conclude(self, faces, check: PassCheck, intent: str | None, latency: dict[str, float], *,
                 snapshot: str | None = None) -> tuple[Decision, Observations, int]:
        """Decide, consume a single-use pass when allowing, and log the event, all in one transaction."""
        t0 = time.perf_counter()
        obs = Observations(intent, tuple(faces), check)
        decision = decide(obs, self.config)
        latency["decide_ms"] = (time.perf_counter() - t0) * 1000
        t1 = time.perf_counter()
        with self.registry.write() as s:
            if decision.allow and not consume(s, check, self.config.gate_id):
                check = replace(check, valid=False, reason="already_used",
                                detail="used at another gate a moment ago")
                obs = Observations(intent, tuple(faces), check)
                decision = decide(obs, self.config)
            p = check.payload
            authentic = p is not None and check.reason not in INVALID_REASONS
            event = add_event(
                s, gate_id=self.config.gate_id, allow=decision.allow, reasons=decision.reasons,
                resident_id=p.resident_id if authentic else None, pass_id=p.pass_id if authentic else None,
                mask_label=decision.mask.label if decision.mask else None,
                mask_score=decision.mask.score if decision.mask else None, intent=intent,
                latency_ms={k: round(v, 2) for k, v in latency.items()}, reply_text=decision.reply_text,
                snapshot=snapshot, door=initial_state(decision.allow, self.door is not None and
                                                      self.door.opener is not None))
            event_id = event.id
        latency["log_ms"] = (time.perf_counter() - t1) * 1000
        return decision, obs, event_id

    # -- the whole check ----------------------------------------------------------------------
    def check(self, image, *, qr_image=None, audio=None, intent: str | None = None,
              now: datetime | None = None, reply_audio: bool = True) -> CheckResult:
        """Check one visitor: ``image`` (path or BGR array); QR from ``qr_image`` or else from ``image``;
        intent given directly or heard from ``audio`` (a path or samples the ASR accepts)."""
        latency: dict[str, float] = {}
        t_start = time.perf_counter()
        t = time.perf_counter()
        frame = read_bgr(image) if not isinstance(image, np.ndarray) else image
        qr_frame = frame if qr_image is None else (read_bgr(qr_image) if not isinstance(qr_image, np.ndarray)
                                                   else qr_image)
        latency["load_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        faces = self.detect(frame)
        latency["detect_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        text, codes = self.read_pass(qr_frame)
        latency["qr_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        check = self.verify(text, now)
        latency["verify_ms"] = (time.perf_counter() - t) * 1000
        transcript = None
        if intent is None and audio is not None:
            t = time.perf_counter()
            intent, transcript = self.hear(audio)
            latency["asr_ms"] = (time.perf_counter() - t) * 1000
        decision, obs, event_id = self.conclude(faces, check, intent, latency)
        wav = None
        if reply_audio:
            t = time.perf_counter()
            wav = self.voice.render_decision(decision)
            latency["reply_ms"] = (time.perf_counter() - t) * 1000
        latency["total_ms"] = (time.perf_counter() - t_start) * 1000
        note = self.voice.speech_note if reply_audio else None
        return CheckResult(decision, obs, latency, event_id, transcript, wav, note, codes,
                           self.voice.last_cached if reply_audio else None)
