"""dabai.gate: the gatekeeper — residents, signed QR passes, the decision, replies, event log, console.

Imports are lazy so ``import dabai.gate`` is cheap::

    from dabai.gate import resolve_home, open_gate, GateChecker
    home, config, registry = open_gate()            # DABAI_HOME, gate.yaml, registry
    checker = GateChecker(home, registry, config)
    result = checker.check("visitor.jpg", intent="enter")
    print(result.to_json())
"""

from __future__ import annotations

from dabai.core.lazy import lazy_exports

_LAZY = {
    "GateHome": "dabai.gate.home",
    "resolve_home": "dabai.gate.home",
    "GateConfig": "dabai.gate.config",
    "load_gate_config": "dabai.gate.config",
    "Registry": "dabai.gate.db",
    "open_registry": "dabai.gate.db",
    "open_gate": "dabai.gate.context",
    "ResidentInfo": "dabai.gate.residents",
    "add_resident": "dabai.gate.residents",
    "list_residents": "dabai.gate.residents",
    "find_resident": "dabai.gate.residents",
    "remove_resident": "dabai.gate.residents",
    "import_csv": "dabai.gate.residents",
    "init_keys": "dabai.gate.keys",
    "load_private_key": "dabai.gate.keys",
    "load_public_keys": "dabai.gate.keys",
    "issue_pass": "dabai.gate.passes",
    "revoke_pass": "dabai.gate.passes",
    "list_passes": "dabai.gate.passes",
    "verify_text": "dabai.gate.passes",
    "write_qr_png": "dabai.gate.passes",
    "PassCheck": "dabai.gate.passes",
    "decode_qr": "dabai.gate.qr",
    "Observations": "dabai.gate.decision",
    "Decision": "dabai.gate.decision",
    "decide": "dabai.gate.decision",
    "GateChecker": "dabai.gate.check",
    "GateResult": "dabai.gate.result",
    "query_events": "dabai.gate.events",
}

__getattr__, __all__ = lazy_exports("dabai.gate", _LAZY)
