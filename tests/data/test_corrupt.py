"""data corrupt: night, dim-light, blur and JPEG copies of a dataset, labels unchanged."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from dabai.core.errors import DataError
from dabai.data.corrupt import CORRUPTIONS, corrupt_dataset, parse_kinds
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import read_dataset

CLASSES = ["with_mask", "without_mask", "mask_weared_incorrect"]


def photo(tmp_path) -> Dataset:
    """A 120x90 colour photo with texture (so blur and JPEG change it) and two faces, one a PNG."""
    rng = np.random.default_rng(0)
    records = []
    for name in ("a.jpg", "b.png"):
        image = np.clip(rng.normal(140, 40, (90, 120, 3)), 0, 255).astype(np.uint8)
        image[..., 2] = 200  # a colour cast, so greyscale is a change
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), image)
        records.append(ImageRecord(path.resolve(), 120, 90, [Box(10, 10, 50, 50, "with_mask"),
                                                             Box(60, 20, 100, 70, "without_mask")], name=name))
    return Dataset(records, CLASSES)


def _read(record):
    return cv2.imread(str(record.path)).astype(np.float32)


@pytest.mark.parametrize("kind, check", [
    ("grey", lambda before, after: np.abs(after[..., 0] - after[..., 2]).max() <= 3),  # channels equal (after JPEG)
    ("dark", lambda before, after: after.mean() < 0.6 * before.mean()),
    ("blur2", lambda before, after: np.abs(np.diff(after, axis=1)).mean() < 0.5 * np.abs(np.diff(before, axis=1)).mean()),
    ("motion9", lambda before, after: np.abs(np.diff(after, axis=1)).mean() < 0.5 * np.abs(np.diff(before, axis=1)).mean()),
    ("jpeg15", lambda before, after: 2 < np.abs(after - before).mean() < 40),
    ("washed", lambda before, after: after.std() < 0.6 * before.std() and after.min() >= 100),
])
def test_each_kind_changes_pixels_not_labels(tmp_path, kind, check):
    ds = photo(tmp_path)
    made = corrupt_dataset(ds, tmp_path / "out", "voc", [kind])[kind]
    for before, after in zip(ds.images, made.images, strict=True):
        assert check(_read(before), _read(after)), kind
        assert after.boxes == before.boxes and (after.width, after.height) == (before.width, before.height)
    again = read_dataset(tmp_path / "out" / kind)
    assert sorted(im.name for im in again.images) == ["a.jpg", "b.jpg"]  # written as JPEG
    assert again.num_boxes == 4


def test_same_seed_same_pixels_and_input_untouched(tmp_path):
    ds = photo(tmp_path)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    source = [digest(im.path) for im in ds.images]
    one = corrupt_dataset(ds, tmp_path / "one", "voc", ["dark"], seed=3)["dark"]
    two = corrupt_dataset(ds, tmp_path / "two", "voc", ["dark"], seed=3)["dark"]
    other = corrupt_dataset(ds, tmp_path / "other", "voc", ["dark"], seed=4)["dark"]
    assert [digest(im.path) for im in one.images] == [digest(im.path) for im in two.images]
    assert [digest(im.path) for im in one.images] != [digest(im.path) for im in other.images]
    assert [digest(im.path) for im in ds.images] == source


@pytest.mark.parametrize("text, expected", [
    ("grey", ["grey"]), ("grey, dark", ["grey", "dark"]), ("all", list(CORRUPTIONS)),
])
def test_parse_kinds(text, expected):
    assert parse_kinds(text) == expected


@pytest.mark.parametrize("text", ["fog", "grey,fog", ","])
def test_unknown_kind_names_the_choices(text):
    with pytest.raises(DataError, match="choose from grey, dark, blur2"):
        parse_kinds(text)


def test_cli_writes_one_folder_per_kind_and_refuses_a_full_folder(tmp_path, capsys):
    from dabai.cli.main import main
    from dabai.data.formats import write_dataset

    write_dataset(photo(tmp_path), tmp_path / "voc", "voc")
    assert main(["data", "corrupt", str(tmp_path / "voc"), "--out", str(tmp_path / "c"), "--kinds", "grey,jpeg15"]) == 0
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["grey", "jpeg15"]
    assert "2 corrupted copies of 2 images" in capsys.readouterr().out
    assert main(["data", "corrupt", str(tmp_path / "voc"), "--out", str(tmp_path / "c")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["data", "corrupt", str(tmp_path / "voc"), "--out", str(tmp_path / "d"), "--kinds", "fog"]) == 2


def test_unreadable_image_is_a_clear_error(tmp_path):
    ds = photo(tmp_path)
    ds.images[0].path.write_bytes(b"not an image")
    with pytest.raises(DataError, match="not a readable image") as info:
        corrupt_dataset(ds, tmp_path / "out", "voc", ["grey"])
    assert "a.jpg" in str(info.value)
