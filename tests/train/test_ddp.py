"""Distributed training under torchrun with 2 CPU processes (gloo backend)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed")
def test_torchrun_two_cpu_processes(tiny_data, tmp_path, write_spec):
    spec = write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", epochs=1)
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable)) or "torchrun"
    proc = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "dabai", "train", str(spec)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = tmp_path / "runs" / "run"
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert len(rows) == 1  # only rank 0 writes
    payload = torch.load(run / "checkpoints" / "last.pt", weights_only=False)
    # each rank saw half the (16-image) epoch: 8 samples / batch 4 = 2 optimiser steps
    assert payload["scheduler"]["last_epoch"] == 2
