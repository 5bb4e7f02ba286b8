"""data split: fractions, seeds, rare classes in every split, look-alikes kept together."""

from __future__ import annotations

import json

import pytest

from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.data.formats import detect_format, read_dataset
from dabai.data.split import fold_dataset, split_dataset, split_fractions, write_folds, write_split
from dabai.data.synth import make_sample_dataset


@pytest.fixture(scope="module")
def sample_with_twins(tmp_path_factory):
    root = tmp_path_factory.mktemp("split") / "voc"
    make_sample_dataset(root, n_images=40, seed=5, near_duplicates=4)
    return root


@pytest.mark.parametrize("val,test,message", [
    (-0.1, 0.1, "--val is -0.1; expected a fraction"),
    (0.1, 1.0, "--test is 1.0; expected a fraction"),
    (0.5, 0.5, "leave nothing for training"),
])
def test_bad_fractions_are_refused(val, test, message):
    with pytest.raises(DataError, match=message):
        split_fractions(val, test)


def names(split, part):
    return {im.name for im in split.datasets[part].images}


def test_every_image_lands_in_exactly_one_split(sample_with_twins):
    ds = read_dataset(sample_with_twins)
    split = split_dataset(ds, val=0.2, test=0.2, seed=1)
    parts = [names(split, p) for p in ("train", "val", "test")]
    assert sum(map(len, parts)) == len(ds) and set.union(*parts) == {im.name for im in ds.images}
    assert len(parts[0]) > len(parts[1]) > 0 and len(parts[2]) > 0


def test_the_same_seed_gives_the_same_split_and_another_seed_another(sample_with_twins):
    ds = read_dataset(sample_with_twins)
    a, b, c = (split_dataset(ds, seed=s) for s in (7, 7, 8))
    assert all(names(a, p) == names(b, p) for p in ("train", "val", "test"))
    assert any(names(a, p) != names(c, p) for p in ("train", "val", "test"))


@pytest.mark.parametrize("seed", range(5))
def test_every_class_and_every_look_alike_group(sample_with_twins, seed):
    ds = read_dataset(sample_with_twins)
    split = split_dataset(ds, val=0.15, test=0.15, seed=seed)
    assert len(split.groups) == 4  # the planted near-duplicates
    for part in split.datasets.values():
        assert all(n > 0 for n in part.class_counts().values()), part.class_counts()
    for group in split.groups:
        homes = [p for p in split.datasets if set(group) <= names(split, p)]
        assert len(homes) == 1, group
    assert split.missing == {}


def test_zero_fraction_leaves_that_split_out(sample_with_twins):
    split = split_dataset(read_dataset(sample_with_twins), val=0.2, test=0, seed=0)
    assert list(split.datasets) == ["train", "val"]


def test_writes_each_split_in_the_chosen_format_with_a_report(sample_with_twins, tmp_path):
    split = split_dataset(read_dataset(sample_with_twins), seed=0)
    write_split(split, tmp_path / "out", "kitti")
    for part in ("train", "val", "test"):
        assert detect_format(tmp_path / "out" / part) == "kitti"
        assert len(read_dataset(tmp_path / "out" / part)) == len(split.datasets[part])
    report = json.loads((tmp_path / "out" / "split_report.json").read_text())
    assert report["splits"]["val"]["images"] == len(split.datasets["val"])
    assert sorted(report["images"]["test"]) == sorted(names(split, "test"))


@pytest.mark.parametrize("folds", [3, 5])
def test_folds_partition_the_images_with_every_class_and_group_in_one_fold(sample_with_twins, folds):
    ds = read_dataset(sample_with_twins)
    split = fold_dataset(ds, folds, seed=0)
    parts = [names(split, f"fold{k}") for k in range(folds)]
    assert sum(map(len, parts)) == len(ds) and set().union(*parts) == {im.name for im in ds.images}
    assert all(abs(len(p) - len(ds) / folds) <= 3 for p in parts)
    for part in split.datasets.values():
        assert all(n > 0 for n in part.class_counts().values()), part.class_counts()
    for group in split.groups:
        assert sum(set(group) <= p for p in parts) == 1, group


def test_written_folds_train_on_the_others_and_validate_on_their_own(sample_with_twins, tmp_path):
    split = fold_dataset(read_dataset(sample_with_twins), 3, seed=0)
    write_folds(split, tmp_path / "folds", "yolo", link="symlink")
    for k in range(3):
        val = {im.name for im in read_dataset(tmp_path / "folds" / f"fold{k}" / "val").images}
        train = {im.name for im in read_dataset(tmp_path / "folds" / f"fold{k}" / "train").images}
        assert val == names(split, f"fold{k}") and not (val & train) and len(val | train) == 44


@pytest.mark.parametrize("argv,message", [
    (["--folds", "1"], "--folds is 1; expected 2 or more"),
    (["--folds", "999"], "--folds 999 is more than the 44 images"),
    (["--folds", "3", "--val", "0.2"], "--folds makes its own validation folds"),
])
def test_bad_folds_are_refused(sample_with_twins, tmp_path, capsys, argv, message):
    assert main(["data", "split", str(sample_with_twins), "--out", str(tmp_path / "o"), *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.shared
def test_face_mask_split_keeps_duplicates_together_and_the_rare_class_everywhere(face_mask_dir, tmp_path, capsys):
    """The issue's acceptance check, through the CLI."""
    out = tmp_path / "splits"
    assert main(["data", "split", str(face_mask_dir), "--out", str(out), "--val", "0.15", "--test", "0.15",
                 "--seed", "0", "--link"]) == 0
    report = json.loads((out / "split_report.json").read_text())
    for part in ("train", "val", "test"):
        assert report["splits"][part]["class_counts"]["mask_weared_incorrect"] > 0
        assert read_dataset(out / part).class_counts()["mask_weared_incorrect"] > 0
    home = {name: part for part, listed in report["images"].items() for name in listed}
    assert len(home) == 703
    assert len(report["kept_together"]) >= 10  # the set has a dozen exact and near-duplicate pairs
    for group in report["kept_together"]:
        assert len({home[name] for name in group}) == 1, group
    assert abs(report["splits"]["test"]["images"] - 0.15 * 703) < 25
    assert "groups of look-alike images kept together" in capsys.readouterr().out
