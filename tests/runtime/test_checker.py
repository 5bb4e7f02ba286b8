"""The mask checker (runtime/checker.py): detector + face-crop classifier behind Detector.load()."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dabai.core.errors import ModelError  # noqa: E402
from dabai.data.synth import SAMPLE_CLASSES, make_sample_dataset  # noqa: E402
from dabai.export.checker import build_checker, quantize_classifier  # noqa: E402
from dabai.export.onnx import export_onnx  # noqa: E402
from dabai.models.registry import create_model  # noqa: E402
from dabai.runtime.checker import CheckerOptions  # noqa: E402
from dabai.runtime.detector import Detector  # noqa: E402
from dabai.runtime.refine import CropClassifier, boxes_from_unit  # noqa: E402
from dabai.train.classifier import ClassifierSpec, Crops, SourceSpec, build_model, export_classifier  # noqa: E402


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("checker")
    det = create_model("mnv2_pan", 3, 96).eval()
    for level in det.head.levels:  # distinct, untied scores from an untrained model
        torch.nn.init.normal_(level.cls.weight, std=30.0)
    det_path = export_onnx(det, root / "det.onnx", SAMPLE_CLASSES, "mnv2_pan")
    clf = build_model(3, None).eval()
    torch.nn.init.normal_(clf.net.classifier[1].weight, std=0.5)
    spec = ClassifierSpec(task="classify", classes=list(SAMPLE_CLASSES), sources=[SourceSpec(path="x")], input_size=32)
    empty = Crops(np.zeros((0, 1, 1, 3), np.uint8), np.zeros((0, 3), bool), np.zeros(0, int), np.zeros(0, int), ["x"])
    clf_path = export_classifier(clf, root / "clf.onnx", spec, empty)
    images = root / "images"
    make_sample_dataset(images, n_images=3, seed=4)
    return root, det_path, clf_path, sorted((images / "images").iterdir())


def test_each_face_gets_a_score_per_class_from_the_classifier(parts):
    root, det_path, clf_path, images = parts
    manifest = build_checker(det_path, clf_path, root / "out" / "checker.json", CheckerOptions(max_faces=20),
                             provenance={"sources": ["tiny"]})
    checker = Detector.load(manifest, threads=1).with_options(conf=0.0)
    plain = Detector.load(det_path, threads=1).with_options(conf=0.0, class_agnostic=True)
    clf = CropClassifier(clf_path, threads=1)
    for path in images:
        found = checker(path)
        faces = {}
        for d in found:
            faces.setdefault(tuple(round(v, 3) for v in d.bbox), {})[d.label] = d.score
        assert 0 < len(faces) <= 20
        # every face is one of the detector's (class-agnostic) boxes, with all three labels
        plain_boxes = [np.array(d.bbox) for d in plain(path)]
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        for box, by_label in list(faces.items())[:5]:
            assert any(np.allclose(box, b, atol=1e-2) for b in plain_boxes)
            assert set(by_label) == set(SAMPLE_CLASSES)
            probs = clf(clf.crops(rgb, np.array([box])))[0]
            ratios = [by_label[c] / probs[i] for i, c in enumerate(SAMPLE_CLASSES)]
            assert max(ratios) - min(ratios) < 1e-3  # scores are the face score times the classifier's shares


def test_manifest_records_sha256_and_refuses_changed_files(parts, tmp_path):
    _, det_path, clf_path, _ = parts
    manifest = build_checker(det_path, clf_path, tmp_path / "c.json")
    doc = json.loads(manifest.read_text())
    assert doc["format"] == "dabai-checker/1" and set(doc["sha256"]) == {"detector", "classifier"}
    with open(tmp_path / "clf.onnx", "ab") as f:
        f.write(b"x")
    with pytest.raises(ModelError, match="sha256 does not match"):
        Detector.load(manifest)


@pytest.mark.parametrize("doc,message", [
    ({"format": "other"}, "expected a checker manifest"),
    ({"format": "dabai-checker/1", "detector": "d.onnx"}, "key 'classifier' must name"),
    ({"format": "dabai-checker/1", "detector": "d.onnx", "classifier": "c.onnx"}, "its detector .* is missing"),
])
def test_bad_manifests_are_refused(tmp_path, doc, message):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=message):
        Detector.load(path)


def test_option_types_are_checked(parts, tmp_path):
    _, det_path, clf_path, _ = parts
    manifest = build_checker(det_path, clf_path, tmp_path / "c.json")
    doc = json.loads(manifest.read_text())
    doc["classifier_weight"] = "high"
    manifest.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="'classifier_weight' must be a number"):
        Detector.load(manifest)


@pytest.fixture(scope="module")
def box_head_classifier(tmp_path_factory):
    torch.manual_seed(1)
    root = tmp_path_factory.mktemp("boxhead")
    clf = build_model(3, None, box_head=True).eval()
    head = clf.net.classifier[1]
    torch.nn.init.normal_(head.weight, std=0.02)
    with torch.no_grad():  # a face-like box in the crop's unit square, moved a little per crop
        head.bias[3:] = torch.tensor([0.2, 0.15, 0.8, 0.9])
    spec = ClassifierSpec(task="classify", classes=list(SAMPLE_CLASSES), sources=[SourceSpec(path="x")], input_size=32,
                          box_head=True)
    empty = Crops(np.zeros((0, 1, 1, 3), np.uint8), np.zeros((0, 3), bool), np.zeros(0, int), np.zeros(0, int), ["x"])
    return export_classifier(clf, root / "clf_box.onnx", spec, empty)


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_box_refine_moves_each_face_to_the_box_head_s_box(parts, box_head_classifier, tmp_path, share):
    """box_refine 0 keeps the detector's boxes; 1 puts each face where the classifier's box head read it
    (decoded from the crop's unit square); in between, the mix. Class scores do not depend on it."""
    root, det_path, _, images = parts
    manifest = build_checker(det_path, box_head_classifier, tmp_path / "c.json", CheckerOptions(max_faces=5, box_refine=share))
    refined = Detector.load(manifest, threads=1).with_options(conf=0.0, class_agnostic=True)
    kept = Detector.load(build_checker(det_path, box_head_classifier, tmp_path / "k.json", CheckerOptions(max_faces=5)),
                         threads=1).with_options(conf=0.0, class_agnostic=True)
    clf = CropClassifier(box_head_classifier, threads=1)
    path = images[0]
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    plain = {round(d.score, 5): np.array(d.bbox) for d in kept(path)}
    moved = {round(d.score, 5): np.array(d.bbox) for d in refined(path)}
    assert plain.keys() == moved.keys() and plain
    for score, box in plain.items():
        _, unit = clf.run(clf.crops(rgb, box[None]))
        expected = (1 - share) * box + share * boxes_from_unit(unit, box[None], clf.context)[0]
        expected = expected.clip(0, [rgb.shape[1], rgb.shape[0]] * 2)
        assert np.allclose(moved[score], expected, atol=0.05)
    if share:
        assert any(not np.allclose(plain[k], moved[k], atol=0.5) for k in plain)


def test_box_refine_must_be_a_share(parts, box_head_classifier, tmp_path):
    _, det_path, _, _ = parts
    manifest = build_checker(det_path, box_head_classifier, tmp_path / "c.json")
    doc = json.loads(manifest.read_text())
    doc["box_refine"] = 1.5
    manifest.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="'box_refine' must be from 0 to 1"):
        Detector.load(manifest)


