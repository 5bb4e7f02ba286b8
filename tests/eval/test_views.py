"""Per-source tables in three views (eval/views.py): 3-class, mask_ok vs not_ok, faces found."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dabai.eval.api import evaluate, read_eval_data
from dabai.eval.views import POOLED, score_by_source, score_view, view_mapping

from .test_coco import CLASSES, _dataset, _perfect


def _relabelled(detections, mapping):
    return {n: [replace(d, label=mapping.get(d.label, d.label)) for d in ds] for n, ds in detections.items()}


@pytest.mark.parametrize("view,expected", [
    ("3class", {"with_mask": "with_mask", "without_mask": "without_mask", "mask_weared_incorrect": "mask_weared_incorrect"}),
    ("mask_ok", {"with_mask": "mask_ok", "without_mask": "not_ok", "mask_weared_incorrect": "not_ok"}),
    ("faces", {"with_mask": "face", "without_mask": "face", "mask_weared_incorrect": "face"}),
])
def test_view_mappings(view, expected):
    assert view_mapping(view, CLASSES) == expected


def test_confusing_the_two_bad_classes_costs_3class_but_not_the_gate_view():
    ds = _dataset(n_images=12, seed=3)
    swapped = _relabelled(_perfect(ds), {"without_mask": "mask_weared_incorrect", "mask_weared_incorrect": "without_mask"})
    assert score_view(ds, swapped, CLASSES, "mask_ok").map50 == pytest.approx(1.0)
    assert score_view(ds, swapped, CLASSES, "faces").map50 == pytest.approx(1.0)
    assert score_view(ds, swapped, CLASSES, "3class").map50 < 0.7


def test_calling_a_bare_face_masked_costs_the_gate_view_not_faces_found():
    ds = _dataset(n_images=12, seed=4)
    wrong = _relabelled(_perfect(ds), {"without_mask": "with_mask", "mask_weared_incorrect": "with_mask"})
    assert score_view(ds, wrong, CLASSES, "faces").map50 == pytest.approx(1.0)
    assert score_view(ds, wrong, CLASSES, "mask_ok").map50 < 0.9


def test_each_source_gets_its_row_and_the_pool_its_own():
    ds = _dataset(n_images=10, seed=5)
    for i, im in enumerate(ds.images):
        im.source = "a" if i < 6 else "b"
    dets = _perfect(ds)
    for im in ds.images[6:]:  # source b: every face missed
        dets[im.name] = []
    table = score_by_source(ds, dets, CLASSES)
    assert list(table.results) == ["a", "b", POOLED]
    assert table.images == {"a": 6, "b": 4, POOLED: 10}
    assert table.results["a"]["faces"].map50 == pytest.approx(1.0)
    assert table.results["b"]["faces"].map50 == 0.0
    assert 0 < table.results[POOLED]["faces"].map50 < 1
    text = table.render()
    assert text.splitlines()[1].startswith("a ") and "pooled" in text
    assert set(table.to_json()["b"]) == {"images", "boxes", "3class", "mask_ok", "faces"}


def test_the_table_prints_whole_names_in_aligned_columns():
    ds = _dataset(n_images=6, seed=7)
    long_name = "face-mask-ilc2021/test-withheld-photos"  # longer than the default source column
    for i, im in enumerate(ds.images):
        im.source = long_name if i < 3 else "b"
    lines = score_by_source(ds, _perfect(ds), CLASSES).render().splitlines()
    assert "mask_weared_incorrect" in lines[0]  # the rare class named whole, not cut to 16 characters
    assert lines[1].startswith(long_name + " ")
    ends = {len(line) for line in lines[1:]}  # every row's numbers end in the same columns
    assert len(ends) == 1 and all(line.rstrip().endswith("1.0000") for line in lines[1:])


def test_one_evaluation_per_view_scores_each_source_as_its_own_dataset():
    from dabai.data.dataset import Dataset
    from dabai.eval.coco import coco_evaluate

    ds = _dataset(n_images=12, seed=6)
    for i, im in enumerate(ds.images):
        im.source = "ab"[i % 2]
    dets = _relabelled(_perfect(ds), {"without_mask": "mask_weared_incorrect"})
    for k, im in enumerate(ds.images):  # some faces missed, some scores lowered: APs between 0 and 1
        dets[im.name] = [replace(d, score=d.score * (0.3 + 0.05 * k)) for d in dets[im.name][k % 2:]]
    table = score_by_source(ds, dets, CLASSES)
    for source in "ab":
        part = Dataset(images=[im for im in ds.images if im.source == source], classes=ds.classes)
        found = {im.name: dets[im.name] for im in part.images}
        for view in ("3class", "mask_ok", "faces"):
            assert table.results[source][view].to_json() == score_view(part, found, CLASSES, view).to_json()
    assert table.results[POOLED]["3class"].to_json() == coco_evaluate(ds, dets, CLASSES).to_json()
    assert 0 < table.results["a"]["3class"].map50 < 1


def test_pooled_folders_are_named_sources(tmp_path):
    from dabai.data.formats import write_dataset
    from dabai.data.synth import make_sample_dataset

    for name in ("one", "two"):
        make_sample_dataset(tmp_path / "src" / name, n_images=3, seed=len(name))
        ds = read_eval_data(tmp_path / "src" / name)
        for im in ds.images:
            im.name = f"{name}-{im.name}"
        write_dataset(ds, tmp_path / name / "test", "voc")
    pooled = read_eval_data([tmp_path / "one" / "test", tmp_path / "two" / "test"])
    assert {im.source for im in pooled.images} == {"one/test", "two/test"}


def test_evaluate_reports_sources_for_the_shipped_model(sample_dir_for_eval):
    result = evaluate(None, sample_dir_for_eval, progress=False)
    doc = result.to_json()
    assert set(doc["sources"]) == {POOLED}
    assert doc["sources"][POOLED]["3class"]["map50"] == pytest.approx(doc["map50"], abs=1e-4)


@pytest.fixture(scope="module")
def sample_dir_for_eval(tmp_path_factory):
    from dabai.data.synth import make_sample_dataset

    root = tmp_path_factory.mktemp("views") / "voc"
    make_sample_dataset(root, n_images=6, seed=2)
    return root


def test_an_unknown_view_is_refused():
    with pytest.raises(ValueError, match="unknown view"):
        view_mapping("two-class", CLASSES)
