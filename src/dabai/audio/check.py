"""``dabai audio check``: find recordings that would hurt training or recognition.

Per file: sample rate, channels, duration, clipping, silence ratio, an SNR
estimate and peak level; over the folder: files whose rate or channel count
differ from the majority and duration outliers (median ± 3 scaled MADs).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from dabai.audio.dsp import clipped_fraction, estimate_snr_db, silence_ratio
from dabai.audio.io import expand_inputs, read_raw
from dabai.core.errors import DataError


@dataclass(frozen=True)
class CheckLimits:
    max_clipped: float = 0.001  # share of full-scale samples above which a file is "clipped"
    max_silence: float = 0.6  # share of silent frames above which a file is "mostly silence"
    min_snr_db: float = 15.0  # SNR estimate below which a file is "noisy"
    min_duration_s: float = 0.3  # shorter files are "too short"
    max_duration_s: float = 60.0  # longer files are "too long" for a clip dataset
    outlier_mads: float = 3.0  # duration outlier: further than this many scaled MADs from the median
    expect_rate: int | None = None  # flag files at another rate (None: the majority rate)
    expect_channels: int | None = None  # flag files with other channel counts (None: the majority)


@dataclass
class FileReport:
    file: str
    rate: int | None = None
    channels: int | None = None
    duration_s: float | None = None
    peak_dbfs: float | None = None
    clipped: float | None = None
    silence_ratio: float | None = None
    snr_db: float | None = None
    issues: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    files: list[FileReport]
    rates: dict[str, int]
    channels: dict[str, int]
    median_duration_s: float | None
    problems: int  # files with at least one issue

    def to_dict(self) -> dict:
        return asdict(self)


def check_file(path: Path, limits: CheckLimits = CheckLimits()) -> FileReport:
    """Measure one file; an unreadable or empty file becomes a report with that issue."""
    try:
        raw = read_raw(path)
    except DataError as exc:
        return FileReport(file=str(path), issues=[str(exc)])
    audio = raw.mono()
    peak = float(np.max(np.abs(raw.frames)))
    rep = FileReport(
        file=str(path),
        rate=raw.rate,
        channels=raw.channels,
        duration_s=round(raw.duration_s, 3),
        peak_dbfs=round(20 * np.log10(max(peak, 1e-6)), 1),
        clipped=round(clipped_fraction(raw.frames), 5),
        silence_ratio=round(silence_ratio(audio), 3),
        snr_db=_round(estimate_snr_db(audio)),
    )
    if rep.clipped > limits.max_clipped:
        rep.issues.append(f"clipped ({rep.clipped:.2%} of samples at full scale)")
    if rep.silence_ratio > limits.max_silence:
        rep.issues.append(f"mostly silence ({rep.silence_ratio:.0%} of frames)")
    if rep.snr_db is not None and rep.snr_db < limits.min_snr_db:
        rep.issues.append(f"noisy (SNR estimate {rep.snr_db:.1f} dB < {limits.min_snr_db:g})")
    if raw.duration_s < limits.min_duration_s:
        rep.issues.append(f"too short ({raw.duration_s:.2f} s < {limits.min_duration_s:g} s)")
    if raw.duration_s > limits.max_duration_s:
        rep.issues.append(f"too long ({raw.duration_s:.1f} s > {limits.max_duration_s:g} s)")
    return rep


def check(inputs: list[str | Path], limits: CheckLimits = CheckLimits(), show_progress: bool = True) -> CheckReport:
    """Check files and folders (searched recursively) and compare them with each other."""
    from tqdm import tqdm

    files = expand_inputs(inputs)
    if not files:
        raise DataError("no audio files given", inputs[0] if inputs else ".")
    bar = tqdm(files, desc="check", unit="file", disable=None if show_progress else True, leave=False)
    reports = [check_file(f, limits) for f in bar]
    good = [r for r in reports if r.rate is not None]
    rates = Counter(r.rate for r in good)
    chans = Counter(r.channels for r in good)
    want_rate = limits.expect_rate or (rates.most_common(1)[0][0] if rates else None)
    want_ch = limits.expect_channels or (chans.most_common(1)[0][0] if chans else None)
    durations = np.array([r.duration_s for r in good], dtype=np.float64)
    median = float(np.median(durations)) if durations.size else None
    mad = float(np.median(np.abs(durations - median))) * 1.4826 if durations.size else 0.0
    for r in good:
        if want_rate is not None and r.rate != want_rate:
            r.issues.append(f"sample rate {r.rate} Hz differs from {want_rate} Hz")
        if want_ch is not None and r.channels != want_ch:
            r.issues.append(f"{r.channels} channels, expected {want_ch}")
        if durations.size >= 5 and mad > 0 and abs(r.duration_s - median) > limits.outlier_mads * mad:
            r.issues.append(f"duration outlier ({r.duration_s:.2f} s vs median {median:.2f} s)")
    return CheckReport(
        files=reports,
        rates={str(k): v for k, v in sorted(rates.items())},
        channels={str(k): v for k, v in sorted(chans.items())},
        median_duration_s=round(median, 3) if median is not None else None,
        problems=sum(1 for r in reports if r.issues),
    )


def _round(value: float) -> float | None:
    return None if value != value else round(value, 1)  # NaN → None (JSON has no NaN)
