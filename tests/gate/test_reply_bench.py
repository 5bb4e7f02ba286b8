"""The speech benchmark gets the gate's own words from dabai.gate.reply_bench (speech imports no gate)."""

from __future__ import annotations

from dabai.gate import reply_bench
from dabai.gate.config import GateConfig
from dabai.gate.replies import greeting_text, reply_texts
from dabai.speech.bench import BenchOptions


def test_the_gate_supplies_its_greeting_and_replies(monkeypatch):
    seen = {}

    def fake(options, greeting, replies, log, partial):
        seen.update(options=options, greeting=greeting("张三"), replies=replies, partial=partial)
        return {"targets_met": True}

    monkeypatch.setattr(reply_bench, "run_speech_benchmark", fake)
    assert reply_bench.run_benchmark(BenchOptions(quick=True), partial=None) == {"targets_met": True}
    config = GateConfig()
    assert seen["options"].quick and seen["greeting"] == greeting_text(config, "张三")
    assert seen["replies"] == reply_texts(config)[:4] + [greeting_text(config, "张三")]
