"""dabai_home: the one rule for DABAI_HOME (used by the gate home and the speech packs)."""

from __future__ import annotations

from pathlib import Path

from dabai.core.home import ENV_HOME, dabai_home


def test_argument_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "env"))
    assert dabai_home(tmp_path / "arg") == tmp_path / "arg"
    assert dabai_home() == tmp_path / "env"
    monkeypatch.setenv(ENV_HOME, "")  # empty counts as unset
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert dabai_home() == tmp_path / "user" / ".dabai"
    assert dabai_home("~/x") == Path(tmp_path / "user" / "x")


def test_gate_and_speech_use_it(tmp_path, monkeypatch):
    from dabai.gate.home import resolve_home
    from dabai.speech.models import search_dirs

    monkeypatch.setenv(ENV_HOME, str(tmp_path))
    monkeypatch.delenv("DABAI_SPEECH_DIR", raising=False)
    assert resolve_home().root == tmp_path.resolve()
    assert (tmp_path / "models" / "speech") in [folder for folder, _ in search_dirs()]
