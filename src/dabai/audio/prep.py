"""``dabai audio prep``: make recordings uniform (rate, mono, trimmed, loudness-normalised).

This is the cleaning the seed teams did before training TTS (44.1 kHz mono,
silence trimmed), as a library call over one file or a whole folder tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dabai.audio.dsp import normalize_loudness, resample, trim_silence
from dabai.audio.io import read_raw, write_wav
from dabai.core.errors import DataError


@dataclass(frozen=True)
class PrepOptions:
    rate: int | None = 44100  # output sample rate; None keeps each file's rate
    mono: bool = True  # average channels into one (False keeps only files that already are mono)
    trim: bool = True  # cut leading/trailing silence
    trim_db: float = -40.0  # silence threshold relative to the loudest 20 ms frame
    trim_pad_s: float = 0.05  # margin kept around the speech when trimming
    normalize: bool = True  # scale speech to target_dbfs
    target_dbfs: float = -20.0  # gated RMS level of the speech after normalising
    peak_dbfs: float = -1.0  # peak ceiling after normalising
    subtype: str = "PCM_16"  # WAV sample format written


@dataclass(frozen=True)
class PrepResult:
    source: Path
    output: Path
    rate_in: int
    channels_in: int
    duration_in_s: float
    duration_out_s: float


def prep_file(source: str | Path, output: str | Path, options: PrepOptions = PrepOptions()) -> PrepResult:
    """Clean one file into ``output`` (a .wav path)."""
    source, output = Path(source), Path(output)
    raw = read_raw(source)
    if raw.channels > 1 and not options.mono:
        raise DataError(f"has {raw.channels} channels; pass --mono to mix them down", source)
    audio = raw.mono()
    if options.rate is not None and options.rate != audio.rate:
        audio = resample(audio, options.rate)
    if options.trim:
        audio = trim_silence(audio, options.trim_db, options.trim_pad_s)
        if len(audio.samples) == 0:
            raise DataError("is silent from start to end; nothing left after trimming", source)
    if options.normalize:
        audio = normalize_loudness(audio, options.target_dbfs, options.peak_dbfs)
    write_wav(audio, output, subtype=options.subtype)
    return PrepResult(source, output, raw.rate, raw.channels, raw.duration_s, audio.duration_s)


def plan_outputs(source: str | Path, output: str | Path) -> list[tuple[Path, Path]]:
    """Pairs (input file, output .wav): a file maps to a file (or into a folder), a folder to a mirrored tree."""
    from dabai.audio.io import list_audio

    source, output = Path(source), Path(output)
    if source.is_dir():
        if output.exists() and not output.is_dir():
            raise DataError("is a file; the output of a folder must be a folder", output)
        if output.resolve() == source.resolve():
            raise DataError("output folder is the input folder; choose another so originals are kept", output)
        return [(f, (output / f.relative_to(source)).with_suffix(".wav")) for f in list_audio(source)]
    if not source.exists():
        raise DataError("input not found", source)
    if output.is_dir() or str(output).endswith(("/", "\\")):
        return [(source, output / (source.stem + ".wav"))]
    if output.suffix.lower() != ".wav":
        raise DataError("output must be a .wav file or a folder", output)
    return [(source, output)]


def prep(
    source: str | Path, output: str | Path, options: PrepOptions = PrepOptions(), show_progress: bool = True
) -> list[PrepResult]:
    """Clean a file or every audio file under a folder; stops at the first unreadable file."""
    from tqdm import tqdm

    pairs = plan_outputs(source, output)
    # disable=None: a bar on a terminal, quiet in logs, pipes and tests.
    items = tqdm(pairs, desc="prep", unit="file", disable=None if show_progress else True, leave=False)
    return [prep_file(src, dst, options) for src, dst in items]