def test_int8_box_head_keeps_both_outputs(box_head_classifier, tmp_path):
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (64, 32, 32, 3), dtype=np.uint8)
    q = CropClassifier(quantize_classifier(box_head_classifier, tmp_path / "q.onnx", crops), 1)
    a = CropClassifier(box_head_classifier, 1)
    assert q.has_box_head
    assert np.abs(a.run(crops[:8])[1] - q.run(crops[:8])[1]).max() < 0.1


def test_int8_classifier_agrees_with_fp32(parts, tmp_path):
    _, _, clf_path, _ = parts
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (64, 32, 32, 3), dtype=np.uint8)
    q = quantize_classifier(clf_path, tmp_path / "clf.int8.onnx", crops)
    a, b = CropClassifier(clf_path, 1), CropClassifier(q, 1)
    assert b.classes == a.classes and b.context == a.context
    assert np.abs(a(crops[:16]) - b(crops[:16])).max() < 0.15


def test_second_look_adds_tile_faces_only_when_a_small_face_calls_for_it(parts, tmp_path):
    """tiles 2 with trigger 0 judges the full frame's faces plus the tiles'; with a trigger no face reaches,
    the output is the single pass's, exactly."""
    _, det_path, clf_path, images = parts

    def load(name, **options):
        manifest = build_checker(det_path, clf_path, tmp_path / f"{name}.json", CheckerOptions(max_faces=50, **options))
        return Detector.load(manifest, threads=1).with_options(conf=0.0, class_agnostic=True, max_detections=1000)

    single, always, never = load("single"), load("always", tiles=2, tile_trigger=0.0, tile_small=1.0), \
        load("never", tiles=2, tile_trigger=1.0, tile_small=0.0)
    off = Detector.load(tmp_path / "always.json", threads=1, second_look=False).with_options(
        conf=0.0, class_agnostic=True, max_detections=1000)
    assert always.second_look and not off.second_look and not single.second_look
    for path in images:
        one = [(d.bbox, d.score) for d in single(path)]
        assert [(d.bbox, d.score) for d in never(path)] == one
        assert [(d.bbox, d.score) for d in off(path)] == one  # second_look=False: the manifest's tiles ignored
        boxes = {tuple(round(v, 2) for v in d.bbox) for d in always(path)}
        assert boxes - {tuple(round(v, 2) for v in b) for b, _ in one}  # faces only a tile saw


