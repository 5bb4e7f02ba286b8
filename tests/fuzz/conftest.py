"""A gate home with a key, a registry and a resident, for the QR payload fuzzing."""

from __future__ import annotations

import pytest


@pytest.fixture
def home(tmp_path):
    from dabai.gate.home import GateHome
    from dabai.gate.keys import init_keys

    h = GateHome(tmp_path / "home").ensure()
    init_keys(h)
    return h


@pytest.fixture
def registry(home):
    from dabai.gate.db import open_registry

    reg = open_registry(home, synchronous="NORMAL")
    yield reg
    reg.close()


@pytest.fixture
def signer(home):
    from dabai.gate.keys import load_private_key

    return load_private_key(home)


@pytest.fixture
def keys(home):
    from dabai.gate.keys import load_public_keys

    return load_public_keys(home)


@pytest.fixture
def resident(registry):
    from dabai.gate.residents import add_resident

    return add_resident(registry, "张三", "3-1-402", "13800000000")
