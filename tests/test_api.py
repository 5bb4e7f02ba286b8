"""The public API: every name `from dabai import …` promises resolves, lazily, without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dabai


@pytest.mark.parametrize("name", sorted(set(dabai.__all__) - {"__version__"}))
def test_every_public_name_resolves(name):
    assert getattr(dabai, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dabai.nope  # noqa: B018


def test_import_and_detector_do_not_import_torch():
    code = ("import sys, dabai; from dabai import Detector, label, mine; Detector.load(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_cli_help_lists_every_group():
    out = subprocess.run([sys.executable, "-m", "dabai", "--help"], capture_output=True, text=True, timeout=120)
    for group in ("data", "train", "eval", "predict", "prune", "export", "parity", "serve", "bench",
                  "asr", "tts", "audio", "residents", "keys", "pass", "gate", "demo", "mine", "label"):
        assert f"    {group} " in out.stdout, group
