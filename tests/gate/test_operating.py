"""`eval --operating-points`: false-admit / false-refuse rates per mask threshold as the gate decides,
the recommended threshold, and writing it into a gate config without losing the user's settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dabai.cli.main import main
from dabai.core.errors import ConfigError, DataError
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.gate.config import MaskRules
from dabai.gate.config_edit import set_config_values
from dabai.gate.operating import gate_faces, sweep, wilson
from dabai.runtime.types import Detection


def _face(i: int, label: str) -> Box:
    return Box(100.0 * i, 0.0, 100.0 * i + 60, 60.0, label)


def planted() -> tuple[Dataset, dict[str, list[Detection]]]:
    """One image: 4 masked faces scoring 0.45/0.6/0.75/0.9, one never seen; 3 unmasked faces, one passing
    as with_mask 0.55, one with_mask 0.3 outvoted by without_mask 0.8; a 10 px masked face (skipped)."""
    boxes = [_face(i, "with_mask") for i in range(5)] + [_face(5, "without_mask"), _face(6, "without_mask"),
                                                           _face(7, "mask_weared_incorrect"),
                                                           Box(900, 0, 910, 10, "with_mask")]
    det = [Detection(tuple(b.as_list()), s, "with_mask") for b, s in zip(boxes, (0.45, 0.6, 0.75, 0.9))]
    det += [Detection(tuple(boxes[5].as_list()), 0.55, "with_mask"),
            Detection(tuple(boxes[6].as_list()), 0.3, "with_mask"),
            Detection(tuple(boxes[6].as_list()), 0.8, "without_mask"),
            Detection(tuple(boxes[7].as_list()), 0.7, "mask_weared_incorrect"),
            Detection((900.0, 0.0, 910.0, 10.0), 0.99, "with_mask")]
    image = ImageRecord(path="gate.jpg", width=1000, height=100, boxes=boxes)
    return Dataset([image], ["with_mask", "without_mask", "mask_weared_incorrect"]), {image.name: det}


def test_rates_follow_the_gate_rules():
    ds, dets = planted()
    rules = MaskRules(min_face_score=0.4)  # and min_face_px 20
    outcomes, skipped = gate_faces(ds, dets, rules)
    assert skipped == 1 and len(outcomes) == 8
    # the face the gate sees on box 6 is the without_mask one (one label per face, best score)
    assert [o.seen.label if o.seen else None for o in outcomes][5:] == ["with_mask", "without_mask",
                                                                        "mask_weared_incorrect"]
    points = sweep(outcomes, rules, max_false_admit=0.0)
    at = {round(t, 2): (a, r) for t, a, r in zip(points.thresholds, points.false_admit, points.false_refuse)}
    assert at[0.5] == (pytest.approx(1 / 3), pytest.approx(2 / 5))  # 0.55 unmasked admitted; 0.45 and unseen refused
    assert at[0.56] == (0.0, pytest.approx(2 / 5))
    assert at[0.61] == (0.0, pytest.approx(3 / 5))
    assert at[0.2] == at[0.4]  # below min_face_score the threshold changes nothing
    assert points.recommended == 0.56 and points.unseen_ok == 1
    assert points.faces_not_ok == {"mask_weared_incorrect": 1, "without_mask": 2}
    assert sweep(outcomes, rules, max_false_admit=0.5).recommended == 0.0
    # a stricter face-score rule changes what the gate sees: the 0.45 face is no longer a face at all
    strict = sweep(gate_faces(ds, dets, MaskRules(min_face_score=0.5))[0], MaskRules(min_face_score=0.5), 0.0)
    assert strict.unseen_ok == 2


def test_needs_both_kinds_of_face():
    ds, dets = planted()
    ds.images[0].boxes = [b for b in ds.images[0].boxes if b.label == "with_mask"]
    with pytest.raises(DataError, match="both kinds"):
        sweep(gate_faces(ds, dets, MaskRules())[0], MaskRules())


def test_wilson():
    lo, hi = wilson(0, 300)
    assert lo == 0.0 and 0.01 < hi < 0.015  # 0 of 300: the rate may still be about 1 %
    lo, hi = wilson(50, 100)
    assert lo < 0.5 < hi and hi - 0.5 == pytest.approx(0.5 - lo)


GATE_YAML = """\
# our gate
gate_id: north-gate   # the north entrance
mask:
  min_face_score: 0.45  # tuned in June
  with_mask: 0.5