@pytest.mark.parametrize("key,value,message", [("tiles", 7, "'tiles' must be 1"), ("tile_overlap", 0.6, "'tile_overlap'"),
                                               ("tile_trigger", 2, "'tile_trigger' must be from 0 to 1"),
                                               ("tile_where", "some", r"'tile_where' must be one of \['all', 'unsure'\]")])
def test_tile_options_are_checked(parts, tmp_path, key, value, message):
    _, det_path, clf_path, _ = parts
    manifest = build_checker(det_path, clf_path, tmp_path / "c.json")
    doc = json.loads(manifest.read_text())
    doc[key] = value
    manifest.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=message):
        Detector.load(manifest)


def test_tile_where_unsure_runs_only_the_tiles_that_hold_a_small_unsure_face(parts):
    """The second look goes through all four tiles, or (tile_where: unsure) only those whose window holds
    the centre of a first-pass face that called for it; none when no small face is unsure."""
    from dabai.runtime.checker import Checker
    from dabai.runtime.preprocess import Letterbox

    class Recorder:
        batches = []

        def __call__(self, batch):
            self.batches.append(batch.shape[0])
            return np.zeros((batch.shape[0], 0, 4), np.float32), np.zeros((batch.shape[0], 0, 3), np.float32)

    _, _, clf_path, _ = parts
    backend, rgb, lb = Recorder(), np.zeros((400, 400, 3), np.uint8), Letterbox(384 / 400, 400, 400)
    boxes = np.array([[10, 10, 20, 20], [100, 100, 300, 300]], np.float32)  # a 10-px face top left; a large one
    scores = np.array([[0.9, 0.0, 0.0], [0.9, 0.0, 0.0]], np.float32)
    for where, tiles in (("all", 4), ("unsure", 1)):
        checker = Checker(CropClassifier(clf_path, 1), CheckerOptions(tiles=2, tile_trigger=0.3, tile_where=where))
        found, _ = checker.candidates(backend, rgb, boxes, scores, lb, 384)
        assert backend.batches[-1] == tiles and len(found) == 2  # the tiles found nothing to add here
    checker.candidates(backend, rgb, boxes[1:], scores[1:], lb, 384)  # no small unsure face: no second look
    assert backend.batches == [4, 1]


