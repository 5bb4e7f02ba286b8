"""COCO JSON reader and writer."""

from __future__ import annotations

import json

import pytest

from dabai.core.errors import DataError
from dabai.data.formats import detect_format, read_dataset, write_dataset
from dabai.data.problems import Problems

from .helpers import assert_same_boxes, tiny_dataset, write_image


def coco_doc(**changes) -> dict:
    doc = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 64, "height": 48},
                   {"id": 8, "file_name": "b.jpg", "width": 64, "height": 48}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [1.5, 2, 10, 20.25]}],
        "categories": [{"id": 3, "name": "without_mask"}, {"id": 1, "name": "with_mask"}],
    }
    doc.update(changes)
    return doc


def make_coco(root, doc, text: str | None = None):
    for name in ("a.jpg", "b.jpg"):
        write_image(root / "images" / name, (64, 48))
    text = json.dumps(doc, indent=1) if text is None else text
    (root / "annotations.json").write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return root


def test_round_trip_keeps_boxes_classes_and_images_without_objects(tmp_path):
    ds = tiny_dataset(tmp_path / "src")
    write_dataset(ds, tmp_path / "coco", "coco")
    assert detect_format(tmp_path / "coco") == "coco"
    back = read_dataset(tmp_path / "coco")
    assert back.classes == ds.classes
    assert_same_boxes(ds, back, tolerance=0.005)
    doc = json.loads((tmp_path / "coco" / "annotations.json").read_text())
    assert [c["id"] for c in doc["categories"]] == [1, 2, 3]  # 0 is left for "background"
    assert len(doc["images"]) == 4 and len(doc["annotations"]) == 4


def test_reads_xywh_boxes_and_orders_classes_by_category_id(tmp_path):
    ds = read_dataset(make_coco(tmp_path, coco_doc()))
    assert ds.classes == ["with_mask", "without_mask"]
    assert ds.images[0].boxes[0].as_list() == [1.5, 2.0, 11.5, 22.25]
    assert ds.images[0].boxes[0].label == "without_mask"
    assert ds.images[1].boxes == []  # listed but not annotated: kept


def test_any_single_json_at_the_root_is_accepted(tmp_path):
    root = make_coco(tmp_path, coco_doc())
    (root / "annotations.json").rename(root / "instances_train.json")
    (root / "notes.json").write_text('{"note": "not coco"}')
    assert detect_format(root) == "coco" and len(read_dataset(root)) == 2


def test_image_missing_from_the_folder_is_named(tmp_path):
    root = make_coco(tmp_path, coco_doc())
    (root / "images" / "b.jpg").unlink()
    with pytest.raises(DataError, match=r"annotations\.json: images\[1\] names 'b\.jpg', which is not in images/"):
        read_dataset(root)


def test_image_not_listed_is_kept_and_reported(tmp_path):
    root = make_coco(tmp_path, coco_doc())
    write_image(root / "images" / "c.jpg")
    problems = Problems(strict=False)
    ds = read_dataset(root, problems=problems)
    assert len(ds) == 3 and [p.code for p in problems.items] == ["image-without-label"]


def bad_annotation(**fields) -> dict:
    ann = {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4]}
    ann.update(fields)
    return coco_doc(annotations=[ann])


MALFORMED = [
    ("empty", None, "", "annotations.json: JSON file is empty"),
    ("truncated", None, json.dumps(coco_doc(), indent=1)[:120], "annotations.json:11: not valid JSON (Unterminated string"),
    ("not text", None, "\udcff", "annotations.json:1: not UTF-8 text (byte 0"),
    ("not an object", None, "[1, 2]", "top level is a list; expected an object with images"),
    ("images not a list", coco_doc(images={"a": 1}), None, "'images' is a dict; expected a list"),
    ("image without file_name", coco_doc(images=[{"id": 7}]), None, "images[0] is {'id': 7}; expected an object with id and file_name"),
    ("bbox wrong field count", bad_annotation(bbox=[1, 2, 3]), None, "annotations[0] has bbox [1, 2, 3]; expected [x, y, width, height]"),
    ("bbox non-numeric", bad_annotation(bbox=[1, "two", 3, 4]), None, "annotations[0] bbox value is 'two'; expected a number"),
    ("unknown category", bad_annotation(category_id=9), None, "annotations[0] has category_id 9; expected one of the ids in 'categories' (3, 1)"),
    ("unknown image", bad_annotation(image_id=99), None, "annotations[0] refers to image_id 99, which is not in 'images'"),
    ("category without name", coco_doc(categories=[{"id": 1}]), None, "categories[0] is {'id': 1}; expected"),
    ("duplicate category", coco_doc(categories=[{"id": 1, "name": "a"}, {"id": 2, "name": "a"}]), None, "class name 'a' appears twice"),
]


@pytest.mark.parametrize("name,doc,text,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_say_what_was_expected(tmp_path, name, doc, text, expected):
    root = make_coco(tmp_path, doc, text)
    with pytest.raises(DataError) as info:
        read_dataset(root, fmt="coco")
    assert "annotations.json" in str(info.value)
    assert expected in str(info.value)


def test_unknown_class_with_a_class_list_names_the_near_miss(tmp_path):
    root = make_coco(tmp_path, coco_doc(categories=[{"id": 3, "name": "Without_Mask"}]))
    with pytest.raises(DataError, match="'Without_Mask' looks like 'without_mask'"):
        read_dataset(root, classes=["with_mask", "without_mask"])
