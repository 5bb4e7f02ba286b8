"""dabai mine: signals per frame, look-alikes spread out, planted hard cases found, every kind of source."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.loop.faces import Face
from dabai.loop.mine import Candidate, MineOptions, frame_signals, mine, pick

from .helpers import make_photos, mining_pool, write

CLASSES = ("with_mask", "without_mask", "mask_weared_incorrect")


def face(x=100, presence=0.97, **shares):  # a clear masked face, far above the gate's with_mask threshold
    shares = shares or {"with_mask": 1.0}
    return Face((x, 100, x + 80, 200), {c: presence * shares.get(c, 0.0) for c in CLASSES})


def test_frame_signals():
    opts = MineOptions()
    sure = frame_signals([face()], [face()], np.array([[100, 100, 180, 200, 0.9]]), opts)
    assert sure == {"low_confidence": 0.0, "near_threshold": 0.0, "int8_disagrees": 0.0, "face_detector_disagrees": 0.0}
    assert frame_signals([face(presence=0.4)], None, None, opts)["low_confidence"] == 1.0  # at the gate's threshold
    assert frame_signals([face(presence=0.25)], None, None, opts)["low_confidence"] == 0.0  # background noise
    torn = face(with_mask=0.5, mask_weared_incorrect=0.5)
    assert frame_signals([torn], None, None, opts)["low_confidence"] == 1.0  # a coin toss between classes
    near = face(presence=opts.with_mask + 0.01)  # with_mask 0.01 over the gate's threshold
    assert frame_signals([near], None, None, opts)["near_threshold"] == pytest.approx(0.9)
    assert frame_signals([face()], [face(without_mask=1.0)], None, opts)["int8_disagrees"] == 1.0  # class flips
    assert frame_signals([face()], [], None, opts)["int8_disagrees"] == 1.0  # INT8 misses the face
    extra = np.array([[100, 100, 180, 200, 0.9], [300, 100, 380, 200, 0.9]])
    assert frame_signals([face()], None, extra, opts)["face_detector_disagrees"] == 0.5  # one of two faces missed
    assert "int8_disagrees" not in frame_signals([face()], None, None, opts)  # not run: not scored


def test_pick_spreads_look_alikes():
    """Fifty frames of one visitor do not fill the top N: each pick divides its look-alikes' scores."""
    same = [Candidate(f"visitor_{i}.jpg", 2.0 - i * 0.001, {}, 1, phash=0xFFFF0000FFFF0000 ^ (1 << i % 4)) for i in range(50)]
    others = [Candidate(f"other_{i}.jpg", 0.9, {}, 1, phash=(0x1234567 * (i + 3)) ** 3 % (1 << 64)) for i in range(5)]
    top = [c.name for c in pick(same + others, 6)]
    assert sum(n.startswith("visitor_") for n in top) == 2  # 2.0, then 2.0 / 2 = 1.0 > 0.9, then 0.67 < 0.9
    assert top[0] == "visitor_0.jpg"
    assert [c.look_alikes for c in pick(same + others, 6)][:2] == [0, 1]


def test_mine_a_gate_home_writes_picks_and_why(tmp_path, checker):
    home = tmp_path / "home"
    photos = make_photos(tmp_path / "photos")
    write(home / "mining" / "20261202" / "010203-000001-g.jpg", cv2.imread(str(photos / "bare.jpg")))
    (home / "mining" / "20261202" / "010203-000001-g.json").write_text('{"why": ["votes split: mask_ok 2, no_mask 1"]}')
    write(home / "snapshots" / "20261202" / "010204-000001-g.jpg", cv2.imread(str(photos / "masked.jpg")))
    write(home / "live" / "latest.jpg", np.full((120, 160, 3), 90, np.uint8))
    report = mine(home, tmp_path / "out", checker, int8_model=None, options=MineOptions(top=3))
    assert report.seen == 3 and len(report.picked) == 3
    assert report.signals_used == ["low_confidence", "near_threshold"]
    with open(report.csv_path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) >= {"image", "score", "low_confidence", "near_threshold", "reasons", "source"}
    for r in rows:
        assert (tmp_path / "out" / r["image"]).is_file()
    assert float(rows[0]["score"]) >= float(rows[1]["score"]) >= float(rows[2]["score"])
    notes = {r["image"]: r["gate_note"] for r in rows}
    assert notes["images/mining/20261202/010203-000001-g.jpg"] == "votes split: mask_ok 2, no_mask 1"  # the gate's why
    assert notes["images/live/latest.jpg"] == ""
    with pytest.raises(DataError, match="not empty"):
        mine(home, tmp_path / "out", checker, int8_model=None)
    from dabai.loop.label import label  # the picks are ready for `dabai label OUT`

    labelled = label(tmp_path / "out", tmp_path / "voc", checker)
    assert sorted(labelled.written) == sorted(f"annotations/{r['image'][7:-4]}.xml" for r in rows)


def test_mine_a_video_every_nth_frame(tmp_path, checker):
    photos = make_photos(tmp_path / "photos")
    video = tmp_path / "gate.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (320, 320))
    for i in range(12):
        writer.write(cv2.imread(str(photos / ("bare.jpg" if i < 6 else "masked.jpg"))))
    writer.release()
    report = mine(video, tmp_path / "out", checker, int8_model=None, options=MineOptions(top=2), every=4)
    assert report.seen == 3  # frames 0, 4, 8
    names = sorted(p.name for p in (tmp_path / "out" / "images").iterdir())
    assert len(names) == 2 and all(n.startswith("gate_0000") and n.endswith(".jpg") for n in names)


def test_cli_mine(tmp_path, capsys):
    photos = make_photos(tmp_path / "photos")
    assert main(["mine", str(photos), "--out", str(tmp_path / "out"), "--top", "1", "--int8-model", "none"]) == 0
    out = capsys.readouterr().out
    assert "scored 2 frame(s)" in out and "picked 1" in out and "no --face-model" in out
    assert main(["mine", str(photos), "--out", str(tmp_path / "x"), "--top", "0"]) == 2
    assert "top must be 1 or more" in capsys.readouterr().err


@pytest.mark.slow
def test_mine_finds_planted_hard_cases_3x_more_often_than_random(tmp_path, checker_fp32, checker_int8, weights_dir):
    """Target: from a pool with planted hard cases, mine's top N holds at least 3x as many of them as a random
    pick of N is expected to (N x hard / pool). The FP32 checker mines with the INT8 one as its second opinion
    (the default checker is INT8: compared with itself that signal would say nothing)."""
    from dabai.loop.faces import FaceFinder

    pool, hard = mining_pool(tmp_path / "pool")
    total = len(list(pool.iterdir()))
    top = len(hard)
    finder = FaceFinder(weights_dir / "face_detection_yunet.onnx") if (weights_dir / "face_detection_yunet.onnx").is_file() else None
    report = mine(pool, tmp_path / "out", checker_fp32, checker_int8, finder, MineOptions(top=top))
    found = sum(c.name in hard for c in report.picked)
    random_expected = top * len(hard) / total
    assert found >= 3 * random_expected, ([c.name for c in report.picked], random_expected)