class LeftRight:
    """A crop classifier that tells left from right: its scores are the brightness of the crop's left half, its
    right half and 1 (normalised), and its box head puts the face in the brighter half."""

    context, classes, has_box_head = 1.3, list(SAMPLE_CLASSES), True

    def crops(self, image_rgb, boxes):
        return np.stack([cv2.resize(image_rgb[int(b[1]):int(b[3]), int(b[0]):int(b[2])], (32, 32)) for b in boxes])

    def run(self, crops):
        half = crops.shape[2] // 2
        left, right = crops[:, :, :half].mean(axis=(1, 2, 3)) / 255, crops[:, :, half:].mean(axis=(1, 2, 3)) / 255
        raw = np.stack([left, right, np.ones_like(left)], axis=1)
        unit = np.where((left > right)[:, None], [[0.0, 0.1, 0.5, 0.9]], [[0.5, 0.1, 1.0, 0.9]])
        return raw / raw.sum(axis=1, keepdims=True), unit.astype(np.float32)


def test_flip_averages_each_crop_with_its_mirror_image():
    from dabai.runtime.checker import mirror_average

    clf = LeftRight()
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, :32] = 200  # bright on the left
    crops = clf.crops(image, np.array([[0, 0, 64, 64], [16, 0, 48, 64]], np.float32))
    probs, unit = clf.run(crops)
    for share in (0.5, 1.0):
        p, u = mirror_average(clf, crops, share)
        mirrored = probs[:, [1, 0, 2]]  # the mirror image is bright on the right
        assert np.allclose(p, (1 - share) * probs + share * mirrored, atol=1e-6)
        assert np.allclose(u, unit, atol=1e-6)  # its box, mirrored back, is where the crop's own box is
    assert np.allclose(mirror_average(clf, crops, 0.5)[0][:, 0], mirror_average(clf, crops, 0.5)[0][:, 1])


def test_flip_is_a_checker_option_and_a_share(parts, tmp_path):
    from dabai.runtime.checker import Checker

    _, det_path, clf_path, _ = parts
    manifest = build_checker(det_path, clf_path, tmp_path / "f.json", CheckerOptions(max_faces=5, flip=0.5))
    assert json.loads(manifest.read_text())["flip"] == 0.5
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, :32] = 200
    boxes, scores = np.array([[0, 0, 64, 64]], np.float32), np.array([[0.9, 0.0, 0.0]], np.float32)
    _, plain = Checker(LeftRight(), CheckerOptions()).judge(image, boxes, scores)
    _, flipped = Checker(LeftRight(), CheckerOptions(flip=0.5)).judge(image, boxes, scores)
    assert plain[0, 0] > plain[0, 1] and flipped[0, 0] == pytest.approx(flipped[0, 1])
    doc = json.loads(manifest.read_text())
    doc["flip"] = 1.5
    manifest.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="'flip' must be from 0 to 1"):
        Detector.load(manifest)


