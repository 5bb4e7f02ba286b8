"""Names said right, with the real Kokoro and Whisper (slow; skipped without the packs)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_a_reading_fixes_a_polyphonic_surname(tmp_path, kokoro_pack, whisper_pack):
    from dabai.gate.config import GateConfig
    from dabai.gate.db import open_registry
    from dabai.gate.home import GateHome
    from dabai.gate.names import enrol
    from dabai.gate.replies import ReplyVoice
    from dabai.gate.residents import add_resident

    home = GateHome(tmp_path / "home").ensure()
    with open_registry(home, synchronous="NORMAL") as reg:
        r = add_resident(reg, "曾小燕", reading="zeng1 xiao3 yan4")
        report = enrol([r], GateConfig(), ReplyVoice(home.root))
    [check] = report.checks
    assert report.greetings == 1 and report.speech_note is None
    assert check.expected == ("zeng1", "xiao3", "yan4")
    print("heard:", check.heard_text, check.heard, check.errors)
    assert check.errors <= 1, check.to_json()  # the name comes back (a syllable of slack for Whisper base)
