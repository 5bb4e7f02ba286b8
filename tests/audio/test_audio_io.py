from __future__ import annotations

import numpy as np
import pytest

from dabai.audio.dsp import resample
from dabai.audio.io import Audio, expand_inputs, list_audio, read_audio, read_raw, write_wav
from dabai.core.errors import DataError

from .helpers import silence, tone, utterance, write


def test_write_then_read_is_mono_16bit(tmp_path):
    audio = Audio(tone(0.5, 22050), 22050)
    path = write_wav(audio, tmp_path / "sub" / "a.wav")
    raw = read_raw(path)
    assert (raw.rate, raw.channels, raw.subtype) == (22050, 1, "PCM_16")
    back = read_audio(path)
    assert back.samples.dtype == np.float32 and back.samples.ndim == 1
    assert np.max(np.abs(back.samples - audio.samples)) < 1e-3


def test_write_clips_out_of_range(tmp_path):
    path = write_wav(Audio(np.array([2.0, -3.0, 0.5], np.float32), 8000), tmp_path / "c.wav")
    assert np.all(np.abs(read_audio(path).samples) <= 1.0)


def test_not_audio_names_the_file(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(DataError, match=r"notes\.wav.*not a readable audio file"):
        read_audio(bad)


def test_empty_file_and_zero_frames(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty.wav"):
        read_audio(empty)
    zero = write(tmp_path / "zero.wav", np.zeros(0, np.float32))
    with pytest.raises(DataError, match="no audio samples"):
        read_audio(zero)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_audio(tmp_path / "nope.wav")
    with pytest.raises(DataError, match="is a folder"):
        read_audio(tmp_path)


def test_8khz_stereo_becomes_16khz_mono(tmp_path):
    left, right = tone(1.0, 8000, 200), tone(1.0, 8000, 300)
    path = write(tmp_path / "phone.wav", np.stack([left, right], axis=1), 8000)
    audio = read_audio(path, rate=16000)
    assert audio.rate == 16000 and audio.samples.ndim == 1
    assert abs(len(audio.samples) - 16000) <= 2


def test_resample_keeps_duration():
    audio = Audio(utterance([("tone", 0.3), ("gap", 0.2)], 24000), 24000)
    out = resample(audio, 44100)
    assert out.rate == 44100 and abs(out.duration_s - audio.duration_s) < 1e-3


def test_list_and_expand(tmp_path):
    write(tmp_path / "a.wav", silence(0.1))
    write(tmp_path / "d" / "b.flac", silence(0.1))
    (tmp_path / "readme.txt").write_text("x")
    assert [p.name for p in list_audio(tmp_path)] == ["a.wav", "b.flac"]
    files = expand_inputs([tmp_path, tmp_path / "a.wav"])
    assert len(files) == 2
    with pytest.raises(DataError, match="no audio files"):
        list_audio(_empty(tmp_path))


def _empty(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_long_or_absurd_recordings_are_refused_before_decoding(tmp_path):
    """Bounded work: a recording's declared duration (and channels, rate) is checked from the header first."""
    import time

    import soundfile as sf

    from dabai.audio.io import MAX_DURATION_S

    long = tmp_path / "long.wav"
    sf.write(str(long), np.zeros(int((MAX_DURATION_S + 1) * 8000), np.int16), 8000, subtype="PCM_16")
    started = time.perf_counter()
    with pytest.raises(DataError, match=r"long.wav: the header declares 601 s of audio, more than the limit"):
        read_raw(long)
    assert time.perf_counter() - started < 2.0
    assert read_raw(long, max_duration_s=700).duration_s > 600  # the limit is a parameter



def test_decoded_size_is_bounded_from_the_header(tmp_path, monkeypatch):
    """Duration alone does not bound memory (16 channels at 384 kHz): the decoded size is checked too."""
    import soundfile as sf

    import dabai.audio.io as audio_io

    wide = tmp_path / "wide.wav"
    sf.write(str(wide), np.zeros((200_000, 16), np.int16), 384_000, subtype="PCM_16")  # 0.5 s, 12.8 MB decoded
    assert read_raw(wide).channels == 16
    monkeypatch.setattr(audio_io, "MAX_DECODED_BYTES", 4 * 2**20)
    with pytest.raises(DataError, match=r"200000 frames x 16 channels, more than 4 MB decoded"):
        read_raw(wide)
