"""The speech benchmark of issue 5 (``dabai bench-speech``).

* intent accuracy: each command sentence (bench.yaml) spoken by every Kokoro
  Chinese voice, clean and with pink noise at 10 dB SNR;
* false accepts: non-command sentences (≥ 50) that get any intent, plus the real
  recordings in ../shared/data/speech-zh when present;
* greeting CER: TTS → ASR of "您好，{name}，欢迎回家，二维码有效请您通过。" for ten names;
* real-time factors of ASR and TTS (wall time / audio time) on this machine;
* cached reply start: time from ``ReplyCache.render`` (a hit) to the first
  samples read from the WAV, as a player would start.

Every sentence, what was heard and the decision are kept in the JSON result.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from dabai.core.config import load_yaml

TARGETS = {"intent_accuracy": 0.95, "false_accepts": 0, "greeting_cer": 0.10, "asr_rtf": 0.3, "tts_rtf": 0.5,
           "cached_start_ms": 50.0}
SNR_DB = 10.0


@dataclass(frozen=True)
class BenchOptions:
    voices: list[str] | None = None  # None: every installed Chinese voice
    quick: bool = False  # a smoke run: 2 voices, fewer sentences
    home: Path | None = None  # where the reply cache goes (None: a temporary folder)
    greeting_voice: str | None = None  # None: the default voice
    shared_dir: Path | None = None  # real clips (default ../shared/data/speech-zh beside the checkout, if present)
    all_intents: bool = False  # also speak the leave/visitor/help commands (the target is the entry request)
    threads: int = 0  # ASR and TTS threads (0: their defaults); 1 makes CPU time a fair RTF on a busy machine


def bench_data() -> dict:
    return load_yaml(Path(str(resources.files("dabai.speech") / "data" / "bench.yaml")))


def run_benchmark(options: BenchOptions, greeting: Callable[[str], str], replies: list[str], log=print,
                  partial: Path | None = None) -> dict:
    """Run every part; with ``partial``, the rows measured so far are written there after each voice.

    ``greeting`` makes the greeting of a name and ``replies`` are the texts whose cached start is timed:
    the gate's own (:func:`dabai.gate.reply_bench.run_benchmark` passes them; speech knows no gate)."""
    from dabai.audio.dsp import add_noise
    from dabai.speech.asr import ASROptions, get_recognizer
    from dabai.speech.models import available_voices
    from dabai.speech.tts import DEFAULT_VOICE, synthesize

    load_start = os.getloadavg()[0]
    data = bench_data()
    voices = options.voices or [v for v in available_voices() if v.startswith("z")]
    if not voices:
        from dabai.core.errors import ModelError
        from dabai.speech.models import INSTALL_HINT

        raise ModelError(f"no Kokoro Chinese voices installed; {INSTALL_HINT}")
    commands = data["commands"] if options.all_intents else {"enter": data["commands"]["enter"]}
    non_commands = data["non_commands"]
    names = data["names"]
    if options.quick:
        voices = voices[:2]
        commands = {k: v[:3] for k, v in commands.items()}
        non_commands, names = non_commands[:10], names[:3]
    from dabai.speech.tts import TTSOptions

    rec = get_recognizer(ASROptions(threads=options.threads))
    tts_options = TTSOptions(threads=options.threads)
    tts_time = tts_cpu = tts_audio = asr_time = asr_cpu = asr_audio = 0.0

    def speak(text: str, voice: str):
        nonlocal tts_time, tts_cpu, tts_audio
        start, cpu = time.perf_counter(), time.process_time()
        audio = synthesize(text, voice=voice, options=tts_options)
        tts_time += time.perf_counter() - start
        tts_cpu += time.process_time() - cpu
        tts_audio += audio.duration_s
        return audio

    def hear(audio, clean: bool):
        nonlocal asr_time, asr_cpu, asr_audio
        cpu = time.process_time()
        t = rec.transcribe(audio)
        if clean:  # RTF over clean audio, the same clips every run
            asr_cpu += time.process_time() - cpu
            asr_time += t.asr_seconds
            asr_audio += t.duration_s
        return t

    speak("你好。", voices[0])  # load the engines before timing
    hear(speak("你好。", voices[0]), clean=False)

    intents = []
    for voice in voices:
        for intent, sentences in commands.items():
            for i, sentence in enumerate(sentences):
                audio = speak(sentence, voice)
                for cond in ("clean", f"snr{SNR_DB:g}"):
                    clip = audio if cond == "clean" else add_noise(audio, SNR_DB, seed=zlib.crc32(f'{voice}/{intent}/{i}'.encode()))
                    t = hear(clip, clean=cond == "clean")
                    intents.append({"voice": voice, "condition": cond, "label": intent, "sentence": sentence,
                                    "heard": t.text, "intent": t.intent, "confidence": t.confidence})
        done = [r for r in intents if r["voice"] == voice]
        log(f"{voice}: {sum(r['intent'] == r['label'] for r in done)}/{len(done)} intents right")
        _dump(partial, {"intents": intents, "asr": [asr_time, asr_cpu, asr_audio], "tts": [tts_time, tts_cpu, tts_audio]})

    false_accepts = []
    for i, sentence in enumerate(non_commands):
        voice = voices[i % len(voices)]
        t = hear(speak(sentence, voice), clean=True)
        false_accepts.append({"voice": voice, "sentence": sentence, "heard": t.text, "intent": t.intent,
                              "confidence": t.confidence})
    real = _real_clips(options.shared_dir)
    for path in real:
        t = rec.transcribe(path)
        false_accepts.append({"file": path.name, "heard": t.text, "intent": t.intent, "confidence": t.confidence})
    log(f"non-commands: {sum(_taken(r) for r in false_accepts)} false accepts of {len(false_accepts)}")
    _dump(partial, {"intents": intents, "non_commands": false_accepts, "asr": [asr_time, asr_cpu, asr_audio],
                    "tts": [tts_time, tts_cpu, tts_audio]})

    greeting_voice = options.greeting_voice or DEFAULT_VOICE
    greetings = []
    for name in names:
        ref = greeting(name)
        t = hear(speak(ref, greeting_voice), clean=True)
        greetings.append({"name": name, "reference": ref, "heard": t.text, "cer": round(cer(ref, t.text), 4)})
    log(f"greeting CER: {_mean([g['cer'] for g in greetings]):.1%}")

    latency = cached_start_latency(replies, options.home, voice=greeting_voice)
    result = _summarise(voices, intents, false_accepts, greetings, latency,
                        asr_time / asr_audio if asr_audio else 0.0, tts_time / tts_audio if tts_audio else 0.0)
    # CPU seconds (all threads of this process) per audio second: unlike wall time it does not grow
    # when other jobs share the cores; on an idle machine the wall RTF is at most this figure.
    result["asr_cpu_rtf"] = round(asr_cpu / asr_audio, 4) if asr_audio else 0.0
    result["tts_cpu_rtf"] = round(tts_cpu / tts_audio, 4) if tts_audio else 0.0
    result["quick"] = options.quick
    result["threads"] = options.threads
    result["real_clips"] = [p.name for p in real]
    from dabai.bench.stats import machine_info

    result["machine"] = {**machine_info(), "load_avg_1m_start": round(load_start, 2),
                         "load_avg_1m_end": round(os.getloadavg()[0], 2)}
    result["machine"].pop("load_avg_1m", None)
    return result


