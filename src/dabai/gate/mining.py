"""Which decisions the gate keeps a frame of for ``dabai mine``: the ones it was unsure about.

A decision is uncertain when the mask votes behind it were split, when the deciding face's score lies
within ``mining.margin`` of ``mask.min_face_score`` or (for a with_mask face) of ``mask.with_mask``, or when
a face scored just below ``min_face_score`` (a visitor the gate may have overlooked). Kept frames go to
``DABAI_HOME/mining/YYYYMMDD/`` with a .json note of why, pruned to the ``mining:`` limits of the gate config
(frames, megabytes, days).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from dabai.gate.config import GateConfig
from dabai.gate.decision import persons_at_gate
from dabai.gate.snapshots import save_snapshot
from dabai.runtime.types import Detection


def uncertain_reasons(outcomes: list[str | None], faces, config: GateConfig) -> list[str]:
    """Why a decision (its mask vote ``outcomes`` and the faces it went by) was uncertain; empty if it was not."""
    rules, margin = config.mask, config.mining.margin
    reasons = []
    counts = Counter(o or "mask_ok" for o in outcomes)
    if len(counts) > 1:
        reasons.append("votes split: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    persons = persons_at_gate(list(faces), rules)
    if persons:
        face = persons[0]
        if abs(face.score - rules.min_face_score) <= margin:
            reasons.append(f"face {face.score:.2f} near min_face_score {rules.min_face_score:g}")
        if face.label == "with_mask" and abs(face.score - rules.with_mask) <= margin:
            reasons.append(f"with_mask {face.score:.2f} near threshold {rules.with_mask:g}")
    below = [f for f in faces if rules.min_face_score - margin <= f.score < rules.min_face_score]
    if below and not persons:
        reasons.append(f"a face at {max(f.score for f in below):.2f}, just below min_face_score {rules.min_face_score:g}")
    return reasons


def keep_for_mining(folder: Path, frame: np.ndarray, faces: list[Detection], reasons: list[str], allow: bool,
                    config: GateConfig) -> Path | None:
    """Save the frame with a note (why, the decision, the faces) under ``folder``, pruned to the limits."""
    m = config.mining
    note = {"gate_id": config.gate_id, "allow": allow, "why": reasons, "faces": [f.to_json() for f in faces]}
    return save_snapshot(folder, frame, config.gate_id, m.max_frames, m.max_days, int(m.max_mb * 1_000_000), note)
