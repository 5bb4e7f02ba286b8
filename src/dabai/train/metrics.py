"""A run's ``metrics.csv``: one row per epoch, appended as the run goes and read back for plots and reports."""

from __future__ import annotations

import csv
from pathlib import Path

METRIC_FIELDS = ["epoch", "lr", "loss", "loss_cls", "loss_box", "val_map50", "val_map50_95", "epoch_seconds"]


def append_metrics(path: Path, row: dict) -> None:
    """Append one epoch's row; a row with new columns rewrites the file under the widened header
    (epochs without validation have no per-class AP, and the header must still fit every row)."""
    rows = [] if not path.exists() else _read_rows(path)
    header = list(rows[0].keys()) if rows else list(METRIC_FIELDS)
    extra = sorted(k for k in row if k not in header)
    if rows and not extra:
        with open(path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=header).writerow(row)
        return
    header += extra
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows + [row])
    tmp.replace(path)


def _read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [{k: (float(v) if v not in ("", None) else None) for k, v in r.items()} for r in _read_rows(path)]