def cached_start_latency(texts: list[str], home: Path | None, voice: str | None = None, repeats: int = 30) -> dict:
    """Milliseconds from ``ReplyCache.render`` (a hit) of one of ``texts`` to the first 100 ms of samples read."""
    import soundfile as sf

    from dabai.speech.cache import ReplyCache

    with tempfile.TemporaryDirectory(prefix="dabai-replies-") as tmp:
        cache = ReplyCache(Path(home or tmp), voice=voice)
        cache.prerender(texts)
        times = []
        for i in range(repeats):
            text = texts[i % len(texts)]
            start = time.perf_counter()
            path = cache.render(text)
            with sf.SoundFile(str(path)) as f:
                f.read(int(f.samplerate * 0.1), dtype="float32")
            times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "max_ms": round(times[-1], 2), "repeats": repeats}


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate over Chinese characters, letters and digits (punctuation ignored)."""
    ref, hyp = _chars(reference), _chars(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


def format_report(result: dict) -> str:
    """The figures as a Markdown table, with the targets."""
    t = TARGETS
    rows = [
        ("Intent accuracy, entry request, clean", f"{result['intent_accuracy_enter']['clean']:.1%}", f"≥ {t['intent_accuracy']:.0%}"),
        (f"Intent accuracy, entry request, {SNR_DB:g} dB SNR", f"{result['intent_accuracy_enter']['noisy']:.1%}", f"≥ {t['intent_accuracy']:.0%}"),
        ("Intent accuracy, all commands (clean + noisy)", f"{result['intent_accuracy_all']:.1%}", "—"),
        ("False accepts / non-command sentences", f"{result['false_accepts']} / {result['non_commands']}", "0"),
        ("Greeting TTS→ASR CER (ten names)", f"{result['greeting_cer']:.1%}", f"≤ {t['greeting_cer']:.0%}"),
        ("ASR real-time factor (wall)", f"{result['asr_rtf']:.3f}", f"≤ {t['asr_rtf']}"),
        ("ASR CPU seconds per audio second", f"{result['asr_cpu_rtf']:.3f}", "—"),
        ("TTS real-time factor (wall)", f"{result['tts_rtf']:.3f}", f"≤ {t['tts_rtf']}"),
        ("TTS CPU seconds per audio second", f"{result['tts_cpu_rtf']:.3f}", "—"),
        ("Cached reply start (p95)", f"{result['cached_start']['p95_ms']:.1f} ms", f"≤ {t['cached_start_ms']:.0f} ms"),
    ]
    lines = ["| Metric | Measured | Target |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines.append("")
    lines.append("Per voice (entry request, clean / noisy): " + ", ".join(
        f"{v} {a['clean']:.0%}/{a['noisy']:.0%}" for v, a in result["per_voice_enter"].items()))
    lines.append(f"Voices: {len(result['voices'])}; machine: {result['machine']}; targets met: {result['targets_met']}")
    return "\n".join(lines)


def _summarise(voices, intents, false_accepts, greetings, latency, asr_rtf, tts_rtf) -> dict:
    def acc(rows):
        return round(sum(r["intent"] == r["label"] for r in rows) / len(rows), 4) if rows else 0.0

    enter = [r for r in intents if r["label"] == "enter"]
    per_voice = {v: {"clean": acc([r for r in enter if r["voice"] == v and r["condition"] == "clean"]),
                     "noisy": acc([r for r in enter if r["voice"] == v and r["condition"] != "clean"])} for v in voices}
    result = {
        "voices": voices,
        "intent_accuracy_enter": {"clean": acc([r for r in enter if r["condition"] == "clean"]),
                                  "noisy": acc([r for r in enter if r["condition"] != "clean"])},
        "intent_accuracy_all": acc(intents),
        "per_voice_enter": per_voice,
        "false_accepts": sum(_taken(r) for r in false_accepts),  # an "unclear" one is asked again, not taken
        "non_commands": len(false_accepts),
        "greeting_cer": round(_mean([g["cer"] for g in greetings]), 4),
        "asr_rtf": round(asr_rtf, 4),
        "tts_rtf": round(tts_rtf, 4),
        "cached_start": latency,
        "details": {"intents": intents, "non_commands": false_accepts, "greetings": greetings},
    }
    enter_acc = result["intent_accuracy_enter"]
    result["targets_met"] = bool(
        min(enter_acc.values()) >= TARGETS["intent_accuracy"] and result["false_accepts"] == 0
        and result["greeting_cer"] <= TARGETS["greeting_cer"] and asr_rtf <= TARGETS["asr_rtf"]
        and tts_rtf <= TARGETS["tts_rtf"] and latency["p95_ms"] <= TARGETS["cached_start_ms"])
    return result


def _taken(row: dict) -> bool:
    from dabai.speech.intent import NONE, UNCLEAR

    return row["intent"] not in (NONE, UNCLEAR)


def _dump(path: Path | None, rows: dict) -> None:
    if path is not None:
        import json

        Path(path).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def _real_clips(shared: Path | None) -> list[Path]:
    folder = shared or Path(__file__).resolve().parents[3].parent / "shared" / "data" / "speech-zh"
    env = os.environ.get("DABAI_SHARED")
    if shared is None and env:
        folder = Path(env) / "data" / "speech-zh"
    return sorted(folder.glob("*.wav")) if folder.is_dir() else []


_KEEP = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")


def _chars(text: str) -> list[str]:
    return _KEEP.findall(text)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
