"""The gate keeps frames of uncertain decisions for `dabai mine`, within count / bytes / age limits."""

from __future__ import annotations

import json
import os
import time

import pytest

from dabai.core.config import from_dict
from dabai.core.errors import ConfigError
from dabai.gate.check import GateChecker
from dabai.gate.config import GateConfig, MaskRules, MiningRules, SessionRules
from dabai.gate.listen import FixedIntent
from dabai.gate.mining import uncertain_reasons
from dabai.gate.passes import issue_pass
from dabai.gate.session import GateSession
from dabai.gate.snapshots import prune

from .helpers import FakeDetector, face, qr_frame

TIMING = SessionRules(present_frames=2, absent_frames=3, vote_frames=3, request_timeout_s=2.0, pass_timeout_s=2.0,
                      result_hold_s=0.5)


def decide_once(home, registry, text, faces, mining: MiningRules | None = None):
    cfg = GateConfig(gate_id="g", session=TIMING, mining=mining or MiningRules())
    session = GateSession(GateChecker(home, registry, cfg, detector=FakeDetector(faces)), FixedIntent("enter"))
    events = [e for i in range(10) if (e := session.feed(qr_frame(text), i / 10))]
    assert len(events) == 1
    return events[0]


def kept(home):
    return sorted(home.mining_dir.glob("*/*.jpg"))


def test_a_with_mask_score_near_the_threshold_is_kept_with_a_note(home, registry, signer, resident):
    text = issue_pass(registry, signer, resident.id).text
    threshold = MaskRules().with_mask
    event = decide_once(home, registry, text, [face("with_mask", threshold + 0.05)])
    assert event.allow  # admitted, but only just: worth a label
    [frame] = kept(home)
    note = json.loads(frame.with_suffix(".json").read_text())
    assert note["allow"] is True and f"with_mask {threshold + 0.05:.2f} near threshold {threshold:g}" in note["why"]
    assert note["faces"][0]["label"] == "with_mask"
    assert oct(frame.stat().st_mode & 0o777) == "0o600"  # a visitor's face: owner only


def test_a_clear_decision_keeps_nothing_and_keep_false_turns_it_off(home, registry, signer, resident):
    text = issue_pass(registry, signer, resident.id).text
    decide_once(home, registry, text, [face("with_mask", 0.93)])
    assert kept(home) == []
    decide_once(home, registry, text, [face("with_mask", 0.55)], MiningRules(keep=False))
    assert kept(home) == []


def test_uncertain_reasons():
    cfg = GateConfig(mask=MaskRules(min_face_score=0.4))
    assert uncertain_reasons([None, None], [face("with_mask", 0.93)], cfg) == []
    assert uncertain_reasons([None, "no_mask", None], [face("with_mask", 0.93)], cfg) == ["votes split: mask_ok 2, no_mask 1"]
    assert uncertain_reasons([None], [face("without_mask", 0.45)], cfg) == ["face 0.45 near min_face_score 0.4"]
    assert uncertain_reasons([None], [face("without_mask", 0.33)], cfg) == [
        "a face at 0.33, just below min_face_score 0.4"]
    strict = GateConfig(mask=MaskRules(with_mask=0.9), mining=MiningRules(margin=0.05))
    assert uncertain_reasons([None], [face("with_mask", 0.93)], strict) == ["with_mask 0.93 near threshold 0.9"]


def test_retention_by_count_bytes_and_age(tmp_path):
    now = time.time()
    for i in range(6):  # newest first: 0.jpg is the newest
        d = tmp_path / "20260101"
        d.mkdir(exist_ok=True)
        (d / f"{i}.jpg").write_bytes(b"x" * 100)
        (d / f"{i}.json").write_text("{}")
        for p in (d / f"{i}.jpg", d / f"{i}.json"):
            os.utime(p, (now - i * 3600, now - i * 3600))
    assert prune(tmp_path, keep=5, max_days=30) == 1  # count
    assert not (tmp_path / "20260101" / "5.json").exists()  # its note goes with it
    assert prune(tmp_path, keep=5, max_days=30, max_bytes=3 * 102) == 2  # bytes: 3 frames + notes fit
    assert prune(tmp_path, keep=5, max_days=1.5 / 24) == 1  # age: older than 1.5 h
    assert sorted(p.name for p in tmp_path.glob("*/*")) == ["0.jpg", "0.json", "1.jpg", "1.json"]


def test_mining_config_is_checked():
    assert from_dict(GateConfig, {"mining": {"max_frames": 10, "max_mb": 5}}).mining.max_frames == 10
    with pytest.raises(ConfigError, match="mining"):
        from_dict(GateConfig, {"mining": {"max_mb": -1}})
    with pytest.raises(ConfigError, match="mining.max_fames"):
        from_dict(GateConfig, {"mining": {"max_fames": 10}})
