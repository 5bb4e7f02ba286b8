"""ReplyVoice without reply audio: no TTS, and no name reading (the speech extra) is worked out."""

from __future__ import annotations

from datetime import UTC, datetime

from dabai.gate.decision import Decision
from dabai.gate.replies import ReplyVoice
from dabai.gate.residents import ResidentInfo


def test_no_reply_audio_needs_no_name_reading(tmp_path, monkeypatch):
    """Seen under systemd: `gate run --no-reply-audio` with only the gate extra crashed at the first admit,
    because the resident's reading (pypinyin, the speech extra) was worked out before the voice was asked."""
    def needs_speech_extra(self):
        raise AssertionError("the name's reading was worked out for a voice that says nothing")

    monkeypatch.setattr(ResidentInfo, "readings", property(needs_speech_extra))
    resident = ResidentInfo(1, "张三", "3-1-402", None, True, datetime.now(UTC))
    decision = Decision(True, (), (), None, resident, "您好，张三，欢迎回家。", ("您好，", "张三", "，欢迎回家。"))
    voice = ReplyVoice(tmp_path, enabled=False)
    assert voice.render_decision(decision) is None
    assert voice.last_cached is None and voice.speech_note == "reply audio disabled"
