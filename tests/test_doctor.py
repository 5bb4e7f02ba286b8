"""`dabai doctor`: what is installed, where, sha256 checks, and the command for what is missing."""

from __future__ import annotations

import json

from dabai.cli.main import main
from dabai.doctor import FAILED, MISSING, OK, diagnose


def test_missing_packs_are_listed_with_the_command_that_installs_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DABAI_SPEECH_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("DABAI_HOME", str(tmp_path / "home"))
    report = diagnose()
    rows = {r.item: r for r in report.rows}
    for item in ("whisper-base-ct2", "kokoro-82m-v1.0-int8", "kokoro voices"):
        assert rows[item].status == MISSING and "install_speech_models.sh" in rows[item].fix
    assert rows["DABAI_HOME"].status == OK and rows["DABAI_HOME"].where == str(tmp_path / "home")
    assert not report.healthy
    assert main(["doctor", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["healthy"] is False and out["speech_install_dir"] == str(tmp_path / "empty")
    assert main(["doctor"]) == 1
    text = capsys.readouterr().out
    assert "MISSING whisper-base-ct2" in text and "install: bash scripts/install_speech_models.sh" in text


def test_a_corrupt_pack_fails_its_sha256(tmp_path, monkeypatch):
    from dabai.speech import models

    monkeypatch.setenv("DABAI_SPEECH_DIR", str(tmp_path))
    folder = tmp_path / models.WHISPER_BASE.name
    folder.mkdir()
    for f in models.WHISPER_BASE.files:  # the right sizes, the wrong bytes
        with open(folder / f.name, "wb") as out:
            out.truncate(f.size)
    voices = tmp_path / models.KOKORO.name / "voices"
    voices.mkdir(parents=True)
    (voices / "zf_xiaobei.bin").write_bytes(b"\0" * models.VOICE_BYTES)
    rows = {r.item: r for r in diagnose().rows}
    assert rows["whisper-base-ct2"].status == FAILED and "does not match the pinned" in rows["whisper-base-ct2"].detail
    assert rows["kokoro voices"].status == FAILED and "wrong sha256: zf_xiaobei" in rows["kokoro voices"].detail
    assert "missing: zf_xiaoni" in rows["kokoro voices"].detail


def test_doctor_warns_about_a_home_others_can_read(tmp_path, monkeypatch):
    import os

    from dabai.doctor import _home_row
    from dabai.gate.home import GateHome

    home = GateHome(tmp_path / "home").ensure()
    monkeypatch.setenv("DABAI_HOME", str(home.root))
    assert _home_row().status == "ok"
    os.chmod(home.root, 0o755)
    row = _home_row()
    assert row.status == "failed" and "chmod -R go-rwx" in row.fix
