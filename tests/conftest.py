"""Shared fixtures: where ../shared lives, and skips with a clear reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("DABAI_SHARED", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session", autouse=True)
def _detection_cache(tmp_path_factory):
    """The model-running commands keep detections in a cache (eval/detcache.py): the tests' go to a folder of
    their own, never the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DABAI_CACHE_DIR", str(tmp_path_factory.mktemp("dabai-cache")))
        yield


def shared_path(relative: str) -> Path:
    """Path under ../shared, or skip the test naming what is missing."""
    path = SHARED_DIR / relative
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data beside the checkout); not present here")
    return path


@pytest.fixture
def face_mask_dir() -> Path:
    return shared_path("data/face-mask")


@pytest.fixture
def weights_dir() -> Path:
    return shared_path("weights")


@pytest.fixture
def speech_dir() -> Path:
    return shared_path("data/speech-zh")
