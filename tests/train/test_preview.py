"""`train --preview-augment`: the sheet shows samples from the real training pipeline, boxes included."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dabai.cli.main import main
from dabai.train.preview import preview_augment
from dabai.train.spec import load_spec


def test_sheet_pairs_plain_and_augmented(tiny_data, tmp_path, write_spec):
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", **{"augment.hflip": 1.0})))
    path = preview_augment(spec, tmp_path / "p.png", samples=3, cols=6)
    sheet = cv2.imread(str(path))
    assert sheet is not None and sheet.shape[1] == 6 * 320
    row = sheet[28:28 + 240]  # first row under the title: plain, augmented, plain, augmented, ...
    plain, augmented = row[:, :320].astype(int), row[:, 320:640].astype(int)
    assert np.abs(plain - augmented).mean() > 5  # a flip (and colour jitter) changed the picture


def test_a_broken_augmentation_shows(tiny_data, tmp_path, monkeypatch, write_spec):
    """If the pipeline moved the pixels but not the boxes, the augmented tile's boxes are off the faces:
    the preview uses train.data's own augmentation, so patching it shows up on the sheet."""
    import dabai.train.data as train_data

    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs")))
    good = cv2.imread(str(preview_augment(spec, tmp_path / "good.png", samples=2)))

    def broken(self, image, boxes, labels, index):
        return np.ascontiguousarray(image[:, ::-1]), boxes, labels  # flips the image, forgets the boxes

    monkeypatch.setattr(train_data.DetectionData, "_augment", broken)
    bad = cv2.imread(str(preview_augment(spec, tmp_path / "bad.png", samples=2)))
    assert good.shape == bad.shape and not np.array_equal(good[:, 320:640], bad[:, 320:640])


def test_cli(tiny_data, tmp_path, capsys, write_spec):
    spec = write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs")
    out = tmp_path / "sheet.png"
    assert main(["train", "--preview-augment", str(spec), "--sheet", str(out), "--samples", "2",
                 "--set", "augment.mosaic=1"]) == 0
    assert cv2.imread(str(out)) is not None and "augmentation preview" in capsys.readouterr().out
    assert main(["train", "--preview-augment", str(spec), "--set", "augment.colour=1"]) == 2
    assert "augment.colour" in capsys.readouterr().err


@pytest.mark.parametrize("samples", [0])
def test_bad_sample_count(tiny_data, tmp_path, samples, write_spec):
    from dabai.core.errors import ConfigError

    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs")))
    with pytest.raises(ConfigError, match="samples 0"):
        preview_augment(spec, tmp_path / "x.png", samples=samples)
