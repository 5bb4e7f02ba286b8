"""Pascal VOC reader and writer."""

from __future__ import annotations

import pytest

from dabai.core.errors import DataError
from dabai.data.formats import detect_format, read_dataset, write_dataset
from dabai.data.problems import Problems

from .helpers import assert_same_boxes, tiny_dataset, write_image

GOOD_OBJECT = """  <object>
    <name>with_mask</name>
    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox>
  </object>
"""


def voc_file(objects: str = GOOD_OBJECT, filename: str = "a.jpg", size: str = "<width>64</width><height>48</height>") -> str:
    return (f"<annotation>\n  <filename>{filename}</filename>\n  <size>{size}<depth>3</depth></size>\n"
            f"{objects}</annotation>\n")


def make_voc(root, xml_text: str, stem: str = "a", image_dir: str = "images", ann_dir: str = "annotations"):
    write_image(root / image_dir / f"{stem}.jpg", (64, 48))
    (root / ann_dir).mkdir(parents=True, exist_ok=True)
    (root / ann_dir / f"{stem}.xml").write_text(xml_text, encoding="utf-8")
    return root


def test_round_trip_keeps_boxes_classes_and_images_without_objects(tmp_path):
    ds = tiny_dataset(tmp_path / "src")
    write_dataset(ds, tmp_path / "voc", "voc")
    back = read_dataset(tmp_path / "voc")
    assert detect_format(tmp_path / "voc") == "voc"
    assert back.classes == ds.classes  # classes.txt keeps the order
    assert_same_boxes(ds, back, tolerance=0.005)
    assert back.images[1].boxes == []
    box = back.images[0].boxes[1]
    assert (box.label, box.truncated, box.occluded) == ("traffic light", 0.5, 1)
    assert back.images[3].boxes[0].difficult is True


def test_reads_a_single_file_with_its_line_numbers(tmp_path):
    root = make_voc(tmp_path, voc_file(GOOD_OBJECT * 2))
    ds = read_dataset(root)
    assert len(ds) == 1 and ds.num_boxes == 2 and ds.classes == ["with_mask"]
    assert [b.line for b in ds.images[0].boxes] == [4, 8]
    assert ds.images[0].boxes[0].as_list() == [1.0, 2.0, 30.0, 40.0]


def test_accepts_voc_devkit_folder_names_and_a_changed_extension(tmp_path):
    # <filename> says .png but the file was re-encoded as .jpg (the face-mask set had exactly this).
    root = make_voc(tmp_path, voc_file(filename="a.png"), image_dir="JPEGImages", ann_dir="Annotations")
    ds = read_dataset(root)
    assert ds.images[0].path.name == "a.jpg"


def test_missing_size_is_read_from_the_image(tmp_path):
    root = make_voc(tmp_path, voc_file(size=""))
    assert (read_dataset(root).images[0].width, read_dataset(root).images[0].height) == (64, 48)


def test_image_without_annotation_is_kept_with_no_objects(tmp_path):
    root = make_voc(tmp_path, voc_file())
    write_image(root / "images" / "z.jpg")
    problems = Problems(strict=False)
    ds = read_dataset(root, problems=problems)
    assert [im.name for im in ds.images] == ["a.jpg", "z.jpg"] and ds.images[1].boxes == []
    assert [p.code for p in problems.items] == ["image-without-label"]
    assert "annotations/z.xml" in problems.items[0].message


def test_annotation_without_image_names_the_missing_file(tmp_path):
    root = make_voc(tmp_path, voc_file())
    (root / "annotations" / "ghost.xml").write_text(voc_file(filename="ghost.jpg"))
    with pytest.raises(DataError, match=r"ghost\.xml: no image for this annotation; expected images/ghost\.jpg"):
        read_dataset(root)


def test_classes_fix_the_order_and_reject_near_misses(tmp_path):
    root = make_voc(tmp_path, voc_file(GOOD_OBJECT.replace("with_mask", "With_Mask")))
    with pytest.raises(DataError) as info:
        read_dataset(root, classes=["without_mask", "with_mask"])
    assert "a.xml:4:" in str(info.value)
    assert "'With_Mask' looks like 'with_mask'" in str(info.value)
    root2 = make_voc(tmp_path / "ok", voc_file())
    assert read_dataset(root2, classes="without_mask,with_mask").classes == ["without_mask", "with_mask"]