def _face_photo(face_mask_dir, tmp_path):
    """A real photo with a face that fills much of the frame: the largest labelled face of the first image,
    cropped with context (the shared CC0 face-mask set)."""
    from dabai.data.formats import voc

    ds = voc.read(face_mask_dir)
    im = max(ds.images[:20], key=lambda r: max(((b.x2 - b.x1) * (b.y2 - b.y1) for b in r.boxes), default=0))
    box = max(im.boxes, key=lambda b: (b.x2 - b.x1) * (b.y2 - b.y1))
    bgr = cv2.imread(str(im.path))
    side = int(3 * max(box.x2 - box.x1, box.y2 - box.y1))
    cx, cy = int((box.x1 + box.x2) / 2), int((box.y1 + box.y2) / 2)
    crop = bgr[max(cy - side // 2, 0):cy + side // 2, max(cx - side // 2, 0):cx + side // 2]
    path = tmp_path / "face.jpg"
    cv2.imwrite(str(path), cv2.resize(crop, (320, 320)))
    return path


def test_a_face_finder_s_faces_join_stage_one_s(parts, weights_dir, face_mask_dir, tmp_path):
    """Session 16: a face-pretrained UltraFace named by the manifest (`face_finder`) adds its faces to the
    detector's before stage 2; its file is copied, recorded by sha256 and checked on load."""
    _, det_path, clf_path, _ = parts
    finder = weights_dir / "ultraface-rfb-640-masked-face.onnx"
    if not finder.is_file():
        pytest.skip(f"needs {finder}")
    opts = CheckerOptions(classifier_weight=1.0, min_face_score=0.3, tiles=1)
    plain = Detector.load(build_checker(det_path, clf_path, tmp_path / "a" / "c.json", opts), threads=1)
    manifest = build_checker(det_path, clf_path, tmp_path / "b" / "c.json", opts, face_finder=finder)
    doc = json.loads(manifest.read_text())
    assert doc["face_finder"] == finder.name and set(doc["sha256"]) == {"detector", "classifier", "face_finder"}
    fused = Detector.load(manifest, threads=1)
    assert fused.checker.face_finder is not None and fused.with_options(conf=0.1).checker.face_finder is not None
    photo = _face_photo(face_mask_dir, tmp_path)
    # the untrained detector finds nothing sure; the finder finds the face, and stage 2 gives it three classes
    plain_faces = {d.bbox for d in plain.with_options(conf=0.3)(photo)}
    fused_dets = fused.with_options(conf=0.05)(photo)
    faces = {d.bbox for d in fused_dets}
    assert len(faces - plain_faces) >= 1
    big = max(faces - plain_faces, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    assert (big[2] - big[0]) > 40 and {d.label for d in fused_dets if d.bbox == big} <= set(SAMPLE_CLASSES)
    with open(manifest.parent / finder.name, "ab") as f:
        f.write(b"x")
    with pytest.raises(ModelError, match="sha256 does not match"):
        Detector.load(manifest)


def test_a_face_finder_must_be_an_ultraface_file(parts, tmp_path):
    _, det_path, clf_path, _ = parts
    manifest = build_checker(det_path, clf_path, tmp_path / "c.json", face_finder=clf_path)  # a classifier
    with pytest.raises(ModelError, match="not an UltraFace face finder"):
        Detector.load(manifest)
    doc = json.loads(manifest.read_text())
    doc["face_finder"] = 3
    manifest.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="'face_finder' must name"):
        Detector.load(manifest)


def test_a_face_finder_not_beside_its_manifest_is_looked_for_in_the_weights_dir(parts, weights_dir, tmp_path,
                                                                               monkeypatch, caplog):
    """A manifest may name a finder it does not carry beside it (third-party weights a site installs): it is found
    in DABAI_MODELS_DIR, sha256-checked there, and without it the checker runs on stage 1's faces and says so."""
    import logging
    import shutil

    from dabai.runtime.checker import manifest_files

    _, det_path, clf_path, _ = parts
    finder = weights_dir / "ultraface-rfb-640-masked-face.onnx"
    if not finder.is_file():
        pytest.skip(f"needs {finder}")
    manifest = build_checker(det_path, clf_path, tmp_path / "m" / "c.json", face_finder=finder)
    (manifest.parent / finder.name).unlink()  # as shipped: named, not beside it
    installed = tmp_path / "models"
    installed.mkdir()
    shutil.copyfile(finder, installed / finder.name)
    monkeypatch.setenv("DABAI_MODELS_DIR", str(installed))
    assert manifest_files(manifest)["face_finder"] == installed / finder.name
    assert Detector.load(manifest, threads=1).checker.face_finder is not None
    with open(installed / finder.name, "ab") as f:
        f.write(b"x")
    with pytest.raises(ModelError, match="sha256 does not match"):
        Detector.load(manifest)
    monkeypatch.setenv("DABAI_MODELS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match="face_finder .* is missing .*DABAI_MODELS_DIR"):
        manifest_files(manifest)
    with caplog.at_level(logging.WARNING, logger="dabai.runtime.checker"):
        alone = Detector.load(manifest, threads=1)
    assert alone.checker.face_finder is None
    assert "face finder ultraface-rfb-640-masked-face.onnx is not installed" in caplog.text
