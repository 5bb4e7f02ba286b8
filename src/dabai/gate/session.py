"""`dabai gate run`: the live loop.

States: ``idle`` -> ``present`` (a face for ``present_frames`` frames) -> ``checking`` (collect
``vote_frames`` mask observations, a pass, a request; decide when all are in or on timeout)
-> ``decided`` (hold the result; after a deny, re-check when what is seen changes) -> ``idle``
(nobody for ``absent_frames`` frames). The mask state is debounced by a majority vote over the
last frames. A frame that cannot be read or processed, an unreadable audio chunk or a garbage QR
is logged and skipped; it never stops the loop.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dabai.core.errors import DabaiError
from dabai.gate.check import GateChecker
from dabai.gate.decision import MASK_REASONS, mask_reason, persons_at_gate
from dabai.gate.door import Door
from dabai.gate.mining import keep_for_mining, uncertain_reasons
from dabai.gate.passes import NO_PASS, PassCheck
from dabai.gate.result import GateResult
from dabai.gate.snapshots import save_snapshot, write_live

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionOptions:
    """Sources and outputs of one `gate run` (timing lives in GateConfig.session)."""

    camera: int | str | None = None  # camera index or stream URL (rtsp://, http://...); None: camera.source
    video: str | None = None  # or a video file played as the camera
    realtime: bool = False  # play the video at its frame rate, looping, like a live camera
    audio: str | None = None  # a request recording heard for each visitor
    mic: bool = False  # or the microphone
    intent: str | None = None  # or a fixed intent
    replies_dir: str | None = None  # write reply WAVs here
    play: bool = False  # play replies on the audio output
    model: str | None = None  # detector model (None: the shipped one)
    max_frames: int | None = None  # stop after this many frames
    fps: float | None = None  # clock for video files (None: the file's rate, else 15)
    live_every: int = 5  # write the console's live frame every N frames
    speak: bool = True  # render reply audio (False: texts only)
    health_port: int | None = None  # overrides health.port of the config (0: any free port)


def _outcome(faces, rules) -> str:
    persons = persons_at_gate(faces, rules)
    if not persons:
        return "no_face"
    reasons = [mask_reason(f, rules) for f in persons]
    return next((r for r in MASK_REASONS if r in reasons), "masked")


class GateSession:
    """The state machine. Feed it frames with their time (seconds); it returns a GateResult per decision.

    Each decision is made once (GateChecker.conclude) and logged; then the door acts on it and ``reply``
    (e.g. a :class:`ReplyOutput`) renders its reply, each giving a new result; ``on_decision`` gets the last."""

    def __init__(self, checker: GateChecker, listener, *, reply: Callable[[GateResult], GateResult] | None = None,
                 on_decision: Callable[[GateResult], None] | None = None, live_dir: Path | None = None,
                 live_every: int = 5, door: Door | None = None):
        self.checker = checker
        self.door = door
        self.cfg = checker.config
        self.rules = self.cfg.session
        self.listener = listener
        self.reply = reply
        self.on_decision = on_decision
        self.live_dir, self.live_every = live_dir, live_every
        self.state = "idle"
        self.frames = self.bad_frames = self.visitors = self.allowed = 0
        self._faces: list = []
        self._seen = 0
        self._absent = 0
        self._votes: deque = deque(maxlen=self.rules.vote_frames)
        self._pass: PassCheck = NO_PASS
        self._pass_texts: set[str] = set()
        self._started = 0.0
        self._decided_at = 0.0
        self._last: GateResult | None = None
        self._asked_again = False  # this visitor's request was unsure once and heard again
        self._denied_outcome = ""

    # -- per frame ----------------------------------------------------------------------------
    def feed(self, frame, now: float) -> GateResult | None:
        self.frames += 1
        if not isinstance(frame, np.ndarray) or frame.ndim not in (2, 3) or frame.size == 0:
            self.bad_frames += 1
            log.warning("frame %d unreadable; skipped", self.frames)
            return None
        try:
            if (self.frames - 1) % max(1, self.rules.detect_every) == 0:
                self._faces = list(self.checker.detect(frame))
            text = self.checker.read_pass(frame)[0] if self.state in ("checking", "decided") else None
        except Exception as exc:  # noqa: BLE001 - a bad frame must never stop the loop: logged and counted
            self.bad_frames += 1
            log.warning("frame %d could not be processed (%s: %s); skipped", self.frames, type(exc).__name__, exc)
            return None
        if self.live_dir is not None and self.frames % self.live_every == 0:
            write_live(self.live_dir, frame, self._faces, self.state, self.cfg.gate_id)
        present = bool(persons_at_gate(self._faces, self.cfg.mask))
        self._absent = 0 if present else self._absent + 1
        return getattr(self, f"_on_{self.state}")(frame, now, present, text)

    def _on_idle(self, frame, now, present, text):
        self._seen = self._seen + 1 if present else 0
        if self._seen >= self.rules.present_frames:
            self.state = "present"
            return self._on_present(frame, now, present, text)
        return None

    def _on_present(self, frame, now, present, text):
        self.visitors += 1
        self._asked_again = False
        log.info("visitor %d present; checking", self.visitors)
        self._start_checking(now, keep_intent=False)
        return None

    def _start_checking(self, now: float, keep_intent: bool) -> None:
        self.state = "checking"
        self._started = now
        self._votes.clear()
        if not keep_intent:
            self._pass, self._pass_texts = NO_PASS, set()
            self.listener.start()

    def _observe_pass(self, text: str | None, now_dt=None) -> bool:
        """Verify a newly seen pass text; keep the best verdict (a valid pass wins). True if it changed."""
        if text is None or text in self._pass_texts or self._pass.valid:
            return False
        self._pass_texts.add(text)
        check = self.checker.verify(text)
        if check.valid or self._pass.reason == "no_pass" or self._pass.reason != check.reason:
            self._pass = check
            return True
        return False

    def _on_checking(self, frame, now, present, text):
        if self._absent >= self.rules.absent_frames:
            log.info("visitor left before a decision")
            self.state, self._seen = "idle", 0
            return None
        if present:
            self._votes.append((_outcome(self._faces, self.cfg.mask), list(self._faces)))
        self._observe_pass(text)
        intent = self.listener.poll()
        waited = now - self._started
        votes_in = len(self._votes) >= self.rules.vote_frames
        pass_in = self._pass.valid or waited >= self.rules.pass_timeout_s
        intent_in = intent is not None or waited >= self.rules.request_timeout_s
        if votes_in and pass_in and intent_in:
            return self._decide(frame, now, intent)
        return None

    def _decide(self, frame, now, intent) -> GateResult:
        outcome, _ = Counter(o for o, _ in self._votes).most_common(1)[0]
        faces = next(f for o, f in reversed(self._votes) if o == outcome)  # a frame showing the majority state

        def snapshot_of(decision) -> str | None:  # a denied visitor is photographed with the decision
            if decision.allow:
                return None
            path = save_snapshot(self.checker.home.snapshots_dir, frame, self.cfg.gate_id,
                                 self.rules.snapshot_keep, self.rules.snapshot_days)
            return str(path) if path else None

        result = self.checker.conclude(faces, self._pass, intent, {}, snapshot_of=snapshot_of)
        self.allowed += int(result.allow)
        self._keep_if_uncertain(frame, faces, result.allow)
        self.state, self._decided_at = "decided", now
        self._denied_outcome = outcome
        if self.door is not None:  # logged first (above); now the door, exactly once for this decision
            door, detail = self.door.after_decision(result)
            result = replace(result, door=door, door_detail=detail)
        if self.reply is not None:
            result = self.reply(result)
        self._last = result
        if self.on_decision is not None:
            self.on_decision(result)
        return result

    def _keep_if_uncertain(self, frame, faces, allow: bool) -> None:
        """A frame of an uncertain decision is kept for `dabai mine` (gate/mining.py); a failure to save it is
        logged, never stops the gate."""
        reasons = uncertain_reasons([o for o, _ in self._votes], faces, self.cfg)
        if not reasons or not self.cfg.mining.keep:
            return
        try:
            keep_for_mining(self.checker.home.mining_dir, frame, faces, reasons, allow, self.cfg)
        except OSError as exc:
            log.warning("could not keep the frame of an uncertain decision for mining: %s", exc)

    def _on_decided(self, frame, now, present, text):
        if self._absent >= self.rules.absent_frames:
            self.state, self._seen = "idle", 0
            return None
        if present:
            self._votes.append((_outcome(self._faces, self.cfg.mask), list(self._faces)))
        if self._last is not None and not self._last.allow and now - self._decided_at >= self.rules.result_hold_s:
            if "say_again" in self._last.reasons and not self._asked_again:
                # the request was unsure (a lost 不/别?): once per visitor, listen to it again and decide anew
                log.info("the request was unsure; listening again")
                self._asked_again = True
                self._start_checking(now, keep_intent=True)
                self.listener.start()
                return None
            changed_pass = self._observe_pass(text)
            recent = [o for o, _ in list(self._votes)[-self.rules.vote_frames:]]
            changed_mask = len(recent) == self.rules.vote_frames and Counter(recent).most_common(1)[0][0] != \
                self._denied_outcome
            if changed_pass or changed_mask:
                log.info("visitor changed something after a deny; checking again")
                self._start_checking(now, keep_intent=True)
        return None

    def summary(self) -> dict:
        return {"frames": self.frames, "bad_frames": self.bad_frames, "visitors": self.visitors,
                "allowed": self.allowed, "state": self.state}


class ReplyOutput:
    """Renders replies to WAV, copies them into ``replies_dir`` and/or plays them."""

    def __init__(self, checker: GateChecker, replies_dir: str | None, play: bool):
        self.voice = checker.voice
        self.dir = Path(replies_dir) if replies_dir else None
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
        self.player = shutil.which("aplay") or shutil.which("paplay") if play else None
        if play and self.player is None:
            raise DabaiError("--play needs 'aplay' (alsa-utils) or 'paplay'; use --replies DIR to write WAVs instead")

    def __call__(self, result: GateResult) -> GateResult:
        """``result`` with its reply audio (the WAV written or played, and whether it came from the cache)."""
        wav = self.voice.render_decision(result.decision) if result.decision is not None else \
            self.voice.render(result.reply_text)
        out = wav
        if wav is not None and self.dir is not None:
            out = self.dir / f"{result.event_id:06d}-{'allow' if result.allow else 'deny'}.wav"
            shutil.copyfile(wav, out)
        if wav is not None and self.player:
            subprocess.Popen([self.player, str(wav)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return replace(result, reply_audio=None if out is None else str(out), reply_cached=self.voice.last_cached)


class _StopRequest:
    """SIGTERM asks the loop to stop after the visitor in progress (bounded by the request/pass time-outs)."""

    def __init__(self, grace_s: float):
        self.grace_s = grace_s
        self.deadline: float | None = None

    def __call__(self, signum, _frame) -> None:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.grace_s
            log.info("SIGTERM: stopping after the visitor in progress (at most %.0f s)", self.grace_s)

    @property
    def requested(self) -> bool:
        return self.deadline is not None


class _RateMeter:
    """Frames per second over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 5.0):
        self.window_s = window_s
        self._times: deque = deque()

    def tick(self, now: float) -> None:
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0


