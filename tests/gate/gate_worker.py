"""A separate gate process for the reliability tests (run as a script, not collected by pytest).

usage: gate_worker.py race HOME DB_URL GATE_ID PASSES_FILE START_FILE
       gate_worker.py spam HOME DB_URL GATE_ID
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dabai.gate.check import GateChecker
from dabai.gate.config import GateConfig
from dabai.gate.db import open_registry
from dabai.gate.home import GateHome
from dabai.runtime.types import Detection

MASKED = [Detection((100.0, 100.0, 260.0, 300.0), 0.95, "with_mask")]


def main(argv: list[str]) -> int:
    mode, root, url, gate_id = argv[:4]
    home = GateHome(Path(root), url)
    reg = open_registry(home, synchronous="FULL")
    checker = GateChecker(home, reg, GateConfig(gate_id=gate_id), detector=lambda image: MASKED)
    if mode == "race":
        texts = json.loads(Path(argv[4]).read_text())
        start = Path(argv[5])
        print("ready", flush=True)
        while not start.exists():
            time.sleep(0.001)
        accepted = []
        for text in texts:
            check = checker.verify(text)
            if checker.conclude(MASKED, check, "enter", {}).allow:
                accepted.append(text)
        print(json.dumps(accepted), flush=True)
    elif mode == "spam":
        i = 0
        while True:
            i += 1
            event_id = checker.conclude(MASKED, checker.verify(None), "enter", {"n": float(i)}).event_id
            print(f"ok {event_id}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
