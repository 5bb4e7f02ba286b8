"""``dabai doctor``: what is installed, where, which versions, which sha256 checks pass, what is missing.

Every row says how to install what is missing. The speech packs are looked up
exactly as the gate looks them up (:mod:`dabai.speech.models`), so what the
doctor reports is what ``dabai demo`` and ``dabai gate`` will use, for the user
who runs it::

    from dabai.doctor import diagnose
    report = diagnose(verify=True)            # re-hash every pack file
    for row in report.rows: print(row.item, row.status, row.where)
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field

from dabai.core.digest import sha256_file

OK, MISSING, FAILED, LEGACY = "ok", "missing", "failed", "legacy"
SPEECH_FIX = "bash scripts/install_speech_models.sh (or: dabai speech install)"
# Python distributions of the speech side: (distribution, what it does)
SPEECH_PACKAGES = (("faster-whisper", "ASR runtime"), ("ctranslate2", "ASR inference"),
                   ("onnxruntime", "Kokoro / detector inference"), ("misaki", "Kokoro's Chinese G2P"),
                   ("pypinyin", "pinyin (intents, names)"), ("jieba", "word segmentation"),
                   ("soundfile", "WAV I/O"), ("soxr", "resampling"), ("zhconv", "Simplified Chinese"),
                   ("cn2an", "numbers in Chinese"))


@dataclass(frozen=True)
class Row:
    group: str  # python, speech, tools, gate
    item: str
    status: str  # ok, missing, failed, legacy (found, but in a per-user folder other users do not see)
    where: str | None = None
    version: str | None = None
    detail: str = ""  # sha256 results, errors
    fix: str | None = None  # the command that installs or repairs it


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    python: str = sys.executable
    prefix: str = sys.prefix
    speech_install_dir: str = ""

    @property
    def healthy(self) -> bool:
        return all(r.status in (OK, LEGACY) for r in self.rows)

    def to_json(self) -> dict:
        return {"healthy": self.healthy, "python": self.python, "prefix": self.prefix,
                "speech_install_dir": self.speech_install_dir, "rows": [asdict(r) for r in self.rows]}


def diagnose(verify: bool = False) -> Report:
    """Inspect the installation; ``verify`` re-hashes every pack file instead of trusting the stamps."""
    from dabai.speech import models

    report = Report(speech_install_dir=str(models.install_dir()))
    report.rows += _python_rows()
    report.rows += _pack_rows(models, verify)
    report.rows += _voice_rows(models)
    report.rows.append(_espeak_row())
    report.rows += _checker_rows()
    report.rows.append(_home_row())
    return report


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _python_rows() -> list[Row]:
    rows = []
    for dist, what in SPEECH_PACKAGES:
        version = _version(dist)
        rows.append(Row("python", dist, OK if version else MISSING, None, version, what,
                        None if version else f"{sys.executable} -m pip install -e '.[speech]'"))
    return rows


def _pack_rows(models, verify: bool) -> list[Row]:
    from dabai.core.errors import ModelError

    rows = []
    for pack in (models.WHISPER_BASE, models.KOKORO):
        sources = ", ".join(f"{req}" for req in pack.pip)
        found = models.pack_location(pack)
        if found is None:
            rows.append(Row("speech", pack.name, MISSING, None, sources,
                            f"not in any of {', '.join(str(p) for p in models.cache_dirs())}", SPEECH_FIX))
            continue
        folder, kind = found
        try:
            models.check_pack(pack, folder, rehash=verify)
        except ModelError as exc:
            rows.append(Row("speech", pack.name, FAILED, str(folder), sources, str(exc), SPEECH_FIX))
            continue
        how = "re-hashed now" if verify else "stamp of the install-time hash (--verify re-hashes)"
        detail = f"{len(pack.files)} files, size and sha256 match the pinned values ({how}); location: {kind}"
        legacy = kind.startswith("legacy")
        rows.append(Row("speech", pack.name, LEGACY if legacy else OK, str(folder), sources,
                        detail + ("; other users and services do not see it" if legacy else ""),
                        SPEECH_FIX if legacy else None))
    return rows


def _voice_rows(models) -> list[Row]:
    folder = None
    for base, kind in models.search_dirs():
        candidate = base / models.KOKORO.name / "voices"
        if candidate.is_dir() and any(candidate.glob("*.bin")):
            folder, where_kind = candidate, kind
            break
    if folder is None:
        return [Row("speech", "kokoro voices", MISSING, None, models.KOKORO_JS,
                    "no Chinese voices: TTS falls back to espeak-ng (robot voice)", SPEECH_FIX)]
    good, bad, missing = [], [], []
    for name, digest in sorted(models.CHINESE_VOICES.items()):
        path = folder / f"{name}.bin"
        if not path.is_file():
            missing.append(name)
        elif sha256_file(path) == digest:
            good.append(name)
        else:
            bad.append(name)
    status = FAILED if bad else MISSING if missing else LEGACY if where_kind.startswith("legacy") else OK
    detail = f"sha256 ok: {len(good)}/{len(models.CHINESE_VOICES)}"
    detail += f"; wrong sha256: {', '.join(bad)}" if bad else ""
    detail += f"; missing: {', '.join(missing)}" if missing else ""
    detail += f"; location: {where_kind}"
    return [Row("speech", "kokoro voices", status, str(folder), models.KOKORO_JS, detail,
                None if status == OK else SPEECH_FIX)]


def _espeak_row() -> Row:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return Row("tools", "espeak-ng", MISSING, None, None, "the TTS fallback (only used when Kokoro is missing)",
                   "apt-get install -y espeak-ng")
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    words = proc.stdout.split()
    version = words[words.index("text-to-speech:") + 1] if "text-to-speech:" in words else None
    return Row("tools", "espeak-ng", OK, exe, version, "the TTS fallback (only used when Kokoro is missing)")


def _checker_rows() -> list[Row]:
    """The shipped mask checkers (``--model int8``, the default, and ``fp32``): every file each manifest names
    (stage 1, stage 2, the face finder) present and matching its recorded sha256."""
    from dabai.core.errors import ModelError
    from dabai.runtime.backends import DEFAULT_MODEL, shipped_model_path
    from dabai.runtime.checker import manifest_files, part_path, read_manifest, weights_dir

    rows = []
    for name in dict.fromkeys((DEFAULT_MODEL, "int8", "fp32")):
        label = f"mask checker {name}" + (" (default)" if name == DEFAULT_MODEL else "")
        path = shipped_model_path(name)
        if not path.is_file():
            rows.append(Row("gate", label, MISSING, str(path), None, "the shipped model is not in the package",
                            "pip install -e . (reinstall the dabai package)"))
            continue
        try:
            doc = read_manifest(path)
            finder = doc.get("face_finder")
            if finder and not part_path(path, "face_finder", finder).is_file():
                rows.append(Row("gate", label, MISSING, str(path), None,
                                f"its face finder {finder} is not installed in {weights_dir()}: the checker warns and "
                                "runs on stage 1's faces only",
                                f"copy {finder} into {weights_dir()} (or set DABAI_MODELS_DIR to its folder); for "
                                "the shipped checkers: pip install -e . (reinstall the dabai package)"))
                continue
            files = manifest_files(path, doc)
        except ModelError as exc:
            rows.append(Row("gate", label, FAILED, str(path), None, str(exc),
                            "pip install -e . (reinstall the dabai package)"))
            continue
        parts = ", ".join(f"{key} {file.name}" for key, file in files.items())
        rows.append(Row("gate", label, OK, str(path), None, f"sha256 ok: {len(files)}/{len(files)} ({parts})"))
    return rows


def _home_row() -> Row:
    from dabai.gate.home import check_home_permissions, resolve_home

    home = resolve_home()
    exists = home.root.is_dir()
    writable = os.access(home.root if exists else home.root.parent, os.W_OK)
    too_open = check_home_permissions(home) if exists else []  # personal data others can read
    status = OK if writable and not too_open else FAILED
    detail = ("per-user writable state (keys, registry, reply cache)" + ("" if exists else "; created on first use")
              + ("" if writable else "; not writable by this user") + "".join(f"; {w}" for w in too_open))
    fix = (None if writable else "set DABAI_HOME to a folder this user can write") or \
          (f"chmod -R go-rwx {home.root}" if too_open else None)
    return Row("gate", "DABAI_HOME", status, str(home.root), None, detail, fix)


def format_report(report: Report) -> str:
    lines = [f"python {report.python} (environment {report.prefix})",
             f"speech packs install into: {report.speech_install_dir}", ""]
    width = max(len(r.item) for r in report.rows)
    for r in report.rows:
        mark = {OK: "ok     ", LEGACY: "legacy ", MISSING: "MISSING", FAILED: "FAILED "}[r.status]
        line = f"{mark} {r.item:<{width}}  {r.version or '-':<28} {r.where or '-'}"
        lines.append(line.rstrip())
        if r.detail and r.status != OK or r.group == "speech":
            lines.append(f"        {r.detail}")
        if r.fix:
            lines.append(f"        install: {r.fix}")
    lines.append("")
    if not report.healthy:
        lines.append("something is missing or failed (see the 'install:' lines)")
    elif any(r.status == LEGACY for r in report.rows):
        lines.append(f"usable by this user; packs marked legacy sit in a per-user folder that other users and "
                     f"services do not see: {SPEECH_FIX} puts them in {report.speech_install_dir}")
    else:
        lines.append("all good")
    return "\n".join(lines)
