"""The shipped checkers, loaded once for the loop's tests."""

from __future__ import annotations

import pytest

from dabai.runtime.detector import Detector


@pytest.fixture(scope="session")
def checker() -> Detector:
    return Detector.load()


@pytest.fixture(scope="session")
def checker_fp32() -> Detector:
    return Detector.load("fp32")


@pytest.fixture(scope="session")
def checker_int8() -> Detector:
    return Detector.load("int8")
