"""``dabai.evaluate``: score a model (ONNX or checkpoint) on a labelled dataset, and write its figures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from dabai.core.errors import DataError
from dabai.data.classnames import check_classes
from dabai.data.dataset import Dataset
from dabai.eval.coco import EvalResult
from dabai.eval.views import POOLED, score_by_source
from dabai.runtime.detector import Detector
from dabai.runtime.types import Detection


def predict_dataset(detector: Detector, dataset: Dataset, batch_size: int = 8, progress: bool = True) -> dict[str, list[Detection]]:
    return predict_dataset_with(detector, dataset, [detector.options], batch_size, progress)[0]


def predict_dataset_with(detector: Detector, dataset: Dataset, options, batch_size: int = 8,
                         progress: bool = True) -> list[dict[str, list[Detection]]]:
    """Detections by image name, one dict per post-processing option set, from one forward pass per batch."""
    out: list[dict[str, list[Detection]]] = [{} for _ in options]
    records = dataset.images
    bar = tqdm(total=len(records), desc="predict", unit="img", disable=not progress, leave=False)
    for start in range(0, len(records), batch_size):
        chunk = records[start:start + batch_size]
        for per_option, results in zip(out, detector.detect_batch_with([r.path for r in chunk], options)):
            for record, dets in zip(chunk, results):
                per_option[record.name] = dets
        bar.update(len(chunk))
    bar.close()
    return out


def read_eval_data(data, data_format: str | None = None) -> Dataset:
    """A dataset, a folder, or several folders pooled into one (their image names must differ)."""
    from dabai.data.formats import read_dataset

    if isinstance(data, Dataset):
        return data
    folders = [data] if isinstance(data, (str, Path)) else list(data)
    parts = [read_dataset(folder, data_format) for folder in folders]
    if len(parts) == 1:
        return parts[0]
    for folder, part in zip(folders, parts):  # pooled folders are sources (unless they record their own)
        for im in part.images:
            im.source = im.source or _folder_name(folder)
    seen: dict[str, str] = {}
    for folder, part in zip(folders, parts):
        for im in part.images:
            if im.name in seen:
                raise DataError(f"image name {im.name!r} is in both {seen[im.name]} and {folder}; "
                                "pooled folders must not share image names", path=folder)
            seen[im.name] = str(folder)
    classes = list(dict.fromkeys(c for part in parts for c in part.classes))
    return Dataset(images=[im for part in parts for im in part.images], classes=classes)


def _folder_name(folder) -> str:
    """A folder's name for tables: 'test' says little, so a split's parent joins it (face-mask/test)."""
    path = Path(folder).resolve()
    return f"{path.parent.name}/{path.name}" if path.name in ("train", "val", "test") else path.name


def _where(data) -> str:
    """The data's name for messages: its folder, or the pooled folders."""
    if isinstance(data, Dataset):
        return "the dataset"
    if isinstance(data, (str, Path)):
        return str(data)
    return " + ".join(map(str, data))


# The score floor of eval --gallery: its sheets draw detections >= 0.3 (its --conf), and a fainter one only as
# the nearest detection of a missed face, where one under 0.05 tells nothing; 0.05 is also the test-time score
# threshold Detectron2 and torchvision use for COCO mAP (here -0.0002 mAP@0.5 on 999 images). It spares the
# checker's NMS over ~3,000 candidates an image (~10 % of its time) and leaves 44 % of the detections to score
# (docs/benchmarks.md, issue 19).
PICTURE_FLOOR = 0.05


def _scoring_detector(model, floor: float = 0.0) -> Detector:
    """The detector as evaluation runs it: every detection scoring at least ``floor`` (0: all), at most
    100 per image."""
    detector = model if isinstance(model, Detector) else Detector.load(model)
    return detector.with_options(conf=check_floor(floor), max_detections=100)


