"""Opening a gate from the usual places: home folder, gate.yaml, registry."""

from __future__ import annotations

from pathlib import Path

from dabai.gate.config import GateConfig, load_gate_config
from dabai.gate.db import Registry, open_registry
from dabai.gate.home import GateHome, resolve_home


def open_gate(home: str | Path | GateHome | None = None, db: str | None = None,
              config: str | Path | GateConfig | None = None) -> tuple[GateHome, GateConfig, Registry]:
    """(home, config, registry): ``home`` or $DABAI_HOME or ~/.dabai; ``db`` or $DABAI_DB or SQLite in the home;
    ``config`` (a GateConfig or a YAML path) or home/gate.yaml or the defaults."""
    h = home if isinstance(home, GateHome) else resolve_home(home, db)
    if isinstance(home, GateHome) and db:
        h = GateHome(home.root, db)
    h.ensure()
    cfg = config if isinstance(config, GateConfig) else load_gate_config(config, h.config_path)
    return h, cfg, open_registry(h, synchronous=cfg.sqlite_synchronous)
