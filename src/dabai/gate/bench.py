"""`dabai bench-gate`: latency of the gate on this machine.

1. ``gate check`` with an already-known intent: detector + QR + pass verification + decision + event
   log + (cached) reply lookup, on a 512x512 visitor frame with the pass held up in it.
2. A whole spoken turn: ASR of a 3-second request WAV, then the same check.

Everything runs in a temporary home; nothing outside is touched.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
from pathlib import Path

import numpy as np

from dabai.bench.stats import machine_info

REQUEST = "你好大白，请让我进入小区"


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(np.ceil(q / 100 * len(s))) - 1))
    return s[k]


def _stats(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(statistics.median(values), 1), "p95_ms": round(_pct(values, 95), 1),
            "max_ms": round(max(values), 1)}


def run_bench(runs: int = 50, model: str | None = None, turn_runs: int | None = None, detector=None,
              with_turn: bool = True, speak: bool = True) -> dict:
    from dabai.gate.check import GateChecker, load_detector
    from dabai.gate.config import GateConfig
    from dabai.gate.db import open_registry
    from dabai.gate.demo_faces import astronaut, draw_mask, paste_qr
    from dabai.gate.home import GateHome
    from dabai.gate.keys import init_keys, load_private_key
    from dabai.gate.passes import issue_pass, qr_matrix
    from dabai.gate.residents import add_resident

    det = detector if detector is not None else load_detector(model)
    with tempfile.TemporaryDirectory(prefix="dabai-bench-") as tmp:
        home = GateHome(Path(tmp) / "home").ensure()
        init_keys(home)
        reg = open_registry(home)
        resident = add_resident(reg, "张三", "3-1-402")
        text = issue_pass(reg, load_private_key(home), resident.id).text
        photo, box = astronaut()
        frame = paste_qr(draw_mask(photo, box), qr_matrix(text))
        from dabai.gate.replies import ReplyVoice

        checker = GateChecker(home, reg, GateConfig(gate_id="bench"), detector=det,
                              voice=ReplyVoice(home.root, enabled=speak))
        for _ in range(3):  # warm-up: model, caches, reply audio
            checker.check(frame, intent="enter")
        totals, stages = [], {}
        for _ in range(runs):
            r = checker.check(frame, intent="enter")
            totals.append(r.latency_ms["total_ms"])
            for k, v in r.latency_ms.items():
                stages.setdefault(k, []).append(v)
        report = {
            "machine": {**machine_info(), "python": platform.python_version(), "platform": platform.platform()},
            "decision": {"allow": r.decision.allow, "reasons": list(r.decision.reasons)},
            "check_known_intent": _stats(totals),
            "stages_p50_ms": {k: round(statistics.median(v), 2) for k, v in stages.items() if k != "total_ms"},
            "reply_audio": "cached" if r.reply_audio else (checker.voice.note or "none"),
            "speech_note": checker.voice.speech_note if speak else None,
            "turn_with_asr": _turn(checker, frame, Path(tmp), turn_runs or max(3, min(10, runs // 5)))
            if with_turn else {"skipped": "not asked for (--no-turn)"},
        }
        reg.close()
    return report


def _turn(checker, frame, tmp: Path, n: int) -> dict:
    try:
        from dabai.speech import Audio, synthesize, write_wav
    except ImportError as exc:
        return {"skipped": f"speech not available ({exc})"}
    from dabai.core.errors import DabaiError

    try:
        spoken = synthesize(REQUEST, rate=16000)
    except DabaiError as exc:
        return {"skipped": f"text-to-speech unavailable: {exc}"}
    target = 3 * spoken.rate  # exactly 3 s: the request centred in silence (or cut, if longer)
    samples = np.asarray(spoken.samples, np.float32)[:target]
    pad = target - len(samples)
    samples = np.concatenate([np.zeros(pad // 2, np.float32), samples, np.zeros(pad - pad // 2, np.float32)])
    wav = tmp / "request-3s.wav"
    write_wav(Audio(samples, spoken.rate), wav)
    checker.check(frame, audio=wav)  # warm-up: loads the ASR model
    totals, asr, intents = [], [], []
    for _ in range(n):
        r = checker.check(frame, audio=wav)
        totals.append(r.latency_ms["total_ms"])
        asr.append(r.latency_ms.get("asr_ms", 0.0))
        intents.append(r.observations.intent)
    return _stats(totals) | {"asr_p50_ms": round(statistics.median(asr), 1), "audio_s": 3.0,
                             "intents": sorted(set(map(str, intents)))}


def format_report(rep: dict) -> str:
    c, t = rep["check_known_intent"], rep["turn_with_asr"]
    lines = [f"machine: {rep['machine']['cpus']} CPUs, Python {rep['machine']['python']}",
             f"gate check (intent known), n={c['n']}: p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms, "
             f"max {c['max_ms']} ms   (target p95 <= 150 ms)",
             "  stages p50: " + ", ".join(f"{k} {v}" for k, v in rep["stages_p50_ms"].items()),
             f"  reply audio: {rep['reply_audio']}"]
    if rep.get("speech_note"):
        lines.append(f"note: {rep['speech_note']}")
    if "skipped" in t:
        lines.append(f"whole turn with ASR: skipped ({t['skipped']})")
    else:
        lines.append(f"whole turn, ASR of a 3 s request + check, n={t['n']}: p50 {t['p50_ms']} ms, "
                     f"p95 {t['p95_ms']} ms (ASR p50 {t['asr_p50_ms']} ms; intents {t['intents']})"
                     f"   (target <= 1500 ms)")
    return "\n".join(lines)
