"""One visitor, one decision: detector + QR + pass verification + intent + decision + event log.

The outcome is a :class:`dabai.gate.result.GateResult`, the one result type of the gate.

:class:`GateChecker` holds what a gate loads once (registry, public keys,
detector, reply voice) and runs the pipeline with a latency breakdown. The
decision and the use of a single-use pass are written in one transaction
with the event, so the log never disagrees with what the gate did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
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
from dabai.gate.models import Resident
from dabai.gate.passes import INVALID_REASONS, PassCheck, consume, verify_text
from dabai.gate.qr import QRCode, decode_qr, pick_pass_text
from dabai.gate.replies import ReplyVoice
from dabai.gate.result import GateResult, from_event
from dabai.runtime.types import Detection

DetectorFn = Callable[[np.ndarray], list[Detection]]


def load_detector(path: str | Path | None = None) -> DetectorFn:
    """The mask detector (the shipped default model unless ``path``), with a clear error when absent.

    Without the checker's tiled second look at crowds: the gate decides on the faces at the gate (passers-by
    under ``mask.min_face_px`` do not count), and that pass would cost a crowded frame 2.5 to 4 times
    the time (docs/benchmarks.md)."""
    try:
        from dabai.runtime.detector import Detector
    except ImportError as exc:
        raise ModelError(f"the mask detector runtime (dabai.runtime.detector) is not available: {exc}") from None
    return Detector.load(path, second_look=False)


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
                 snapshot_of: Callable[[Decision], str | None] | None = None, **live) -> GateResult:
        """Decide once, consume a single-use pass when allowing, and log the event, all in one transaction.

        A single-use pass is claimed first (in a savepoint), so the one decision sees the pass as the log will:
        lost to another gate a moment ago, it is ``already_used``; a deny gives the claim back.
        ``snapshot_of(decision)``: the photo to log with it (None: none). ``live``: extras for the result
        (transcript, qr_codes). Returns the logged event as a :class:`GateResult`."""
        t0 = time.perf_counter()
        with self.registry.write() as s:
            claim = s.begin_nested() if check.valid else None
            if claim is not None and not consume(s, check, self.config.gate_id):
                check = replace(check, valid=False, reason="already_used",
                                detail="used at another gate a moment ago")
            obs = Observations(intent, tuple(faces), check)
            t1 = time.perf_counter()
            decision = decide(obs, self.config)
            decide_ms = (time.perf_counter() - t1) * 1000
            if claim is not None:
                (claim.commit if decision.allow else claim.rollback)()
            snapshot = snapshot_of(decision) if snapshot_of is not None else None
            p = check.payload
            authentic = p is not None and check.reason not in INVALID_REASONS
            latency["decide_ms"] = decide_ms
            event = add_event(
                s, gate_id=self.config.gate_id, allow=decision.allow, reasons=decision.reasons,
                resident_id=p.resident_id if authentic else None, pass_id=p.pass_id if authentic else None,
                pass_valid=check.valid, pass_reason=check.reason,
                mask_label=decision.mask.label if decision.mask else None,
                mask_score=decision.mask.score if decision.mask else None, intent=intent,
                latency_ms={k: round(v, 2) for k, v in latency.items()}, reply_text=decision.reply_text,
                snapshot=snapshot, door=initial_state(decision.allow, self.door is not None and
                                                      self.door.opener is not None))
            who = s.get(Resident, event.resident_id) if event.resident_id is not None else None
            logged = from_event(event, resident_name=who.name if who else None,
                                resident_unit=who.unit if who else None, decision=decision, observations=obs, **live)
        latency["log_ms"] = (time.perf_counter() - t0) * 1000 - decide_ms
        return replace(logged, latency_ms=dict(latency))

    # -- the whole check ----------------------------------------------------------------------
    def check(self, image, *, qr_image=None, audio=None, intent: str | None = None,
              now: datetime | None = None, reply_audio: bool = True) -> GateResult:
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
        result = self.conclude(faces, check, intent, latency, transcript=transcript, qr_codes=codes)
        wav = None
        if reply_audio:
            t = time.perf_counter()
            wav = self.voice.render_decision(result.decision)
            latency["reply_ms"] = (time.perf_counter() - t) * 1000
        latency["total_ms"] = (time.perf_counter() - t_start) * 1000
        return replace(result, latency_ms=dict(latency), reply_audio=None if wav is None else str(wav),
                       reply_cached=self.voice.last_cached if reply_audio else None,
                       speech_note=self.voice.speech_note if reply_audio else None)
