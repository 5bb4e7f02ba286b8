"""Several sources: class maps, merge (each image keeps its source), leaks between folders, by-source folds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.data.helpers import tree_digest, write_image

from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.data.check import check_dataset
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import read_dataset, write_dataset
from dabai.data.sources import (
    apply_class_map,
    by_source,
    find_leaks,
    merge_datasets,
    parse_class_map,
    parse_source_arg,
)
from dabai.data.split import source_folds, write_folds
from dabai.data.synth import make_sample_dataset

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.parametrize("text,expected", [
    ("a:b", {"a": "b"}),
    (" with_incorrect_mask : mask_weared_incorrect , x:y ", {"with_incorrect_mask": "mask_weared_incorrect", "x": "y"}),
    ("a:c,b:c", {"a": "c", "b": "c"}),
    ("", {}),
    (None, {}),
])
def test_class_map_parses(text, expected):
    assert parse_class_map(text) == expected


@pytest.mark.parametrize("text,message", [
    ("a", "expected OLD:NEW"),
    ("a:", "expected OLD:NEW"),
    (":b", "expected OLD:NEW"),
    ("a:b,a:c", "names 'a' twice"),
])
def test_bad_class_maps_are_refused(text, message):
    with pytest.raises(DataError, match=message):
        parse_class_map(text)


def _source(folder: Path, label: str, n: int, color) -> Path:
    """A one-class VOC dataset of ``n`` distinct images (each a different colour)."""
    records = []
    for i in range(n):
        path = write_image(folder / "src" / f"im{i}.jpg", (64, 48), (color[0], (color[1] + 37 * i) % 255, color[2]))
        records.append(ImageRecord(path=path.resolve(), width=64, height=48, boxes=[Box(4, 4, 30, 30, label)]))
    return write_dataset(Dataset(records, [label]), folder / "voc", "voc")


@pytest.fixture
def two_sources(tmp_path):
    a = _source(tmp_path / "a", "with_mask", 3, (200, 10, 10))
    b = _source(tmp_path / "b", "with_incorrect_mask", 2, (10, 10, 200))
    return a, b


def test_merge_keeps_each_images_source_and_maps_classes(two_sources, tmp_path):
    a, b = two_sources
    before = {p: tree_digest(p) for p in (a, b)}
    ds = merge_datasets([f"first={a}", f"second={b}"], parse_class_map("with_incorrect_mask:mask_weared_incorrect"))
    out = write_dataset(ds, tmp_path / "merged", "voc")
    back = read_dataset(out)
    assert {im.name: im.source for im in back.images} == {
        "first/im0.jpg": "first", "first/im1.jpg": "first", "first/im2.jpg": "first",
        "second/im0.jpg": "second", "second/im1.jpg": "second"}
    assert back.class_counts() == {"with_mask": 3, "mask_weared_incorrect": 2}
    assert (out / "sources.csv").read_text().splitlines()[0] == "image,source"
    assert {p: tree_digest(p) for p in (a, b)} == before  # inputs untouched
    # a merge of a merge keeps the recorded sources
    again = merge_datasets([out])
    assert {im.source for im in again.images} == {"first", "second"}


def test_merge_refuses_two_sources_of_one_name_and_classes_outside_the_list(two_sources):
    a, b = two_sources
    with pytest.raises(DataError, match="two sources are named 'x'"):
        merge_datasets([f"x={a}", f"x={b}"])
    with pytest.raises(DataError, match="map them with --map"):
        merge_datasets([f"a={a}", f"b={b}"], classes=["with_mask"])


def test_source_arg_defaults_to_the_folder_name(tmp_path):
    assert parse_source_arg(tmp_path / "face-mask") == ("face-mask", tmp_path / "face-mask")
    assert parse_source_arg(f"ilc={tmp_path}/x=y") == ("ilc", Path(f"{tmp_path}/x=y"))


def test_apply_class_map_renames_labels_and_classes():
    ds = Dataset([ImageRecord(path=Path("/x.jpg"), width=1, height=1, boxes=[Box(0, 0, 1, 1, "a"), Box(0, 0, 1, 1, "b")])],
                 ["a", "b"])
    mapped = apply_class_map(ds, {"a": "b"})
    assert [b.label for b in mapped.images[0].boxes] == ["b", "b"] and mapped.classes == ["b"]
    assert [b.label for b in ds.images[0].boxes] == ["a", "b"]  # the original is not changed


def test_leaks_are_found_across_folders(tmp_path):
    train = tmp_path / "train"
    make_sample_dataset(train, n_images=6, seed=1)
    test = tmp_path / "test"
    make_sample_dataset(test, n_images=4, seed=2)
    clean = find_leaks(read_dataset(train), [read_dataset(test)])
    assert clean == []
    # copy one test image into the training set under another name: an exact leak
    leaked = sorted((test / "images").iterdir())[0]
    shutil.copy(leaked, train / "images" / "copied.jpg")
    shutil.copy(next((train / "annotations").iterdir()), train / "annotations" / "copied.xml")
    result = check_dataset(train, against=[test])
    leaks = [f for f in result.report.findings if f.code == "leak"]
    assert len(leaks) == 1 and leaks[0].severity == "error" and "copied.jpg" in str(leaks[0].path)
    assert leaked.name in leaks[0].message


def test_check_against_on_the_cli_exits_1_on_a_leak(tmp_path, capsys):
    train = tmp_path / "train"
    make_sample_dataset(train, n_images=4, seed=1)
    assert main(["data", "check", str(train), "--against", str(train), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert sum(f["code"] == "leak" for f in doc["findings"]) == 4


def test_leave_one_source_out_folds(two_sources, tmp_path):
    a, b = two_sources
    merged = write_dataset(merge_datasets([f"first={a}", f"second={b}"]), tmp_path / "merged", "voc")
    split = source_folds(read_dataset(merged))
    assert {k: len(v) for k, v in split.datasets.items()} == {"first": 3, "second": 2}
    out = write_folds(split, tmp_path / "folds", "voc")
    held_out = read_dataset(out / "second" / "val")
    rest = read_dataset(out / "second" / "train")
    assert {im.source for im in held_out.images} == {"second"} and {im.source for im in rest.images} == {"first"}


def test_by_source_needs_recorded_sources(tmp_path):
    make_sample_dataset(tmp_path / "voc", n_images=4, seed=1)
    with pytest.raises(DataError, match="record no source"):
        source_folds(read_dataset(tmp_path / "voc"))


def test_merge_split_and_stats_on_the_cli(two_sources, tmp_path, capsys):
    a, b = two_sources
    out = tmp_path / "merged"
    assert main(["data", "merge", f"first={a}", str(b), "--out", str(out), "--map", "with_incorrect_mask:x"]) == 0
    assert main(["data", "stats", str(out), "--out", str(tmp_path / "stats"), "--json"]) == 0
    printed = capsys.readouterr().out
    stats = json.loads((tmp_path / "stats" / "stats.json").read_text())
    assert json.loads(printed[printed.index("{"):])["sources"] == stats["sources"]
    assert stats["sources"] == {"first": {"images": 3, "boxes_per_class": {"with_mask": 3, "x": 0}},
                                "voc": {"images": 2, "boxes_per_class": {"with_mask": 0, "x": 2}}}
    assert main(["data", "split", str(out), "--by-source", "--out", str(tmp_path / "loso")]) == 0
    assert sorted(p.name for p in (tmp_path / "loso").iterdir() if p.is_dir()) == ["first", "voc"]


def test_convert_and_check_accept_a_class_map(two_sources, tmp_path, capsys):
    _, b = two_sources
    out = tmp_path / "converted"
    assert main(["data", "convert", str(b), "--to", "coco", "--out", str(out),
                 "--map", "with_incorrect_mask:mask_weared_incorrect",
                 "--classes", "with_mask,without_mask,mask_weared_incorrect"]) == 0
    assert read_dataset(out).class_counts()["mask_weared_incorrect"] == 2
    assert main(["data", "check", str(b), "--classes", "mask_weared_incorrect",
                 "--map", "with_incorrect_mask:mask_weared_incorrect", "--json"]) == 0


@pytest.mark.skipif(not (SHARED / "face-mask-macwin").is_dir(), reason="../shared/data/face-mask-macwin is absent")
def test_merge_the_shared_sources(tmp_path):
    ds = merge_datasets([SHARED / "face-mask-macwin", f"crops-free={SHARED / 'face-mask'}"])
    parts = by_source(ds)
    assert {k: len(v) for k, v in parts.items()} == {"face-mask-macwin": 472, "crops-free": 703}
    assert parts["face-mask-macwin"].class_counts().get("mask_weared_incorrect", 0) == 0
