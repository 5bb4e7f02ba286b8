"""Pack assembly and verification with small fake packs (the real ones are tested in test_packs)."""

from __future__ import annotations

import hashlib

import pytest

from dabai.core.errors import ModelError
from dabai.speech import models
from dabai.speech.models import Pack, PackFile, Part


@pytest.fixture
def fake_pack(tmp_path, monkeypatch):
    site = tmp_path / "site"
    for name, payload in (("fakepack_a", b"hello "), ("fakepack_b", b"world")):
        pkg = site / name / "data"
        pkg.mkdir(parents=True)
        (site / name / "__init__.py").write_text("")
        (pkg / "part.bin").write_bytes(payload)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("DABAI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DABAI_SPEECH_DIR", str(tmp_path / "speech"))
    blob = b"hello world"
    return Pack("fake", (PackFile("model.bin", (Part("fakepack_a", "data/part.bin"), Part("fakepack_b", "data/part.bin")),
                                  len(blob), hashlib.sha256(blob).hexdigest()),), pip=())


def test_assemble_verifies_and_stamps(fake_pack, tmp_path):
    with pytest.raises(ModelError, match="not installed .*install_speech_models.sh"):
        models.ensure_pack(fake_pack)  # runtime finds packs; only the installer assembles them
    folder = models.assemble(fake_pack)
    assert folder == tmp_path / "speech" / "fake" == models.ensure_pack(fake_pack)
    assert (folder / "model.bin").read_bytes() == b"hello world"
    assert (folder / models.STAMP).is_file()
    assert models.ensure_pack(fake_pack, verify=True) == folder  # idempotent


def test_corrupt_file_is_detected(fake_pack):
    folder = models.assemble(fake_pack)
    (folder / "model.bin").write_bytes(b"hello WORLD")  # same size, new mtime: re-hashed
    with pytest.raises(ModelError, match="sha256 .* does not match"):
        models.ensure_pack(fake_pack)
    (folder / "model.bin").write_bytes(b"short")
    with pytest.raises(ModelError, match="5 bytes, expected 11"):
        models.ensure_pack(fake_pack)


def test_wrong_parts_fail_assembly_and_leave_nothing(fake_pack):
    bad = Pack("bad", (PackFile("model.bin", fake_pack.files[0].parts, 11, "0" * 64),), pip=())
    with pytest.raises(ModelError, match="does not match the pinned"):
        models.assemble(bad)
    folder = models.cache_dirs()[0] / "bad"
    assert not (folder / "model.bin").exists() and not list(folder.glob("*.tmp"))


def test_missing_packages_say_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("DABAI_SPEECH_DIR", str(tmp_path))
    pack = Pack("absent", (PackFile("m.bin", (Part("no_such_package_xyz", "a.bin"),), None, None),), pip=())
    with pytest.raises(ModelError, match="no_such_package_xyz.*install_speech_models.sh"):
        models.ensure_pack(pack)


def test_packs_live_in_the_environment_for_every_user(fake_pack, tmp_path, monkeypatch):
    """Installed into sys.prefix/share/dabai/speech, a pack is found whatever HOME is; an older per-user
    install is still read, and said to be legacy (issue 17)."""
    import sys

    monkeypatch.delenv("DABAI_SPEECH_DIR")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert models.install_dir() == tmp_path / "venv" / "share" / "dabai" / "speech"
    legacy = models.assemble(fake_pack, tmp_path / "home" / "models" / "speech")  # as older installs did
    assert models.pack_location(fake_pack) == (legacy, "legacy (per user)")
    installed = models.assemble(fake_pack)
    assert models.pack_location(fake_pack) == (installed, "environment")  # the environment's copy wins
    for home in ("another-user", "service"):
        monkeypatch.setenv("HOME", str(tmp_path / home))
        monkeypatch.delenv("DABAI_HOME")
        assert models.ensure_pack(fake_pack) == installed
        monkeypatch.setenv("DABAI_HOME", str(tmp_path / "home"))


def test_read_only_install_still_verifies(fake_pack, tmp_path, caplog, monkeypatch):
    folder = models.assemble(fake_pack)
    (folder / models.STAMP).unlink()  # another user's install, not stamped, and not writable for this one

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(models.os, "replace", read_only)
    assert models.ensure_pack(fake_pack) == folder  # hashed and accepted; only the stamp could not be written
    assert "cannot record the verified sha256" in caplog.text
    (folder / "model.bin").write_bytes(b"hello WORLD")
    with pytest.raises(ModelError, match="does not match"):
        models.ensure_pack(fake_pack)


def test_whisper_model_choices(tmp_path):
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper model folder"):
        models.whisper_model(str(tmp_path))
    (tmp_path / "model.bin").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    assert models.whisper_model(str(tmp_path)) == str(tmp_path)
    with pytest.raises(ModelError, match="--allow-download"):
        models.whisper_model("Systran/faster-whisper-small")
    assert models.whisper_model("small", allow_download=True) == "small"


def test_voice_install_checks_size(tmp_path, monkeypatch):
    monkeypatch.setenv("DABAI_SPEECH_DIR", str(tmp_path / "speech"))
    (tmp_path / "zf_test.bin").write_bytes(b"\0" * 100)
    with pytest.raises(ModelError, match="not the expected voice table"):
        models.install_voices(tmp_path, ["zf_test"])
    (tmp_path / "zf_test.bin").write_bytes(b"\0" * models.VOICE_BYTES)
    assert models.install_voices(tmp_path, ["zf_test"]) == ["zf_test"]
    assert models.available_voices() == ["zf_test"]


def test_real_pack_pins_are_consistent():
    assert models.WHISPER_BASE.files[0].size == 145_217_532
    assert all(len(d) == 64 for d in models.CHINESE_VOICES.values())


def test_an_unwritable_install_folder_is_a_clear_error(fake_pack, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DABAI_SPEECH_DIR", str(blocker / "speech"))
    with pytest.raises(ModelError, match="cannot write the speech packs .*DABAI_SPEECH_DIR"):
        models.assemble(fake_pack)
