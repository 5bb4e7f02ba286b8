"""kill -9 in the middle of training, then --resume: no epoch lost, same weights as an unbroken run."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import pytest

torch = pytest.importorskip("torch")


def _dabai(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "dabai", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kwargs)


def test_resume_after_kill_loses_no_epoch(tiny_data, tmp_path, write_spec):
    epochs = 4
    spec = write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", epochs=epochs, **{"data.val": None})
    run = tmp_path / "runs" / "run"
    proc = _dabai("train", str(spec))
    first = run / "checkpoints" / "last.pt"  # written after the epoch file: the epoch is complete
    deadline = time.time() + 300
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = torch.load(run / "checkpoints" / "last.pt", weights_only=False)["epoch"] + 1
    assert done < epochs, "the run finished before it could be killed"
    resumed = _dabai("train", "--resume", str(run))
    out = resumed.communicate(timeout=600)[0].decode()
    assert resumed.returncode == 0, out
    assert f"resuming {run} after epoch {done}" in out
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == list(range(1, epochs + 1))

    # the same spec, never interrupted, ends with the same weights (RNG, sampler and schedule restored)
    straight_spec = write_spec(tmp_path / "s2.yaml", tiny_data, tmp_path / "runs2", epochs=epochs, **{"data.val": None})
    straight = _dabai("train", str(straight_spec))
    assert straight.wait(timeout=600) == 0
    a = torch.load(run / "checkpoints" / "last.pt", weights_only=False)
    b = torch.load(tmp_path / "runs2" / "run" / "checkpoints" / "last.pt", weights_only=False)
    assert a["ema_updates"] == b["ema_updates"] > 0
    for weights in ("model", "train_model"):  # the weight average and the live weights both resume exactly
        for key in a[weights]:
            torch.testing.assert_close(a[weights][key], b[weights][key], rtol=1e-4, atol=1e-5, msg=f"{weights}.{key}")


def test_resume_of_a_missing_run_is_a_clear_error(tmp_path):
    proc = _dabai("train", "--resume", str(tmp_path / "nope"))
    out = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 2
    assert "error: checkpoint not found" in out and "Traceback" not in out
