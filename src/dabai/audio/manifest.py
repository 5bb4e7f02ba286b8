"""NeMo-style JSONL manifests: one ``{"audio_filepath", "duration", "text"}`` object per line.

Transcripts come from a ``.txt`` file beside each recording (``a.wav`` +
``a.txt``) or from a labels table (``file<TAB>text`` or CSV with those
columns), so a team's recordings become a training manifest in one call.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from dabai.audio.io import list_audio, read_raw
from dabai.core.errors import DataError


@dataclass(frozen=True)
class ManifestEntry:
    audio_filepath: str  # path as written (absolute, or relative to the manifest's folder)
    duration: float  # seconds
    text: str  # transcript


def read_labels(path: str | Path) -> dict[str, str]:
    """``file → text`` from a TSV (``file<TAB>text``) or a CSV with ``file`` and ``text`` columns."""
    path = Path(path)
    if not path.is_file():
        raise DataError("labels file not found", path)
    rows: dict[str, str] = {}
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or not {"file", "text"} <= set(reader.fieldnames):
            raise DataError(f"expected CSV columns 'file' and 'text', found {reader.fieldnames}", path)
        for row in reader:
            rows[row["file"].strip()] = (row["text"] or "").strip()
        return rows
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if "\t" not in line:
            raise DataError("expected 'file<TAB>text'", path, i)
        name, value = line.split("\t", 1)
        rows[name.strip()] = value.strip()
    return rows


def collect(folder: str | Path, labels: str | Path | None = None, relative_to: Path | None = None) -> list[ManifestEntry]:
    """Entries for every recording in ``folder`` that has a transcript (sidecar .txt or labels row)."""
    folder = Path(folder)
    table = read_labels(labels) if labels else {}
    entries = []
    for wav in list_audio(folder):
        text = _lookup(table, wav, folder)
        if text is None:
            sidecar = wav.with_suffix(".txt")
            if not sidecar.is_file():
                raise DataError("has no transcript: add a .txt beside it or a row in the labels file", wav)
            text = sidecar.read_text(encoding="utf-8").strip()
        raw = read_raw(wav)
        shown = wav.resolve()
        if relative_to is not None:
            shown = Path(_relpath(shown, relative_to.resolve()))
        entries.append(ManifestEntry(str(shown), round(raw.duration_s, 3), text))
    return entries


def write_manifest(entries: list[ManifestEntry], path: str | Path) -> Path:
    """Write entries as JSONL (UTF-8, Chinese kept readable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps({"audio_filepath": e.audio_filepath, "duration": e.duration, "text": e.text}, ensure_ascii=False))
            f.write("\n")
    return path


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    path = Path(path)
    if not path.is_file():
        raise DataError("manifest not found", path)
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append(ManifestEntry(str(obj["audio_filepath"]), float(obj["duration"]), str(obj["text"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"expected a JSON object with audio_filepath, duration and text ({exc})", path, i) from None
    return out


def _lookup(table: dict[str, str], wav: Path, folder: Path) -> str | None:
    for key in (str(wav.relative_to(folder)), wav.name, wav.stem):
        if key in table:
            return table[key]
    return None


def _relpath(path: Path, base: Path) -> str:
    import os

    return os.path.relpath(path, base)
