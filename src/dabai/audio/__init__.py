"""Audio data tools: read/write, resample, trim, normalise, check, split into phrases, manifests.

Everything is lazy so ``import dabai.audio`` costs nothing::

    from dabai.audio import read_audio, write_wav, prep, check
    clip = read_audio("visitor.wav", rate=16000)   # Audio(samples float32 mono, rate)
"""

from __future__ import annotations

from dabai.core.lazy import lazy_exports

_LAZY = {
    "Audio": "dabai.audio.io",
    "read_audio": "dabai.audio.io",
    "read_raw": "dabai.audio.io",
    "write_wav": "dabai.audio.io",
    "list_audio": "dabai.audio.io",
    "resample": "dabai.audio.dsp",
    "trim_silence": "dabai.audio.dsp",
    "normalize_loudness": "dabai.audio.dsp",
    "add_noise": "dabai.audio.dsp",
    "PrepOptions": "dabai.audio.prep",
    "prep": "dabai.audio.prep",
    "prep_file": "dabai.audio.prep",
    "CheckLimits": "dabai.audio.check",
    "check": "dabai.audio.check",
    "check_file": "dabai.audio.check",
    "SplitOptions": "dabai.audio.phrases",
    "split_recording": "dabai.audio.phrases",
    "template_phrases": "dabai.audio.phrases",
    "ManifestEntry": "dabai.audio.manifest",
    "collect": "dabai.audio.manifest",
    "write_manifest": "dabai.audio.manifest",
    "read_manifest": "dabai.audio.manifest",
}

__getattr__, __all__ = lazy_exports("dabai.audio", _LAZY)
