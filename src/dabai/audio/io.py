"""Reading and writing audio files: the ``Audio`` type, ``read_audio`` and ``write_wav``.

Files are decoded with soundfile (libsndfile: WAV, FLAC, OGG, MP3…), never by
shelling out to ffmpeg. Every problem a user can cause (a missing file, a file
that is not audio, an empty recording) is a :class:`~dabai.core.errors.DataError`
naming the file and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dabai.core.errors import DataError, require

#: extensions that ``list_audio`` picks up in a folder
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".opus")
#: longest recording decoded (from the header, before decoding); a gate request lasts seconds
MAX_DURATION_S = 600.0
MAX_CHANNELS = 16
MAX_RATE = 384_000
MAX_DECODED_BYTES = 256 * 2**20  # float32 samples of all channels, as decoded


@dataclass(frozen=True, eq=False)
class Audio:
    """A mono recording: float32 ``samples`` in [-1, 1] at ``rate`` Hz."""

    samples: np.ndarray  # shape (n,), float32, mono, nominally within [-1, 1]
    rate: int  # sample rate in Hz

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.rate) if self.rate else 0.0

    def __repr__(self) -> str:
        return f"Audio({len(self.samples)} samples, {self.rate} Hz, {self.duration_s:.2f} s)"


@dataclass(frozen=True, eq=False)
class RawAudio:
    """A file as stored: ``frames`` of shape (n, channels), float32, plus what the header said."""

    frames: np.ndarray  # shape (n, channels), float32
    rate: int  # sample rate in Hz
    subtype: str  # e.g. PCM_16, FLOAT
    format: str  # e.g. WAV, FLAC

    @property
    def channels(self) -> int:
        return int(self.frames.shape[1])

    @property
    def duration_s(self) -> float:
        return self.frames.shape[0] / float(self.rate)

    def mono(self) -> Audio:
        """Average the channels into one."""
        samples = self.frames.mean(axis=1) if self.channels > 1 else self.frames[:, 0]
        return Audio(np.ascontiguousarray(samples, dtype=np.float32), self.rate)


def read_raw(path: str | Path, max_duration_s: float = MAX_DURATION_S) -> RawAudio:
    """Decode a file keeping all channels; DataError if it is missing, not audio or empty, or if its header
    declares more than ``max_duration_s`` seconds (or an absurd channel count or rate): checked before decoding."""
    sf = require("soundfile", "speech")
    path = Path(path)
    if not path.exists():
        raise DataError("audio file not found", path)
    if path.is_dir():
        raise DataError("is a folder; expected an audio file (WAV, FLAC, OGG or MP3)", path)
    try:
        info = sf.info(str(path))
        if not 0 < info.samplerate <= MAX_RATE or not 0 < info.channels <= MAX_CHANNELS:
            raise DataError(f"the header declares {info.channels} channel(s) at {info.samplerate} Hz; expected "
                            f"1-{MAX_CHANNELS} channels at up to {MAX_RATE} Hz", path)
        declared = info.frames / info.samplerate
        if declared > max_duration_s:
            raise DataError(f"the header declares {declared:.0f} s of audio, more than the limit of "
                            f"{max_duration_s:g} s (refused before decoding)", path)
        if info.frames * info.channels * 4 > MAX_DECODED_BYTES:
            raise DataError(f"the header declares {info.frames} frames x {info.channels} channels, more than "
                            f"{MAX_DECODED_BYTES // 2**20} MB decoded (refused before decoding)", path)
        frames, rate = sf.read(str(path), dtype="float32", always_2d=True, frames=int(max_duration_s * info.samplerate) + 1)
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError, OverflowError, MemoryError) as exc:
        raise DataError(
            f"not a readable audio file ({_short(exc)}); expected WAV, FLAC, OGG or MP3", path
        ) from None
    if frames.shape[0] == 0:
        raise DataError("has no audio samples (0 frames); expected a recording", path)
    if not np.all(np.isfinite(frames)):
        raise DataError("contains NaN or infinite samples", path)
    return RawAudio(frames, int(rate), str(info.subtype), str(info.format))


def read_audio(path: str | Path, rate: int | None = None) -> Audio:
    """Read a file as mono float32, resampled to ``rate`` when given."""
    audio = read_raw(path).mono()
    if rate is not None and audio.rate != rate:
        from dabai.audio.dsp import resample

        audio = resample(audio, rate)
    return audio


def write_wav(audio: Audio, path: str | Path, subtype: str = "PCM_16") -> Path:
    """Write mono 16-bit (by default) WAV; samples are clipped to [-1, 1]. Returns the path."""
    sf = require("soundfile", "speech")
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.clip(np.asarray(audio.samples, dtype=np.float32), -1.0, 1.0)
    if samples.ndim != 1:
        raise DataError(f"expected mono samples of shape (n,), got shape {samples.shape}", path)
    sf.write(str(path), samples, int(audio.rate), subtype=subtype, format="WAV")
    return path


def list_audio(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Audio files under ``folder`` (sorted), or DataError if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError("folder not found", folder)
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise DataError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in this folder", folder)
    return files


def expand_inputs(inputs: list[str | Path]) -> list[Path]:
    """Files and folders (searched recursively) → a flat, de-duplicated list of audio files."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out.extend(list_audio(path))
        else:
            out.append(path)
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
