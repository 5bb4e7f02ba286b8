"""A gate home with a key, a registry and a resident, for the QR payload fuzzing: the gate tests' fixtures."""

from __future__ import annotations

from tests.gate.conftest import home, keys, registry, resident, signer  # noqa: F401 - fixtures, used by name