replies:
  no_mask: "请戴好口罩"
"""


def test_config_edit_keeps_the_rest(tmp_path):
    path = tmp_path / "gate.yaml"
    path.write_text(GATE_YAML, encoding="utf-8")
    config = set_config_values(path, {"mask.with_mask": 0.62})
    assert config.mask.with_mask == 0.62 and config.mask.min_face_score == 0.45 and config.gate_id == "north-gate"
    assert path.read_text(encoding="utf-8") == GATE_YAML.replace("with_mask: 0.5", "with_mask: 0.62")
    fresh = set_config_values(tmp_path / "new" / "gate.yaml", {"mask.with_mask": 0.7})
    assert fresh.mask.with_mask == 0.7 and fresh.gate_id == "gate-1"


@pytest.mark.parametrize("text,values,message", [
    (GATE_YAML, {"mask.with_mask": 1.5}, "mask.with_mask: 1.5 must be between 0 and 1"),
    (GATE_YAML, {"mask.with_mask": "high"}, "mask.with_mask"),
    (GATE_YAML + "colour: red\n", {"mask.with_mask": 0.6}, "unknown key 'colour'"),
    ("mask: [1, 2\n", {"mask.with_mask": 0.6}, "not valid YAML"),
    ("mask: 3\n", {"mask.with_mask": 0.6}, "'mask' in 'mask.with_mask' holds 3"),
])
def test_config_edit_refuses_and_leaves_the_file(tmp_path, text, values, message):
    path = tmp_path / "gate.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        set_config_values(path, values)
    assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["gate.yaml"]


def test_cli_with_the_shipped_model(tmp_path, capsys):
    """The whole command on generated faces: curve, JSON, and the threshold written into the config."""
    from dabai.data.synth import make_sample_dataset

    make_sample_dataset(tmp_path / "voc", n_images=12, seed=7)
    gate = tmp_path / "gate.yaml"
    gate.write_text(GATE_YAML, encoding="utf-8")
    code = main(["eval", "--data", str(tmp_path / "voc"), "--operating-points", "--max-false-admit", "1",
                 "--plots", str(tmp_path / "out"), "--write-gate-config", str(gate), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recommended"] == 0.0 and report["gate_config_read"] == str(gate)
    assert report["curve"][0]["threshold"] == 0.0 and len(report["curve"]) == 101
    assert json.loads((tmp_path / "out" / "operating_points.json").read_text())["recommended"] == 0.0
    assert (tmp_path / "out" / "operating_points.png").stat().st_size > 10_000
    assert "with_mask: 0.0\n" in gate.read_text() and "# tuned in June" in gate.read_text()
    rates = np.array([[p["false_admit"], p["false_refuse"]] for p in report["curve"]])
    assert (np.diff(rates[:, 0]) <= 0).all() and (np.diff(rates[:, 1]) >= 0).all()
    assert main(["eval", "--data", str(tmp_path / "voc"), "--write-gate-config", str(gate)]) == 2


def test_cli_runs_the_checker_as_the_gate_does(tmp_path, monkeypatch):
    """The gate loads the checker without its second look at crowds (gate/check.load_detector); the
    thresholds --operating-points recommends must come from that same checker (session 17: the CLI ran the
    second look, 58 against 67 unseen masked faces on face-mask + ilc2021 val)."""
    import dabai.gate.operating as operating

    seen = {}

    def capture(detector, *args, **kwargs):
        seen["second_look"] = detector.second_look
        raise DataError("captured")

    monkeypatch.setattr(operating, "operating_points", capture)
    assert main(["eval", "--data", str(tmp_path), "--operating-points"]) != 0
    assert seen == {"second_look": False}
