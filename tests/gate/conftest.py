"""Fixtures for the gate tests: a fresh home with keys, a registry and a resident."""

from __future__ import annotations

import pytest

from dabai.gate.config import GateConfig
from dabai.gate.db import open_registry
from dabai.gate.home import GateHome
from dabai.gate.keys import init_keys, load_private_key, load_public_keys
from dabai.gate.residents import add_resident


@pytest.fixture
def home(tmp_path) -> GateHome:
    h = GateHome(tmp_path / "home").ensure()
    init_keys(h)
    return h


@pytest.fixture
def registry(home):
    reg = open_registry(home, synchronous="NORMAL")
    yield reg
    reg.close()


@pytest.fixture
def signer(home):
    return load_private_key(home)


@pytest.fixture
def keys(home):
    return load_public_keys(home)


@pytest.fixture
def resident(registry):
    return add_resident(registry, "张三", "3-1-402", "13800000000")


@pytest.fixture
def config() -> GateConfig:
    return GateConfig(gate_id="test-gate")
