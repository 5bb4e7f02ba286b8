"""CLI wiring of asr / asr adapt / tts / speech (no models needed)."""

from __future__ import annotations

import pytest

from dabai.cli.main import build_parser, main


def test_asr_and_adapt_share_one_command(monkeypatch, tmp_path, capsys):
    import dabai.speech.adapt as adapt_mod
    from dabai.speech.adapt import AdaptReport, Score

    seen = {}

    def fake_adapt(folder, grammar, options, out, holdout):
        seen.update(folder=folder, out=out, holdout=holdout)
        s = Score(1.0, 0, 3, 3)
        return AdaptReport(3, s, s, None, None, "p", "", "h", 0.8, 0.05, 0.6, output=str(out))

    monkeypatch.setattr(adapt_mod, "adapt", fake_adapt)
    assert main(["asr", "adapt", str(tmp_path), "--out", str(tmp_path / "g.yaml"), "--holdout", "0.2"]) == 0
    assert seen == {"folder": str(tmp_path), "out": str(tmp_path / "g.yaml"), "holdout": 0.2}
    assert "intent accuracy 100.0%" in capsys.readouterr().out


def test_adapt_options_without_adapt_are_rejected(tmp_path, capsys):
    assert main(["asr", str(tmp_path / "a.wav"), "--out", "x.yaml"]) == 2
    assert "belong to 'dabai asr adapt DIR'" in capsys.readouterr().err


def test_tts_needs_text_and_wav_out(capsys):
    assert main(["tts", "你好"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["tts", "你好", "--out", "x.mp3"]) == 2
    assert "expected a .wav path" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["asr", "--help"], ["tts", "--help"], ["speech", "--help"], ["audio", "--help"],
                                  ["audio", "prep", "--help"], ["speech", "install", "--help"]])
def test_help_has_examples(argv, capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(argv)
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_speech_status_runs(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DABAI_HOME", str(tmp_path))
    code = main(["speech", "status", "--json"])
    assert code in (0, 1)
    assert '"whisper-base-ct2"' in capsys.readouterr().out
