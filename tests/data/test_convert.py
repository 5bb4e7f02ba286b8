"""Conversions between every pair of formats, image handling, and the face-mask chain."""

from __future__ import annotations

import os

import pytest

from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.data.formats import FORMATS, detect_format, read_dataset, write_dataset

from .helpers import assert_same_boxes, tiny_dataset, tree_digest

PAIRS = [(a, b) for a in FORMATS for b in FORMATS]


@pytest.mark.parametrize("src_fmt,dst_fmt", PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_every_pair_keeps_images_boxes_and_classes(tmp_path, src_fmt, dst_fmt):
    ds = tiny_dataset(tmp_path / "images")
    write_dataset(ds, tmp_path / "src", src_fmt)
    middle = read_dataset(tmp_path / "src")
    write_dataset(middle, tmp_path / "dst", dst_fmt)
    assert detect_format(tmp_path / "dst") == dst_fmt
    back = read_dataset(tmp_path / "dst")
    assert back.classes == ds.classes
    assert_same_boxes(ds, back, tolerance=0.01)  # YOLO's 6 decimals are far inside this


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_module_reads_a_str_path_as_a_path(tmp_path, fmt):
    import importlib

    ds = tiny_dataset(tmp_path / "images")
    write_dataset(ds, tmp_path / "src", fmt)
    module = importlib.import_module(FORMATS[fmt])
    as_str, as_path = module.read(str(tmp_path / "src")), module.read(tmp_path / "src")
    assert as_str.classes == as_path.classes == ds.classes
    assert_same_boxes(as_path, as_str, tolerance=0.0)


def test_images_are_copied_by_default_and_the_source_is_unchanged(tmp_path):
    ds = tiny_dataset(tmp_path / "images")
    write_dataset(ds, tmp_path / "src", "voc")
    before = tree_digest(tmp_path / "src")
    write_dataset(read_dataset(tmp_path / "src"), tmp_path / "dst", "yolo")
    assert tree_digest(tmp_path / "src") == before
    src, dst = tmp_path / "src" / "images" / "a.jpg", tmp_path / "dst" / "images" / "a.jpg"
    assert dst.read_bytes() == src.read_bytes() and os.stat(dst).st_ino != os.stat(src).st_ino


@pytest.mark.parametrize("link,check", [
    (True, lambda src, dst: os.stat(dst).st_ino == os.stat(src).st_ino),  # same filesystem: a hard link
    ("hard", lambda src, dst: os.stat(dst).st_ino == os.stat(src).st_ino),
    ("symlink", lambda src, dst: dst.is_symlink() and dst.resolve() == src.resolve()),
])
def test_images_can_be_linked_instead(tmp_path, link, check):
    ds = tiny_dataset(tmp_path / "images")
    write_dataset(ds, tmp_path / "dst", "kitti", link=link)
    assert check(tmp_path / "images" / "a.jpg", tmp_path / "dst" / "images" / "a.jpg")


def test_nested_image_folders_are_mirrored(tmp_path):
    ds = tiny_dataset(tmp_path / "images")
    ds.images[0].name = "cam1/a.jpg"
    for fmt in FORMATS:
        write_dataset(ds, tmp_path / fmt, fmt)
        back = read_dataset(tmp_path / fmt)
        assert "cam1/a.jpg" in [im.name for im in back.images], fmt


def test_unknown_layout_and_format_are_plain_errors(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(DataError, match="cannot tell the dataset format; expected annotations/\\*.xml"):
        read_dataset(tmp_path / "stuff")
    with pytest.raises(DataError, match="dataset folder not found"):
        read_dataset(tmp_path / "missing")
    with pytest.raises(DataError, match="unknown format 'pascal'; expected one of voc, coco, yolo, kitti"):
        write_dataset(tiny_dataset(tmp_path / "i"), tmp_path / "o", "pascal")


@pytest.mark.shared
def test_face_mask_chain_voc_coco_yolo_kitti_voc_keeps_everything(face_mask_dir, tmp_path, capsys):
    """The issue's acceptance check, through the CLI: 703 images, 3371 boxes, classes, within 0.5 px."""
    before = tree_digest(face_mask_dir)
    current = face_mask_dir
    for fmt in ("coco", "yolo", "kitti", "voc"):
        out = tmp_path / fmt
        assert main(["data", "convert", str(current), "--to", fmt, "--out", str(out)]) == 0
        current = out
    original, back = read_dataset(face_mask_dir), read_dataset(current)
    assert (len(back), back.num_boxes) == (703, 3371)
    assert back.class_counts() == {"mask_weared_incorrect": 101, "with_mask": 2671, "without_mask": 599}
    assert_same_boxes(original, back, tolerance=0.5)
    assert tree_digest(face_mask_dir) == before
    assert "703 images, 3371 boxes" in capsys.readouterr().out
