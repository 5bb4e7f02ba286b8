"""data resize: sizes, label scaling, aspect-preserving padding, warnings."""

from __future__ import annotations

import logging

import pytest
from PIL import Image

from dabai.core.errors import DataError
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import detect_format, read_dataset
from dabai.data.resize import parse_size, resize_dataset, size_warnings

from .helpers import write_image


@pytest.mark.parametrize("text,size", [("640x480", (640, 480)), (" 32X16 ", (32, 16)), ("960×544", (960, 544))])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["640", "640x", "0x10", "-5x5", "axb", ""])
def test_parse_size_rejects(text):
    with pytest.raises(DataError, match="is not WIDTHxHEIGHT"):
        parse_size(text)


def test_multiples_of_16_are_quiet_and_others_warn():
    assert size_warnings(960, 544) == []
    assert size_warnings(300, 544) == ["width 300 is not a multiple of 16; TAO and most detectors expect one (nearest: 304)"]


def one_image(tmp_path, size=(200, 100)) -> Dataset:
    path = write_image(tmp_path / "src" / "a.jpg", size).resolve()
    return Dataset([ImageRecord(path, *size, [Box(20, 10, 60, 50, "face")])], ["face"])


def test_stretch_scales_each_axis(tmp_path):
    resized = resize_dataset(one_image(tmp_path), tmp_path / "out", (100, 100), "voc")
    assert resized.images[0].boxes[0].as_list() == pytest.approx([10, 10, 30, 50])
    back = read_dataset(tmp_path / "out")
    assert back.images[0].boxes[0].as_list() == pytest.approx([10, 10, 30, 50])
    with Image.open(tmp_path / "out" / "images" / "a.jpg") as im:
        assert im.size == (100, 100)


def test_keep_aspect_scales_uniformly_and_pads_right_and_bottom(tmp_path):
    resize_dataset(one_image(tmp_path), tmp_path / "out", (160, 160), "yolo", keep_aspect=True)
    assert detect_format(tmp_path / "out") == "yolo"
    back = read_dataset(tmp_path / "out")
    assert (back.images[0].width, back.images[0].height) == (160, 160)
    assert back.images[0].boxes[0].as_list() == pytest.approx([16, 8, 48, 40], abs=0.01)
    with Image.open(tmp_path / "out" / "images" / "a.jpg") as im:
        assert max(im.getpixel((80, 150))) < 16  # the padding below the 160x80 picture is black


def test_non_multiple_of_16_logs_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        resize_dataset(one_image(tmp_path), tmp_path / "out", (100, 60), "voc")
    assert "width 100 is not a multiple of 16" in caplog.text


def test_images_already_at_the_size_are_copied_unchanged(tmp_path):
    ds = one_image(tmp_path, (64, 32))
    resize_dataset(ds, tmp_path / "out", (64, 32), "kitti")
    assert (tmp_path / "out" / "images" / "a.jpg").read_bytes() == ds.images[0].path.read_bytes()


def test_labels_that_disagree_with_the_image_are_refused(tmp_path):
    ds = one_image(tmp_path)
    ds.images[0].width = 300
    with pytest.raises(DataError, match="labels say 300x100 but the image is 200x100"):
        resize_dataset(ds, tmp_path / "out", (96, 96), "voc")