def _open_source(opts: SessionOptions, config):
    """(live camera or None, sequential capture or None, fps of a file, description)."""
    import cv2

    from dabai.gate.camera import LiveCamera, PacedFile, parse_source, redact

    if opts.video is not None:
        if not Path(opts.video).is_file():
            raise DabaiError(f"{opts.video}: video file not found")
        if opts.realtime:
            probe = PacedFile(opts.video, opts.fps)
            if not probe.isOpened():
                raise DabaiError(f"cannot open video {opts.video}")
            probe.release()
            live = LiveCamera(opts.video, config.camera, capture_factory=lambda *_: PacedFile(opts.video, probe.fps))
            return live, None, probe.fps, opts.video
        cap = cv2.VideoCapture(opts.video)
        if not cap.isOpened():
            raise DabaiError(f"cannot open video {opts.video}")
        return None, cap, opts.fps or cap.get(cv2.CAP_PROP_FPS) or 15.0, opts.video
    source = opts.camera if opts.camera is not None else config.camera.source
    if source is None:
        raise DabaiError("no camera: give --camera INDEX|URL, --video FILE, or set camera.source in gate.yaml")
    source = parse_source(source)
    return LiveCamera(source, config.camera), None, None, redact(source)


def run_session(home, config, registry, opts: SessionOptions, *, detector=None,
                on_decision: Callable[[GateResult], None] | None = None) -> dict:
    """Run the loop on a video file (to its end), a camera or a network stream (reconnecting when it drops) until
    max_frames, Ctrl-C or SIGTERM (which lets the visitor in progress finish first)."""
    import signal
    import threading
    from dataclasses import asdict

    from dabai.gate.health import HealthServer, SystemdNotifier
    from dabai.gate.listen import make_listener
    from dabai.gate.replies import ReplyVoice

    camera, cap, fps, what = _open_source(opts, config)  # a bad source is an error before anything loads
    try:
        voice = ReplyVoice(home.root, config.voice, enabled=opts.speak)
        door = Door(config.door, registry, config.gate_id, home.root)  # a bad secret or action: an error now
        checker = GateChecker(home, registry, config, detector=detector, model_path=opts.model, voice=voice,
                              door=door)
        _ = checker.detector  # load the model now: a missing model is an error before the camera connects
        listener = make_listener(opts.audio, opts.mic, opts.intent)
        replies = ReplyOutput(checker, opts.replies_dir, opts.play)
    except BaseException:
        if cap is not None:
            cap.release()
        raise
    events: list[dict] = []

    def decided(result: GateResult) -> None:
        events.append(result.to_json())
        if on_decision is not None:
            on_decision(result)

    session = GateSession(checker, listener, reply=replies, on_decision=decided, live_dir=home.live_dir,
                          live_every=opts.live_every, door=door)
    meter, started = _RateMeter(), time.monotonic()
    last_frame: list[float | None] = [None]

    def status() -> dict:
        elapsed = time.monotonic() - started
        return session.summary() | {
            "source": what, "uptime_s": round(elapsed, 1), "fps": round(meter.rate(), 2),
            "fps_average": round(session.frames / elapsed, 2) if elapsed > 0 else 0.0,
            "last_frame_time": last_frame[0], "camera": camera.stats().to_json() if camera is not None else {},
            "door": asdict(door.stats)}

    rules = config.health if opts.health_port is None else replace(config.health, port=opts.health_port)
    health = HealthServer(status, rules).start() if rules.port is not None else None
    notifier = SystemdNotifier()
    stop = _StopRequest(grace_s=max(config.session.request_timeout_s, config.session.pass_timeout_s) + 2.0)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main_thread else None
    reason = "end of video"
    t0 = time.monotonic()
    try:
        if camera is not None:
            camera.start()
        notifier.notify("READY=1", f"STATUS=watching {what}")
        while True:
            if opts.max_frames is not None and session.frames >= opts.max_frames:
                reason = "max_frames"
                break
            if stop.requested and (session.state != "checking" or time.monotonic() > stop.deadline):
                if session.state == "checking":
                    log.warning("SIGTERM: the visitor in progress was not decided in time; stopping anyway")
                reason = "sigterm"
                break
            notifier.ping()
            if camera is not None:
                got = camera.read(timeout=1.0)
                if got is None:
                    continue  # nothing new (a slow or dropped stream: the reader reconnects)
                frame, _captured = got
                now = time.monotonic() - t0
            else:
                ok, frame = cap.read()
                if not ok:
                    break  # the end of the file
                now = session.frames / fps
            session.feed(frame, now)
            meter.tick(time.monotonic())
            last_frame[0] = time.time()
    except KeyboardInterrupt:
        reason = "interrupted"
        log.info("stopped")
    finally:
        notifier.notify("STOPPING=1")
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        if camera is not None:
            camera.close()
        if cap is not None:
            cap.release()
        if health is not None:
            health.close()
    out = status() | {"events": events, "stopped": reason,
                      "speech_note": voice.speech_note if opts.speak else None}
    log.info("%d frames processed at %.1f fps; camera: %s", session.frames, out["fps_average"],
             {k: out["camera"][k] for k in ("frames_read", "frames_dropped", "reconnects")} if out["camera"] else "-")
    return out
