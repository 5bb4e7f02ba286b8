"""KITTI (TAO) reader and writer, including class names with spaces."""

from __future__ import annotations

import pytest

from dabai.core.errors import DataError
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import detect_format, read_dataset, write_dataset
from dabai.data.formats.kitti import class_token

from .helpers import assert_same_boxes, tiny_dataset, write_image

LINE = "with_mask 0.00 0 0.00 10.00 5.50 30.00 40.00 0 0 0 0 0 0 0\n"


def make_kitti(root, label_text: str, stem: str = "a", classes_txt: str | None = None):
    write_image(root / "images" / f"{stem}.jpg", (64, 48))
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "labels" / f"{stem}.txt").write_bytes(label_text.encode("latin-1"))
    if classes_txt is not None:
        (root / "classes.txt").write_text(classes_txt, encoding="utf-8")
    return root


def test_round_trip_keeps_boxes_classes_with_spaces_and_images_without_objects(tmp_path):
    ds = tiny_dataset(tmp_path / "src")
    write_dataset(ds, tmp_path / "kitti", "kitti")
    assert detect_format(tmp_path / "kitti") == "kitti"
    lines = (tmp_path / "kitti" / "labels" / "a.txt").read_text().splitlines()
    assert lines[0] == "with_mask 0.00 0 0.00 1.25 2.50 30.75 40.00 0 0 0 0 0 0 0"  # TAO's layout
    assert lines[1].startswith("traffic_light 0.50 1 0.00 ")
    assert (tmp_path / "kitti" / "labels" / "b.txt").read_text() == ""
    assert (tmp_path / "kitti" / "classes.txt").read_text().splitlines() == ds.classes
    back = read_dataset(tmp_path / "kitti")
    assert back.classes == ds.classes
    assert_same_boxes(ds, back, tolerance=0.005)
    assert back.images[0].boxes[1].label == "traffic light"


@pytest.mark.parametrize("name,token", [
    ("with_mask", "with_mask"), ("traffic light", "traffic_light"), ("Traffic  Light", "traffic_light"),
    ("Mask_Weared_Incorrect", "mask_weared_incorrect"), ("人 脸", "人_脸"),
])
def test_class_tokens_are_lower_case_without_spaces(name, token):
    assert class_token(name) == token


def test_without_classes_txt_tokens_are_the_class_names(tmp_path):
    ds = read_dataset(make_kitti(tmp_path, LINE + LINE.replace("with_mask", "bike")))
    assert ds.classes == ["bike", "with_mask"] and ds.images[0].boxes[0].as_list() == [10.0, 5.5, 30.0, 40.0]


def test_a_class_list_maps_tokens_back_to_names_with_spaces(tmp_path):
    root = make_kitti(tmp_path, LINE.replace("with_mask", "traffic_light"))
    assert read_dataset(root, classes=["traffic light"]).images[0].boxes[0].label == "traffic light"


def test_names_that_collide_as_tokens_are_refused(tmp_path):
    image = write_image(tmp_path / "a.jpg").resolve()
    ds = Dataset([ImageRecord(image, 64, 48, [Box(1, 1, 5, 5, "Mask"), Box(1, 1, 5, 5, "mask")])], ["Mask", "mask"])
    with pytest.raises(DataError, match="'Mask' and 'mask' would both be written as 'mask'"):
        write_dataset(ds, tmp_path / "out", "kitti")


def test_score_column_and_tao_image_folder_names_are_accepted(tmp_path):
    write_image(tmp_path / "image_2" / "a.jpg")
    (tmp_path / "label_2").mkdir()
    (tmp_path / "label_2" / "a.txt").write_text(LINE.strip() + " 0.97\n")
    assert detect_format(tmp_path) == "kitti" and read_dataset(tmp_path).num_boxes == 1


MALFORMED = [
    ("wrong field count", "with_mask 0.00 0 0.00 10 5 30 40\n", None, "a.txt:1: line has 8 fields; expected 15"),
    ("class name with a space", "traffic light 0.00 0 0.00 10 5 30 40 0 0 0 0 0 0 0\n", None,
     "a.txt:1: truncated is 'light'; expected a number (a class name with spaces must be written with '_', "
     "e.g. 'traffic_light')"),
    ("too many fields", LINE.strip() + " 0.9 1\n", None,
     "a.txt:1: line has 17 fields; expected 15: class truncated occluded alpha x1 y1 x2 y2"),
    ("non-numeric box", LINE.replace("30.00", "thirty"), None, "a.txt:1: x2 is 'thirty'; expected a number"),
    ("non-numeric 3D field", LINE.replace(" 0 0 0 0 0 0 0", " 0 0 0 zero 0 0 0"), None, "a.txt:1: x is 'zero'"),
    ("binary label file", "\x89PNG\r\n\x1a\n", None, "a.txt:1: not UTF-8 text (byte 0"),
    ("non-numeric occluded", "\n" + LINE.replace("0.00 0 0.00", "0.00 x 0.00", 1), None, "a.txt:2: occluded is 'x'"),
]


@pytest.mark.parametrize("name,label,classes_txt,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_say_which_file_line_and_what_was_expected(tmp_path, name, label, classes_txt, expected):
    root = make_kitti(tmp_path, label, classes_txt=classes_txt)
    with pytest.raises(DataError) as info:
        read_dataset(root, fmt="kitti")
    assert expected in str(info.value)


def test_unknown_class_names_the_line_and_near_miss(tmp_path):
    root = make_kitti(tmp_path, LINE + LINE.replace("with_mask", "withmask"))
    with pytest.raises(DataError, match=r"a\.txt:2: class 'withmask' is not one of .* 'withmask' looks like 'with_mask'"):
        read_dataset(root, classes=["with_mask", "without_mask"])


def test_empty_label_file_means_no_objects_and_a_lone_label_is_an_error(tmp_path):
    root = make_kitti(tmp_path, "")
    assert read_dataset(root, fmt="kitti").images[0].boxes == []
    (root / "labels" / "ghost.txt").write_text(LINE)
    with pytest.raises(DataError, match=r"ghost\.txt: no image for this label file"):
        read_dataset(root, fmt="kitti")