def check_floor(floor: float) -> float:
    from dabai.core.errors import ConfigError

    if not 0.0 <= floor < 1.0:
        raise ConfigError(f"score floor {floor}: expected a number from 0 to below 1")
    return float(floor)


def _all_detections(detector: Detector, dataset: Dataset, where: str, batch_size: int, progress: bool):
    check_classes(dataset.labels_used(), detector.classes, where, "model")
    return predict_dataset(detector, dataset, batch_size, progress)


def model_detections(detector: Detector, dataset: Dataset, where: str, batch_size: int = 8, progress: bool = True,
                     load_from: str | Path | None = None, save_to: str | Path | None = None, model_ref=None,
                     workers: int = 1, cache: bool = True):
    """The detector's detections (scoring >= its ``options.conf``) on ``dataset``: read from ``load_from`` (a
    file ``save_to`` wrote for the same model, ``model_ref``: its path, shipped name or None for the default;
    see ``eval/detfile.py``), or predicted (and saved to ``save_to``). Predicting, the images the detection
    cache holds for this model are not run again (``cache``; ``eval/detcache.py``), and the others run on
    ``workers`` processes (``eval/pool.py``); both need the model's file, so a ``model_ref`` that is a
    loaded Detector runs every image in this process."""
    from dabai.core.errors import ConfigError
    from dabai.eval.detfile import load_detections, save_detections

    if (load_from or save_to) and not (model_ref is None or isinstance(model_ref, (str, Path))):
        raise ConfigError("saved detections need the model's file (a path or shipped name), not a loaded Detector")
    check_classes(dataset.labels_used(), detector.classes, where, "model")
    if load_from:
        found = load_detections(load_from, dataset, model_ref, detector.options.conf)
        return {name: [d for d in dets if d.score >= detector.options.conf] for name, dets in found.items()}
    detections = _predict_reusing(detector, dataset, batch_size, progress, model_ref, workers, cache)
    if save_to:
        save_detections(save_to, detections, model_ref, detector.classes, detector.options.conf)
    return detections


POOL_MIN_IMAGES = 32  # fewer images than this run in this process: starting workers costs more


def _predict_reusing(detector: Detector, dataset: Dataset, batch_size: int, progress: bool, model_ref,
                     workers: int, use_cache: bool) -> dict[str, list[Detection]]:
    from dabai.eval.detcache import DetectionCache

    floor = detector.options.conf
    from_file = model_ref is None or isinstance(model_ref, (str, Path))
    cache = DetectionCache.for_model(model_ref, detector.options, second_look=detector.second_look) \
        if use_cache and from_file else None
    found = cache.lookup(dataset.images, floor) if cache else {}
    todo = [im for im in dataset.images if im.name not in found]
    if progress and found:
        tqdm.write(f"detections of {len(found)} of {len(dataset)} images from the cache {cache.path} "
                   f"(--no-cache to predict them again); predicting {len(todo)}")
    if todo:
        if workers > 1 and from_file and len(todo) >= POOL_MIN_IMAGES:
            from dabai.eval.pool import predict_records

            new = predict_records(model_ref, detector.options, todo, workers, batch_size, progress,
                                  second_look=detector.second_look)
        else:
            new = predict_dataset(detector, Dataset(images=todo, classes=dataset.classes), batch_size, progress)
        if cache:
            cache.store(todo, new, floor)
        found.update(new)
    return {im.name: found[im.name] for im in dataset.images}


def compare_models(model_a, model_b, data, data_format: str | None = None, resamples: int = 1000, seed: int = 0,
                   batch_size: int = 8, progress: bool = True):
    """Paired bootstrap of mAP@0.5(B) - mAP@0.5(A) on the same images (see ``dabai.eval.compare``)."""
    from dabai.eval.compare import compare_detections

    dataset = read_eval_data(data, data_format)
    a, b = _scoring_detector(model_a), _scoring_detector(model_b)
    dets_a, dets_b = (_all_detections(m, dataset, _where(data), batch_size, progress) for m in (a, b))
    if a.classes != b.classes:
        raise DataError(f"the two models have different classes: {a.classes} and {b.classes}")
    return compare_detections(dataset, dets_a, dets_b, a.classes, resamples, seed)


