"""Personal data under the home is private (0600 files, 0700 folders) even when the home existed before."""

from __future__ import annotations

import os
import stat

import numpy as np

from dabai.gate.context import open_gate
from dabai.gate.home import GateHome, check_home_permissions
from dabai.gate.residents import add_resident
from dabai.gate.snapshots import save_snapshot, write_live


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_existing_home_gets_private_files_and_folders(tmp_path):
    """Defect 9: with a pre-existing DABAI_HOME, gate.db was 0644 and snapshots/ 0755."""
    old = os.umask(0o022)
    try:
        root = tmp_path / "srv-dabai"
        root.mkdir(mode=0o755)  # made by an administrator before dabai ever ran
        (root / "snapshots").mkdir(mode=0o755)
        home, _, reg = open_gate(root)
        add_resident(reg, "张三", "3-1-402", "13800000000")
        snap = save_snapshot(home.snapshots_dir, np.zeros((32, 32, 3), np.uint8), "gate-1", keep=5, max_days=1)
        write_live(home.live_dir, np.zeros((32, 32, 3), np.uint8), [], "idle", "gate-1")
        reg.close()
    finally:
        os.umask(old)
    assert mode(home.sqlite_path) == 0o600 and mode(home.snapshots_dir) == 0o700
    assert mode(snap) == 0o600 and mode(snap.parent) == 0o700
    assert mode(home.live_dir / "latest.jpg") == 0o600 and mode(home.console_dir) == 0o700
    for wal in home.root.glob("gate.db-*"):
        assert mode(wal) == 0o600, wal
    # only the home folder itself, which the administrator made 0755, is still reported
    warnings = check_home_permissions(home)
    assert len(warnings) == 1 and str(root) in warnings[0] and "chmod 700" in warnings[0]
    root.chmod(0o700)
    assert check_home_permissions(home) == []


def test_doctor_check_reports_widened_files_and_ensure_narrows_them(tmp_path):
    home = GateHome(tmp_path / "home").ensure()
    open_gate(home)[2].close()
    home.sqlite_path.chmod(0o644)
    home.snapshots_dir.chmod(0o755)
    warnings = check_home_permissions(home)
    assert any("gate.db: mode 644" in w for w in warnings) and any("snapshots: mode 755" in w for w in warnings)
    home.ensure()
    assert check_home_permissions(home) == []
