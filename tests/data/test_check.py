"""data check: every kind of fault is found, named with its file, and the input is never touched."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from dabai.cli.main import main
from dabai.data.check import check_dataset, render_report
from dabai.data.fix import fix_dataset
from dabai.data.formats import read_dataset

from .conftest import SAMPLE_CLASSES
from .helpers import tree_digest

CLASSES = SAMPLE_CLASSES.split(",")


def edit_xml(root, stem, pattern, replacement, count=1):
    path = root / "annotations" / f"{stem}.xml"
    text, n = re.subn(pattern, replacement, path.read_text(), count=count)
    assert n, f"{pattern} not in {path}"
    path.write_text(text)


def truncate(root, stem):
    path = root / "images" / f"{stem}.jpg"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def invert_first_box(root, stem):
    path = root / "annotations" / f"{stem}.xml"
    text = path.read_text()
    x1, x2 = re.search(r"<xmin>([\d.]+)</xmin>", text)[1], re.search(r"<xmax>([\d.]+)</xmax>", text)[1]
    text = text.replace(f"<xmin>{x1}</xmin>", f"<xmin>{x2}</xmin>", 1).replace(f"<xmax>{x2}</xmax>", f"<xmax>{x1}</xmax>", 1)
    path.write_text(text)


def near_duplicate(root, stem):
    from PIL import Image, ImageEnhance

    with Image.open(root / "images" / f"{stem}.jpg") as im:
        ImageEnhance.Brightness(im).enhance(1.05).save(root / "images" / "zz_similar.jpg", quality=80)


# (fault, how to plant it in the sample, severity, kind, file named in the finding, words in the message)
FAULTS = [
    ("truncated JPEG", lambda r: truncate(r, "sample_0001"), "error", "unreadable-image", "images/sample_0001.jpg", "truncated"),
    ("zero-byte image", lambda r: (r / "images/sample_0002.jpg").write_bytes(b""), "error", "unreadable-image",
     "images/sample_0002.jpg", "0 bytes"),
    ("not an image", lambda r: (r / "images/sample_0003.jpg").write_text("hello"), "error", "unreadable-image",
     "images/sample_0003.jpg", "not an image file"),
    ("box beyond the image", lambda r: edit_xml(r, "sample_0004", r"<xmax>[\d.]+</xmax>", "<xmax>5000</xmax>"), "error",
     "box-out-of-bounds", "annotations/sample_0004.xml", "x2=5000 >"),
    ("inverted box", lambda r: invert_first_box(r, "sample_0005"), "error", "box-inverted", "annotations/sample_0005.xml",
     "x2 < x1"),
    ("degenerate box", lambda r: edit_xml(r, "sample_0006", r"<ymax>[\d.]+</ymax>", "<ymax>0</ymax>")
     or edit_xml(r, "sample_0006", r"<ymin>[\d.]+</ymin>", "<ymin>0</ymin>"), "error", "box-degenerate",
     "annotations/sample_0006.xml", "expected at least 1x1"),
    ("misspelled class", lambda r: edit_xml(r, "sample_0007", r"<name>\w+</name>", "<name>With_Mask</name>"), "error",
     "unknown-class", "annotations/sample_0007.xml", "'With_Mask' looks like 'with_mask'"),
    ("XML without image", lambda r: (r / "images/sample_0008.jpg").unlink(), "error", "label-without-image",
     "annotations/sample_0008.xml", "expected images/sample_0008.jpg"),
    ("image without XML", lambda r: (r / "annotations/sample_0010.xml").unlink(), "warning", "image-without-label",
     "images/sample_0010.jpg", "annotations/sample_0010.xml"),
    ("malformed XML", lambda r: (r / "annotations/sample_0011.xml").write_text("<annotation>\n<size>\n"), "error",
     "bad-label-file", "annotations/sample_0011.xml", "malformed XML"),
    ("duplicated image", lambda r: shutil.copy(r / "images/sample_0012.jpg", r / "images/zz_copy.jpg"), "warning",
     "duplicate-image", "images/zz_copy.jpg", "same bytes as sample_0012.jpg"),
    ("near-duplicate image", lambda r: near_duplicate(r, "sample_0013"), "warning", "near-duplicate-image",
     "images/zz_similar.jpg", "looks like sample_0013.jpg"),
    ("wrong size in XML", lambda r: edit_xml(r, "sample_0014", r"<width>\d+</width>", "<width>999</width>"), "warning",
     "size-mismatch", "annotations/sample_0014.xml", "labels say the image is 999x"),
]


def test_the_clean_sample_has_no_errors(sample_dir):
    report = check_dataset(sample_dir, classes=CLASSES).report
    assert report.errors == [], render_report(report)
    assert report.images == 24


@pytest.mark.parametrize("fault,plant,severity,code,path,words", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_planted_fault_is_found_with_its_file(sample_copy, fault, plant, severity, code, path, words):
    plant(sample_copy)
    before = tree_digest(sample_copy)
    report = check_dataset(sample_copy, classes=CLASSES).report
    matching = [f for f in report.findings if f.code == code and f.path == path]
    assert matching, render_report(report)
    assert matching[0].severity == severity and words in matching[0].message
    assert tree_digest(sample_copy) == before


def test_box_findings_carry_the_line_of_the_object(sample_copy):
    edit_xml(sample_copy, "sample_0004", r"<xmax>[\d.]+</xmax>", "<xmax>5000</xmax>")
    finding = next(f for f in check_dataset(sample_copy).report.findings if f.code == "box-out-of-bounds")
    assert finding.line == 10  # the first <object> of a VOC file we write


def test_near_miss_without_a_class_list_is_a_warning(sample_copy):
    edit_xml(sample_copy, "sample_0007", r"<name>\w+</name>", "<name>without_masks</name>")
    findings = check_dataset(sample_copy).report.findings
    assert any(f.code == "class-near-miss" and "'without_masks' (1 box) looks like 'without_mask'" in f.message
               for f in findings)


def test_a_class_with_no_boxes_and_imbalance_are_warnings(sample_dir):
    report = check_dataset(sample_dir, classes=CLASSES + ["hat"]).report
    assert any(f.code == "class-missing" and "'hat'" in f.message for f in report.warnings)
    imbalance = [f for f in report.warnings if f.code == "class-imbalance"]
    assert imbalance and "rarest class 'hat' has 0 boxes" in imbalance[0].message


def plant_all(root):
    for fault in FAULTS:
        fault[1](root)


def test_cli_exits_1_and_json_gives_the_same_findings(sample_copy, capsys):
    plant_all(sample_copy)
    before = tree_digest(sample_copy)
    assert main(["data", "check", str(sample_copy), "--classes", SAMPLE_CLASSES]) == 1
    table = capsys.readouterr().out
    assert main(["data", "check", str(sample_copy), "--classes", SAMPLE_CLASSES, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert tree_digest(sample_copy) == before
    for finding in doc["findings"]:
        assert finding["message"] in table and finding["path"] in table
    for fault in FAULTS:
        assert any(f["code"] == fault[3] and f["path"] == fault[4] for f in doc["findings"]), fault[0]
    assert doc["errors"] == sum(f["severity"] == "error" for f in doc["findings"]) >= 9


def test_fix_writes_a_clean_copy_and_reports_every_change(sample_copy, tmp_path):
    plant_all(sample_copy)
    before = tree_digest(sample_copy)
    result = check_dataset(sample_copy, classes=CLASSES)
    changes = fix_dataset(result, tmp_path / "clean")
    assert tree_digest(sample_copy) == before
    actions = {(c.action, c.path) for c in changes}
    for expected in [("left-out-image", "images/sample_0001.jpg"), ("left-out-image", "images/sample_0002.jpg"),
                     ("left-out-image", "images/sample_0003.jpg"), ("clipped-box", "images/sample_0004.jpg"),
                     ("swapped-box", "images/sample_0005.jpg"), ("dropped-box", "images/sample_0006.jpg"),
                     ("renamed-class", "images/sample_0007.jpg"), ("left-out-label", "annotations/sample_0008.xml"),
                     ("left-out-label", "annotations/sample_0011.xml"), ("left-out-image", "images/zz_copy.jpg"),
                     ("corrected-size", "images/sample_0014.jpg")]:
        assert expected in actions, expected
    report_text = (tmp_path / "clean" / "fix_report.txt").read_text()
    assert "images/sample_0001.jpg: left-out-image: cannot decode image" in report_text
    assert len(json.loads((tmp_path / "clean" / "fix_report.json").read_text())) == len(changes)
    again = check_dataset(tmp_path / "clean", classes=CLASSES).report
    assert again.errors == [], render_report(again)
    assert read_dataset(tmp_path / "clean").classes == CLASSES


def test_cli_fix_needs_out_and_refuses_an_out_inside_the_input(sample_dir, capsys):
    assert main(["data", "check", str(sample_dir), "--fix"]) == 2
    assert "error: --fix needs --out DIR" in capsys.readouterr().err
    assert main(["data", "check", str(sample_dir), "--fix", "--out", str(sample_dir / "clean")]) == 2
    assert "output folder is inside the input dataset" in capsys.readouterr().err
    assert not (sample_dir / "clean").exists()


@pytest.mark.shared
def test_face_mask_with_planted_faults(face_mask_copy, capsys):
    """The issue's acceptance check: every planted fault reported with its file; exit 1; no byte changed."""
    root = face_mask_copy
    stems = sorted(p.stem for p in (root / "annotations").glob("*.xml"))[:7]
    truncate(root, stems[0])
    (root / "images" / f"{stems[1]}.jpg").write_bytes(b"")
    edit_xml(root, stems[2], r"<xmax>\d+</xmax>", "<xmax>900</xmax>")
    invert_first_box(root, stems[3])
    edit_xml(root, stems[4], r"<name>\w+</name>", "<name>With_Mask</name>")
    (root / "images" / f"{stems[5]}.jpg").unlink()
    shutil.copy(root / "images" / f"{stems[6]}.jpg", root / "images" / "copy_of_one.jpg")
    expected = [("unreadable-image", f"images/{stems[0]}.jpg"), ("unreadable-image", f"images/{stems[1]}.jpg"),
                ("box-out-of-bounds", f"annotations/{stems[2]}.xml"), ("box-inverted", f"annotations/{stems[3]}.xml"),
                ("unknown-class", f"annotations/{stems[4]}.xml"), ("label-without-image", f"annotations/{stems[5]}.xml"),
                ("duplicate-image", "images/copy_of_one.jpg")]
    before = tree_digest(root)

    assert main(["data", "check", str(root), "--classes", SAMPLE_CLASSES]) == 1
    table = capsys.readouterr().out
    assert main(["data", "check", str(root), "--classes", SAMPLE_CLASSES, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)

    assert tree_digest(root) == before
    found = {(f["code"], f["path"]) for f in doc["findings"]}
    for code, path in expected:
        assert (code, path) in found, (code, path)
        assert path in table
    assert "'With_Mask' looks like 'with_mask'" in table
    for finding in doc["findings"]:
        assert finding["message"] in table
