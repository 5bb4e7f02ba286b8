"""YOLO txt + data.yaml reader and writer."""

from __future__ import annotations

import pytest

from dabai.core.errors import DataError
from dabai.data.formats import detect_format, read_dataset, write_dataset
from dabai.data.problems import Problems

from .helpers import assert_same_boxes, tiny_dataset, write_image

DATA_YAML = "names: [with_mask, without_mask]\n"


def make_yolo(root, label_text: str, data_yaml: str | None = DATA_YAML, stem: str = "a"):
    write_image(root / "images" / f"{stem}.jpg", (100, 50))
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "labels" / f"{stem}.txt").write_bytes(label_text.encode("latin-1"))
    if data_yaml is not None:
        (root / "data.yaml").write_text(data_yaml, encoding="utf-8")
    return root


def test_round_trip_keeps_boxes_classes_and_images_without_objects(tmp_path):
    ds = tiny_dataset(tmp_path / "src")
    write_dataset(ds, tmp_path / "yolo", "yolo")
    assert detect_format(tmp_path / "yolo") == "yolo"
    assert (tmp_path / "yolo" / "labels" / "b.txt").read_text() == ""  # explicit: no objects
    back = read_dataset(tmp_path / "yolo")
    assert back.classes == ds.classes
    assert_same_boxes(ds, back, tolerance=0.01)


def test_reads_normalised_centre_boxes(tmp_path):
    ds = read_dataset(make_yolo(tmp_path, "1 0.5 0.5 0.2 0.4\n\n0 0.1 0.1 0.2 0.2\n"))
    first, second = ds.images[0].boxes
    assert (first.label, first.line) == ("without_mask", 1) and second.line == 3
    assert first.as_list() == pytest.approx([40.0, 15.0, 60.0, 35.0])


@pytest.mark.parametrize("data_yaml", [
    "names: {0: with_mask, 1: without_mask}\n",
    "nc: 2\nnames: [with_mask, without_mask]\n",
], ids=["names-mapping", "with-nc"])
def test_names_as_list_or_mapping(tmp_path, data_yaml):
    assert read_dataset(make_yolo(tmp_path, "1 0.5 0.5 0.2 0.4\n", data_yaml)).classes == ["with_mask", "without_mask"]


def test_image_without_label_file_is_kept_and_label_without_image_is_an_error(tmp_path):
    root = make_yolo(tmp_path, "0 0.5 0.5 0.2 0.2\n")
    write_image(root / "images" / "bg.jpg")
    problems = Problems(strict=False)
    ds = read_dataset(root, problems=problems)
    assert [len(im.boxes) for im in ds.images] == [1, 0]
    assert problems.items[0].code == "image-without-label"
    (root / "labels" / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError, match=r"ghost\.txt: no image for this label file; expected images/ghost\.jpg"):
        read_dataset(root)


MALFORMED = [
    ("wrong field count", "0 0.5 0.5 0.2\n", DATA_YAML, "a.txt:1: line has 4 fields; expected 5: class_id x_center"),
    ("segmentation polygon", "0 0.1 0.1 0.2 0.2 0.3 0.1\n", DATA_YAML, "(polygon segmentation labels are not supported)"),
    ("non-numeric", "0 0.5 half 0.2 0.2\n", DATA_YAML, "a.txt:1: y_center is 'half'; expected a number"),
    ("class id not an integer", "0.0 0.5 0.5 0.2 0.2\n", DATA_YAML, "a.txt:1: class id is '0.0'; expected an integer"),
    ("unknown class id", "0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n", DATA_YAML,
     "a.txt:2: class id 5 is not in data.yaml names (ids 0..1: with_mask, without_mask)"),
    ("no data.yaml", "0 0.5 0.5 0.2 0.2\n", None, "no data.yaml; expected one with 'names:"),
    ("data.yaml without names", "0 0.5 0.5 0.2 0.2\n", "nc: 2\n", "data.yaml: no 'names' list"),
    ("data.yaml broken", "0 0.5 0.5 0.2 0.2\n", "names: [a, b\n", "data.yaml:2: not valid YAML"),
    ("binary label file", "0 0.5 0.5 0.2 0.2\n\xff\xfe\x00", DATA_YAML, "a.txt:2: not UTF-8 text (byte 18"),
    ("nc disagrees", "0 0.5 0.5 0.2 0.2\n", "nc: 3\nnames: [a, b]\n", "nc is 3 but 'names' has 2 entries"),
]


@pytest.mark.parametrize("name,label,data_yaml,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_say_which_file_line_and_what_was_expected(tmp_path, name, label, data_yaml, expected):
    root = make_yolo(tmp_path, label, data_yaml)
    with pytest.raises(DataError) as info:
        read_dataset(root, fmt="yolo")
    assert expected in str(info.value)


def test_empty_label_file_means_no_objects(tmp_path):
    ds = read_dataset(make_yolo(tmp_path, ""), fmt="yolo")
    assert len(ds) == 1 and ds.images[0].boxes == []


def test_unknown_class_against_a_class_list_names_the_near_miss(tmp_path):
    root = make_yolo(tmp_path, "0 0.5 0.5 0.2 0.2\n", "names: [with_masks]\n")
    with pytest.raises(DataError, match=r"a\.txt:1: class 'with_masks' is not one of .*'with_masks' looks like 'with_mask'"):
        read_dataset(root, classes=["with_mask"])


def test_writer_needs_image_sizes(tmp_path):
    ds = tiny_dataset(tmp_path / "src")
    ds.images[0].width = 0
    with pytest.raises(DataError, match="'a.jpg' has size 0x48"):
        write_dataset(ds, tmp_path / "yolo", "yolo")


def test_two_images_sharing_a_stem_are_refused(tmp_path):
    ds = tiny_dataset(tmp_path / "src")
    clash = write_image(tmp_path / "src" / "a.png")
    ds.images.append(type(ds.images[0])(path=clash.resolve(), width=64, height=48))
    with pytest.raises(DataError, match="'a.jpg' and 'a.png' would share the label file a.txt"):
        write_dataset(ds, tmp_path / "yolo", "yolo")
