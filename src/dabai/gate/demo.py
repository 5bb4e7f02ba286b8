"""`dabai demo`: the whole gate on built-in samples, with nothing from outside the installed packages.

Creates a home (keys, a resident, passes) inside the output folder, builds seven visitors from
scikit-image's astronaut photo, speaks their requests with the TTS, runs the gate check for each,
prints the decisions as a table and writes annotated images, request and reply WAVs and a
summary.json to the folder it names.

The requests are spoken and heard with the gate's own voices (Kokoro, Whisper base). When those
packs are not found (another user, a container…) the demo refuses rather than present what the
espeak-ng robot voice made of it as the gate's results; ``--no-speech`` runs it with the requests
given as intents, and says so.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from dabai.core.errors import DabaiError, ModelError

log = logging.getLogger(__name__)
REQUEST = "你好大白，请让我进入小区"
GUEST_REQUEST = "你好大白，我是来访的客人，请让我进小区"
SMALL_TALK = "今天天气真不错"


@dataclass(frozen=True)
class Visitor:
    name: str  # file-name friendly
    story: str  # what the visitor does (shown in the table)
    mask: str  # "on", "below_nose" (worn wrong) or "none"
    pass_kind: str  # valid | expired | forged
    speaks: str  # the sentence the visitor says
    qr_in_frame: bool  # QR held up in the photo (else a separate pass image, like --qr)
    intent: str  # what the sentence asks (given directly with --no-speech)


VISITORS = (
    Visitor("resident", "resident, mask, valid pass", "on", "valid", REQUEST, True, "enter"),
    Visitor("no-mask", "resident without a mask", "none", "valid", REQUEST, False, "enter"),
    Visitor("mask-below-nose", "resident, mask below the nose", "below_nose", "valid", REQUEST, False, "enter"),
    Visitor("expired", "mask, expired pass", "on", "expired", REQUEST, False, "enter"),
    Visitor("forged", "mask, forged pass", "on", "forged", REQUEST, True, "enter"),
    Visitor("no-request", "mask, valid pass, no request", "on", "valid", SMALL_TALK, False, "none"),
    Visitor("guest", "visitor, mask, valid pass", "on", "valid", GUEST_REQUEST, False, "visitor"),
)


def run_demo(out: str | Path | None = None, *, detector=None, model: str | None = None,
             speech: bool = True, echo=print) -> dict:
    """Run the demo; returns the summary (also written to OUT/summary.json)."""
    import cv2

    from dabai.gate import payload as codec
    from dabai.gate.check import GateChecker, load_detector
    from dabai.gate.config import GateConfig
    from dabai.gate.db import open_registry
    from dabai.gate.demo_faces import astronaut, draw_mask, paste_qr
    from dabai.gate.home import GateHome
    from dabai.gate.keys import generate_private_key, init_keys, load_private_key
    from dabai.gate.passes import issue_pass, qr_matrix
    from dabai.gate.residents import add_resident

    if out is not None and Path(out).exists() and any(Path(out).iterdir()):
        raise DabaiError(f"{out}: folder is not empty; give a new or empty folder with --out")
    det = detector if detector is not None else load_detector(model)  # a clear error before any work
    speak, ears, note = _speech(speech)  # so is a robot voice or a missing ASR
    out = Path(out) if out else Path(tempfile.mkdtemp(prefix="dabai-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    home = GateHome(out / "home").ensure()
    init_keys(home)
    registry = open_registry(home, synchronous="NORMAL")
    config = GateConfig(gate_id="demo-gate")
    signer = load_private_key(home)
    zhang = add_resident(registry, "张三", "3-1-402", "13800000000")
    now = datetime.now(UTC)
    valid = issue_pass(registry, signer, zhang.id, valid_days=30)
    expired = issue_pass(registry, signer, zhang.id, valid_days=30, now=now - timedelta(days=45))
    genuine = codec.decode(valid.text).payload
    forged_body = replace(genuine, pass_id="f0f0f0f0f0f0f0f0", expires_at=now + timedelta(days=3650)).body()
    forged = codec.encode(forged_body, generate_private_key().sign(codec.signed_message(forged_body)))
    texts = {"valid": valid.text, "expired": expired.text, "forged": forged}

    checker = GateChecker(home, registry, config, detector=det)
    if speak is None:
        checker.voice.enabled, checker.voice.note = False, note
    photo, face_box = astronaut()
    rows = []
    for i, v in enumerate(VISITORS, 1):
        frame = photo.copy() if v.mask == "none" else draw_mask(photo, face_box, below_nose=v.mask == "below_nose")
        qr = qr_matrix(texts[v.pass_kind])
        if v.qr_in_frame:
            frame = paste_qr(frame, qr)
            qr_image = None
        else:
            qr_image = cv2.cvtColor(cv2.resize(qr, None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST),
                                    cv2.COLOR_GRAY2BGR)
            cv2.imwrite(str(out / f"{i}-{v.name}-pass.png"), qr_image)
        cv2.imwrite(str(out / f"{i}-{v.name}-visitor.jpg"), frame)
        audio = intent = None
        if speak is not None and ears is not None:
            audio = out / f"{i}-{v.name}-request.wav"
            speak(v.speaks, audio)
        else:
            intent = v.intent
        result = checker.check(frame, qr_image=qr_image, audio=audio, intent=intent)
        reply_wav = None
        if result.reply_audio is not None:
            reply_wav = out / f"{i}-{v.name}-reply.wav"
            shutil.copyfile(result.reply_audio, reply_wav)
        cv2.imwrite(str(out / f"{i}-{v.name}-decision.jpg"), annotate(frame, result))
        row = result.to_json() | {"visitor": v.story, "heard": result.transcript,
                                  "reply_audio": str(reply_wav) if reply_wav else None}
        rows.append(row)
    summary = {"out": str(out), "home": str(home.root), "speech_note": note, "visitors": rows}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    registry.close()
    echo(format_table(rows))
    if note:
        echo(f"note: {note}")
    echo(f"\nimages, request/reply WAVs and summary.json are in {out}")
    echo(f"the demo's gate home (keys, registry, event log): {home.root}  —  try: dabai gate events --home {home.root}")
    return summary


def _speech(enabled: bool):
    """(speak(text, path) or None, transcribe or None, note); refuses a robot voice or a missing ASR."""
    if not enabled:
        return None, None, "speech turned off (--no-speech): requests given as intents, replies as text"
    try:
        from dabai.speech import synthesize, transcribe, write_wav
        from dabai.speech.models import INSTALL_HINT, WHISPER_BASE, ensure_pack
        from dabai.speech.tts import speech_note
    except ImportError as exc:
        return None, None, f"speech is not available ({exc}): requests given as intents, replies as text"
    refuse = ("dabai demo speaks and hears the requests with the gate's own voices and will not present "
              "results made without them as the gate's: {}. {}; or run 'dabai demo --no-speech' (requests given "
              "as intents, replies as text)")
    note = speech_note()
    if note is not None:
        raise ModelError(refuse.format(note, INSTALL_HINT.capitalize()))
    try:
        ensure_pack(WHISPER_BASE)
    except ModelError as exc:
        raise ModelError(refuse.format(f"no speech recognition ({exc})", "Install it")) from None

    def speak(text: str, path: Path) -> None:
        write_wav(synthesize(text), path)

    return speak, transcribe, None


def annotate(frame: np.ndarray, result) -> np.ndarray:
    """Boxes of the faces at the gate and a banner with the decision (ASCII: OpenCV draws no Hanzi)."""
    import cv2

    img = frame.copy()
    colours = {"with_mask": (40, 170, 40), "without_mask": (40, 40, 220), "mask_weared_incorrect": (0, 160, 240)}
    for f in result.observations.faces:
        x1, y1, x2, y2 = (int(round(v)) for v in f.bbox)
        c = colours.get(f.label, (200, 120, 0))
        cv2.rectangle(img, (x1, y1), (x2, y2), c, 2)
        cv2.putText(img, f"{f.label} {f.score:.2f}", (x1, max(12, y1 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, c, 1,
                    cv2.LINE_AA)
    d = result.decision
    banner = "ALLOW" if d.allow else "DENY: " + ", ".join(d.reasons)
    cv2.rectangle(img, (0, 0), (img.shape[1], 28), (40, 140, 40) if d.allow else (40, 40, 190), -1)
    cv2.putText(img, banner, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_table(rows: list[dict]) -> str:
    head = ["#", "visitor", "heard", "mask", "pass", "decision", "reply"]
    body = []
    for i, r in enumerate(rows, 1):
        mask = f"{r['mask']['label']} {r['mask']['score']:.2f}" if r["mask"] else "no face"
        heard = r["heard"] if r["heard"] is not None else f"(intent {r['intent'] or '-'})"
        body.append([str(i), r["visitor"], heard, mask, "valid" if r["pass"]["valid"] else r["pass"]["reason"],
                     "ALLOW" if r["allow"] else "DENY", r["reply_text"]])
    widths = [max(_width(row[c]) for row in [head] + body) for c in range(len(head))]
    lines = ["  ".join(_pad(cell, widths[c]) for c, cell in enumerate(row)).rstrip() for row in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
