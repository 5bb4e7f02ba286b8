"""The speech benchmark (``dabai bench speech``) on the gate's own words: its greeting and replies.

:mod:`dabai.speech.bench` measures ASR and TTS and knows nothing of the gate; this supplies the texts
the gate speaks (``GateConfig``'s default replies table), so the greeting CER and the cached-reply start
are measured on what a visitor hears.
"""

from __future__ import annotations

from pathlib import Path

from dabai.gate.config import GateConfig
from dabai.gate.replies import greeting_text, reply_texts
from dabai.speech.bench import BenchOptions
from dabai.speech.bench import run_benchmark as run_speech_benchmark


def run_benchmark(options: BenchOptions | None = None, log=print, partial: Path | None = None) -> dict:
    """:func:`dabai.speech.bench.run_benchmark` with the gate's greeting and four of its replies plus a
    greeting as the cached texts."""
    config = GateConfig()
    replies = reply_texts(config)[:4] + [greeting_text(config, "张三")]
    return run_speech_benchmark(options or BenchOptions(), lambda name: greeting_text(config, name), replies, log=log, partial=partial)