def diagnose(model, data, data_format: str | None = None, batch_size: int = 8, progress: bool = True):
    """Where the mAP goes: per-class, oracle-label and class-agnostic mAP@0.5, recall by face size
    (see ``dabai.eval.diagnose``)."""
    from dabai.eval.diagnose import diagnose_detections

    detector = _scoring_detector(model)
    dataset = read_eval_data(data, data_format)
    check_classes(dataset.labels_used(), detector.classes, _where(data), "model")
    # one forward pass, post-processed twice: per-class NMS as eval runs it, and NMS across classes
    agnostic_options = replace(detector.options, class_agnostic=True)
    detections, agnostic = predict_dataset_with(detector, dataset, [detector.options, agnostic_options],
                                                batch_size, progress)
    return diagnose_detections(dataset, detections, agnostic, detector.classes)


def evaluate(model: str | Path | Detector | None, data, data_format: str | None = None,
             batch_size: int = 8, plots_dir: str | Path | None = None, confusion_conf: float = 0.3,
             progress: bool = True, gallery_dir: str | Path | None = None, detections_file: str | Path | None = None,
             save_detections: str | Path | None = None, model_ref=None, score_floor: float = 0.0,
             workers: int = 1, cache: bool = True) -> EvalResult:
    """mAP@0.5, mAP@0.5:0.95 and per-class AP over all detections (NMS applied, <= 100 per image), and
    ``result.sources``: per source and pooled, in three views (3-class, mask_ok vs not_ok, faces found;
    ``dabai.eval.views``).

    ``data``: a Dataset, a folder, or a list of folders pooled into one (each folder is then a source,
    unless it records its own sources, as `dabai data merge` writes them). ``detections_file``: use the
    detections ``save_detections`` wrote in an earlier run of the same model (``model_ref``, default
    ``model``: its file) instead of running it (``eval/detfile.py``).

    ``score_floor``: detections scoring below it are neither made nor scored (the checker does not judge
    those faces, which saves most of its time at 0.05; mAP then counts detections >= the floor only).
    ``workers``, ``cache``: see ``model_detections``.
    """
    detector = _scoring_detector(model, score_floor)
    dataset = read_eval_data(data, data_format)
    detections = model_detections(detector, dataset, _where(data), batch_size, progress, detections_file,
                                  save_detections, model if model_ref is None else model_ref, workers, cache)
    table = score_by_source(dataset, detections, detector.classes)
    result = replace(table.results[POOLED]["3class"], sources=table)  # = coco_evaluate(dataset, detections, ...)
    if plots_dir is not None:
        write_figures(result, dataset, detections, detector.classes, Path(plots_dir), confusion_conf)
    if gallery_dir is not None:  # errors per class, close-ups, crowds, worst images per source (eval/gallery.py)
        from dabai.eval.gallery import write_gallery

        ref = model if model_ref is None else model_ref
        name = Path(ref).name if isinstance(ref, (str, Path)) else "the model"
        write_gallery(dataset, detections, gallery_dir, confusion_conf, model_name=name, classes=detector.classes)
    return result


def write_figures(result: EvalResult, dataset: Dataset, detections, classes, out: Path, conf: float) -> None:
    from dabai.eval.confusion import confusion_matrix
    from dabai.eval.plots import plot_confusion, plot_pr_curves

    out.mkdir(parents=True, exist_ok=True)
    if result.precision is not None:
        plot_pr_curves(result.precision, classes, out / "pr_curves.png")
    plot_confusion(confusion_matrix(dataset, detections, classes, conf), classes, out / "confusion_matrix.png")
