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


def test_shipped_checkers_are_checked_part_by_part(tmp_path, monkeypatch):
    """Every file a shipped checker manifest names (stage 1, stage 2, the face finder) is present and matches its
    sha256; a damaged part fails its row, naming the file, with the command that repairs it."""
    import shutil

    from dabai.doctor import _checker_rows
    from dabai.runtime import backends
    from dabai.runtime.checker import PARTS, manifest_files, read_manifest

    shipped = backends.shipped_model_path("int8")
    doc = read_manifest(shipped)
    rows = _checker_rows()
    assert [r.item for r in rows] == ["mask checker int8 (default)", "mask checker fp32"]
    assert all(r.status == OK for r in rows), rows
    assert "face_finder" in doc and f"sha256 ok: {len(PARTS)}/{len(PARTS)}" in rows[0].detail
    for part, file in manifest_files(shipped).items():
        shutil.copyfile(file, tmp_path / doc[part])
    shutil.copyfile(backends.shipped_model_path("int8"), tmp_path / "m.json")
    with open(tmp_path / doc["face_finder"], "ab") as f:
        f.write(b"\0")  # damaged after install
    monkeypatch.setattr(backends, "shipped_model_path", lambda name: tmp_path / "m.json")
    damaged = _checker_rows()
    assert all(r.status == FAILED for r in damaged)
    assert doc["face_finder"] in damaged[0].detail and "sha256 does not match" in damaged[0].detail
    assert "reinstall" in damaged[0].fix
    (tmp_path / doc["face_finder"]).unlink()  # not beside the manifest, nor installed
    monkeypatch.setenv("DABAI_MODELS_DIR", str(tmp_path / "nowhere"))
    missing = _checker_rows()
    assert all(r.status == MISSING for r in missing) and "DABAI_MODELS_DIR" in missing[0].fix
    (tmp_path / "m.json").unlink()
    assert all(r.status == MISSING for r in _checker_rows())
