"""`data show`: the filters choose the right boxes and images, and the sheet is a readable PNG."""

from __future__ import annotations

import cv2
import pytest

from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.data.formats import read_dataset
from dabai.data.show import box_side, select, show_dataset


@pytest.fixture
def sample(sample_dir):
    ds = read_dataset(sample_dir)
    for i, im in enumerate(ds.images):
        im.source = "a" if i % 3 else "b"
    return ds


def test_filters(sample):
    everything = select(sample)
    assert len(everything) == len(sample.images)  # no box filter: images without boxes too
    rare = select(sample, classes=["mask_weared_incorrect"])
    assert rare and all(b.label == "mask_weared_incorrect" for _, boxes in rare for b in boxes)
    assert sum(len(b) for _, b in rare) == sample.class_counts()["mask_weared_incorrect"]
    only_b = select(sample, sources=["b"])
    assert {im.source for im, _ in only_b} == {"b"} and len(only_b) == sum(im.source == "b" for im in sample.images)
    sides = sorted(box_side(b) for im in sample.images for b in im.boxes)
    middle = sides[len(sides) // 2]
    small = select(sample, max_size=middle)
    assert all(box_side(b) <= middle for _, boxes in small for b in boxes)
    assert sum(len(b) for _, b in small) == sum(s <= middle for s in sides)


@pytest.mark.parametrize("kwargs,message", [
    ({"classes": ["With_Mask"]}, "unknown class 'With_Mask'"),
    ({"sources": ["c"]}, "unknown source 'c'"),
    ({"min_size": 50, "max_size": 10}, "above --max-size"),
])
def test_bad_filters_are_named(sample, kwargs, message):
    with pytest.raises(DataError, match=message):
        select(sample, **kwargs)


def test_sheet_per_image_and_per_face(sample, tmp_path):
    result = show_dataset(sample, tmp_path / "s.png", limit=5, cols=3)
    sheet = cv2.imread(str(tmp_path / "s.png"))
    assert result.shown == 5 and sheet is not None and sheet.shape[1] == 3 * 320
    faces = show_dataset(sample, tmp_path / "f.png", classes=["without_mask"], per="face", limit=100)
    assert faces.shown == sample.class_counts()["without_mask"] == faces.boxes


def test_cli(sample_dir, tmp_path, capsys):
    assert main(["data", "show", str(sample_dir), "--out", str(tmp_path / "x.png"), "--faces", "--limit", "4",
                 "--json"]) == 0
    assert '"shown": 4' in capsys.readouterr().out and cv2.imread(str(tmp_path / "x.png")) is not None
    assert main(["data", "show", str(sample_dir), "--out", str(tmp_path / "y.png"), "--class", "nope"]) != 0
    assert "unknown class 'nope'" in capsys.readouterr().err