MALFORMED = [
    # (name, file text, expected message pieces; each includes the file and line where there is one)
    ("empty", "", ["a.xml: XML file is empty"]),
    ("truncated", voc_file()[:60], ["a.xml:3: malformed XML (unclosed token"]),
    ("cut at a tag", voc_file()[:-15], ["a.xml:", "malformed XML (no element found"]),
    ("not xml", "hello", ["a.xml:1: malformed XML (syntax error"]),
    ("wrong root", "<foo>\n</foo>\n", ["a.xml:1: root element is <foo>; expected <annotation>"]),
    ("non-numeric", voc_file(GOOD_OBJECT.replace("<xmin>1<", "<xmin>abc<")), ["a.xml:6: <xmin> is 'abc'; expected a number"]),
    ("missing coordinate", voc_file(GOOD_OBJECT.replace("<ymax>40</ymax>", "")), ["a.xml:6: missing <ymax>"]),
    ("no name", voc_file(GOOD_OBJECT.replace("<name>with_mask</name>", "")), ["a.xml:4: <object> has no <name>"]),
    ("no bndbox", voc_file("  <object>\n    <name>x</name>\n  </object>\n"), ["a.xml:4: <object> 'x' has no <bndbox>"]),
    ("bad size", voc_file(size="<width>wide</width><height>48</height>"), ["a.xml:3: <width> is 'wide'"]),
    ("nan", voc_file(GOOD_OBJECT.replace("<xmin>1<", "<xmin>nan<")), ["a.xml:6: <xmin> is 'nan'; expected a finite number"]),
]


@pytest.mark.parametrize("name,text,pieces", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_say_which_file_line_and_what_was_expected(tmp_path, name, text, pieces):
    root = make_voc(tmp_path, text)
    with pytest.raises(DataError) as info:
        read_dataset(root)
    for piece in pieces:
        assert piece in str(info.value)


def test_unknown_class_names_the_file_and_line(tmp_path):
    root = make_voc(tmp_path, voc_file(GOOD_OBJECT.replace("with_mask", "cat")))
    with pytest.raises(DataError, match=r"a\.xml:4: class 'cat' is not one of the expected classes \(dog\)"):
        read_dataset(root, classes=["dog"])


def test_collecting_mode_reports_every_bad_file_and_keeps_the_good_ones(tmp_path):
    root = make_voc(tmp_path, voc_file())
    make_voc(root, "", stem="b")
    make_voc(root, voc_file(GOOD_OBJECT.replace("<xmin>1<", "<xmin>x<")), stem="c")
    problems = Problems(strict=False)
    ds = read_dataset(root, problems=problems)
    assert [im.name for im in ds.images if im.boxes] == ["a.jpg"]
    assert sorted(p.path.split("/")[-1] for p in problems.errors) == ["b.xml", "c.xml"]


def test_writer_refuses_a_non_empty_output_folder(tmp_path):
    ds = tiny_dataset(tmp_path / "src")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        write_dataset(ds, tmp_path / "out", "voc")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def billion_laughs(levels: int = 9) -> str:
    """The classic entity-expansion bomb (10**levels copies of 'lol'), as a VOC annotation."""
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return ("<?xml version=\"1.0\"?>\n<!DOCTYPE annotation [\n" + "\n".join(ents) + "\n]>\n"
            f"<annotation><filename>a.jpg</filename><object><name>&lol{levels};</name></object></annotation>\n")


@pytest.mark.parametrize("text", [billion_laughs(6), billion_laughs(9),
                                  '<!DOCTYPE annotation SYSTEM "file:///etc/passwd">\n<annotation/>\n',
                                  '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<annotation>&x;</annotation>'],
                         ids=["6-level", "9-level", "external-dtd", "external-entity"])
def test_dtds_and_entities_are_refused_at_once(tmp_path, text):
    """Defect 5: a 578-byte 6-level 'billion laughs' VOC file cost 275 s of CPU before being refused."""
    import time

    root = make_voc(tmp_path, text)
    started = time.process_time()
    with pytest.raises(DataError, match="a.xml: XML with a DTD or entity declarations is refused"):
        read_dataset(root)
    assert time.process_time() - started < 2.0
