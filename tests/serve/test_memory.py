"""Issue 20's target "server RSS under 16 concurrent hostile uploads <= 1 GB and back to its idle level after",
on a real `dabai serve` process (one worker, the default 384 MB decode budget, batches of 4)."""

from __future__ import annotations

import sys

import pytest

from dabai.bench.burst import grey_png, upload_burst

from .conftest import running_server

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="reads RSS from /proc")]

SETTLED_MB = 40  # "back to idle": 5 s after the last answer, at most this much above the idle RSS


@pytest.mark.parametrize(("side", "clients"), [
    (6300, 8),  # 39.7 MP, just under the pixel cap: 119 MB decoded, one at a time under the budget
    (2500, 16),  # 6.3 MP: 19 MB decoded, about ten at once under the budget, so batches of 4 form
], ids=["near-cap", "mid-size"])
def test_rss_goes_back_to_idle_after_a_burst(serve_model, side, clients):
    """Failed before: the micro-batcher kept the last batch's decoded images alive (near-cap: +113 MB = one
    6300x6300x3 image), and glibc's dynamic mmap threshold put mid-size images into thread arenas that kept
    them (mid-size: +150 MB and more)."""
    with running_server("--model", str(serve_model)) as (url, proc):
        burst = upload_burst(url, proc.pid, grey_png(side, side), clients=clients)
    assert burst.codes == {200: clients}, burst.codes
    assert burst.peak_mb <= 1024, burst
    assert burst.after_mb <= burst.idle_mb + SETTLED_MB, (
        f"RSS {burst.after_mb:.0f} MB 5 s after the burst, idle {burst.idle_mb:.0f} MB (peak {burst.peak_mb:.0f} MB)")
