"""``dabai parity REFERENCE CANDIDATE``: does a converted model still compute what the original did?

Both models see identical input tensors (seeded noise and letterboxed real
images, through the runtime's own pre-processing) and the comparison covers:

* raw outputs: max absolute and relative error of the scores (all anchors) and
  of the boxes (anchors the reference scores >= 0.3: background boxes are noise),
  for the noise inputs and the real images separately; INT8 is judged on the
  real images only (its ranges are calibrated on photos; noise saturates them);
* detections after NMS above ``det_conf``: matched one-to-one at IoU >= 0.9 with
  the same class, reported as agreement % (2 x matched / (reference + candidate));
* the mAP@0.5 delta, when ``data`` is a labelled dataset.

Tolerances have per-precision defaults and every one can be overridden; any
check beyond its tolerance makes the report fail (``dabai parity`` exits 1).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from dabai.core.boxes import greedy_match
from dabai.core.errors import DabaiError, DataError
from dabai.export.calib import letterboxed, pick_images, random_inputs

log = logging.getLogger("dabai.parity")


class ParityError(DabaiError):
    """A converted model disagrees with its reference beyond the tolerances."""

    exit_code = 1


@dataclass(frozen=True)
class Tolerances:
    max_score_err: float  # max |score_ref - score_cand| over every anchor and class
    max_box_err: float  # max box-edge error in input pixels, on anchors the reference scores >= det_conf
    min_agreement: float  # detection agreement in % (IoU >= 0.9, same class)
    max_map_drop: float  # mAP@0.5 the candidate may lose (absolute, 0.01 = 1 point), when labels are given
    real_only: bool = False  # judge errors on real images only (INT8 ranges are calibrated for photos, not noise)


TOLERANCES = {
    "fp32": Tolerances(max_score_err=1e-3, max_box_err=0.1, min_agreement=99.0, max_map_drop=0.002),
    "fp16": Tolerances(max_score_err=0.02, max_box_err=2.0, min_agreement=95.0, max_map_drop=0.005),
    "int8": Tolerances(max_score_err=0.25, max_box_err=12.0, min_agreement=80.0, max_map_drop=0.01, real_only=True),
}


@dataclass(frozen=True)
class ParityOptions:
    data: str | None = None  # images (a labelled dataset adds the mAP delta); None: random inputs only
    images: int = 64  # real images compared (a seeded sample of data)
    random: int = 4  # noise images compared
    det_conf: float = 0.3  # detections above this score are matched
    match_iou: float = 0.9  # IoU that counts as the same detection
    precision: str = "fp32"  # picks the default tolerances
    tolerances: Tolerances | None = None  # None: TOLERANCES[precision]
    map_images: int = 0  # labelled images scored for the mAP delta; 0 = all of data
    batch: int = 8
    threads: int | None = None

    def limits(self) -> Tolerances:
        return self.tolerances or TOLERANCES[self.precision]


@dataclass
class ParityReport:
    reference: str
    candidate: str
    inputs: dict
    errors: dict  # the judged errors (real images for INT8, all inputs otherwise)
    agreement: float
    detections: dict
    by_input: dict  # {"random": {...}, "real": {...}} errors and agreement per kind of input
    map50: dict | None
    tolerances: dict
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def to_markdown(self) -> str:
        e, t = self.errors, self.tolerances
        lines = [f"parity: `{self.reference}` (reference) vs `{self.candidate}` (candidate)",
                 f"inputs: {self.inputs['random']} random + {self.inputs['images']} real images; "
                 f"judged on {self.inputs['judged']}", "",
                 "| check | value | tolerance |", "|---|---|---|",
                 f"| scores max abs error | {e['score_max_abs']:.3g} | ≤ {t['max_score_err']:g} |",
                 f"| scores max rel error | {e['score_max_rel']:.3g} | (info) |",
                 f"| boxes max abs error (px, foreground) | {e['box_max_abs']:.3g} | ≤ {t['max_box_err']:g} |",
                 f"| boxes max rel error (foreground) | {e['box_max_rel']:.3g} | (info) |",
                 f"| detection agreement | {self.agreement:.1f}% ({self.detections['matched']} matched, "
                 f"{self.detections['reference']} ref / {self.detections['candidate']} cand) | ≥ {t['min_agreement']:g}% |"]
        if self.map50:
            lines.append(f"| mAP@0.5 | {self.map50['reference']:.4f} → {self.map50['candidate']:.4f} "
                         f"(Δ {self.map50['delta']:+.4f}) | drop ≤ {t['max_map_drop']:g} |")
        for kind, v in self.by_input.items():
            lines.append(f"| ({kind} inputs) scores / boxes max abs, agreement | {v['score_max_abs']:.3g} / "
                         f"{v['box_max_abs']:.3g} px, {v['agreement']:.1f}% | (info) |")
        lines.append("")
        lines.append("PASS" if self.ok else "FAIL: " + "; ".join(self.failures))
        return "\n".join(lines)


def run_parity(reference, candidate, options: ParityOptions = ParityOptions()) -> ParityReport:
    """Compare two model files (or already-open backends)."""
    from dabai.runtime.backends import open_backend

    ref = open_backend(reference, options.threads) if isinstance(reference, (str, Path)) else reference
    cand = open_backend(candidate, options.threads) if isinstance(candidate, (str, Path)) else candidate
    _check_compatible(ref, cand, reference, candidate)
    size = ref.info.input_size
    paths = pick_images(options.data, options.images) if options.data else []
    if not options.random and not paths:
        raise DataError("parity needs inputs: --random N > 0 or --data DIR with images")
    accs = {"random": _Accumulator(options), "real": _Accumulator(options), "all": _Accumulator(options)}
    noise = random_inputs(options.random, size) if options.random else np.zeros((0, 3, size, size), np.float32)
    for i in range(0, len(noise), options.batch):
        _compare(ref, cand, noise[i:i + options.batch], (accs["random"], accs["all"]))
    for i in range(0, len(paths), options.batch):
        _compare(ref, cand, letterboxed(paths[i:i + options.batch], size), (accs["real"], accs["all"]))
    judged = "real" if options.limits().real_only and paths else "all"
    acc = accs[judged]
    by_input = {k: {**a.errors(), "agreement": a.agreement()} for k, a in accs.items() if k != "all" and a.images}
    report = ParityReport(str(reference), str(candidate),
                          {"random": options.random, "images": len(paths), "judged": f"{judged} inputs"},
                          acc.errors(), acc.agreement(), acc.counts(), by_input, None, asdict(options.limits()))
    if options.data:
        report.map50 = _map_delta(ref, cand, options)
    report.failures = _failures(report, options.limits())
    return report


def _check_compatible(ref, cand, ref_name, cand_name) -> None:
    from dabai.core.errors import ModelError

    if list(ref.info.classes) != list(cand.info.classes):
        raise ParityError(f"class lists differ: {ref_name} has {ref.info.classes}, {cand_name} has {cand.info.classes} "
                          "(same names in another order are different models)")
    if ref.info.input_size != cand.info.input_size:
        raise ModelError(f"input sizes differ: {ref_name} takes {ref.info.input_size} px, {cand_name} "
                         f"{cand.info.input_size} px; parity compares models of the same input size")


def _compare(ref, cand, x: np.ndarray, accs) -> None:
    r, c = ref(x), cand(x)
    for acc in accs:
        acc.add(r, c, ref.info.classes)


class _Accumulator:
    def __init__(self, options: ParityOptions):
        self.o = options
        self.images = 0
        self.score_abs = self.score_rel = self.box_abs = self.box_rel = 0.0
        self.matched = self.n_ref = self.n_cand = 0

    def add(self, ref_out, cand_out, classes) -> None:
        (rb, rs), (cb, cs) = ref_out, cand_out
        self.images += len(rb)
        if rb.shape != cb.shape or rs.shape != cs.shape:
            raise ParityError(f"output shapes differ: reference boxes {rb.shape} scores {rs.shape}, "
                              f"candidate boxes {cb.shape} scores {cs.shape}")
        d = np.abs(rs.astype(np.float64) - cs)
        self.score_abs = max(self.score_abs, float(np.nan_to_num(d, nan=np.inf).max()))
        self.score_rel = max(self.score_rel, float((d / np.maximum(np.abs(rs), 1e-3)).max()))
        fg = rs.max(-1) >= self.o.det_conf
        if fg.any():
            db = np.abs(rb[fg].astype(np.float64) - cb[fg])
            self.box_abs = max(self.box_abs, float(np.nan_to_num(db, nan=np.inf).max()))
            self.box_rel = max(self.box_rel, float((db / np.maximum(np.abs(rb[fg]), 1.0)).max()))
        for i in range(len(rb)):
            r = _detections(rb[i], rs[i], classes, self.o.det_conf)
            c = _detections(cb[i], cs[i], classes, self.o.det_conf)
            self.matched += match_count(r, c, self.o.match_iou)
            self.n_ref += len(r)
            self.n_cand += len(c)

    def errors(self) -> dict:
        return {"score_max_abs": self.score_abs, "score_max_rel": self.score_rel,
                "box_max_abs": self.box_abs, "box_max_rel": self.box_rel}

    def agreement(self) -> float:
        total = self.n_ref + self.n_cand
        return 100.0 if total == 0 else 100.0 * 2 * self.matched / total

    def counts(self) -> dict:
        return {"matched": self.matched, "reference": self.n_ref, "candidate": self.n_cand}


def _detections(boxes, scores, classes, conf):
    from dabai.runtime.postprocess import PostprocessOptions, postprocess
    from dabai.runtime.preprocess import Letterbox

    size = 1 << 16  # identity un-letterbox: compare in input pixels
    return postprocess(boxes, scores, Letterbox(1.0, size, size), classes, PostprocessOptions(conf=conf))


def match_count(ref, cand, iou: float) -> int:
    """Greedy one-to-one matches (best score first) at IoU >= ``iou`` with the same label."""
    ref = sorted(ref, key=lambda d: -d.score)
    same_label = np.array([[r.label == c.label for c in cand] for r in ref], dtype=bool).reshape(len(ref), len(cand))
    return int((greedy_match([r.bbox for r in ref], [c.bbox for c in cand], iou, same_label) >= 0).sum())


def _map_delta(ref, cand, options: ParityOptions) -> dict | None:
    from dabai.data.classnames import check_classes
    from dabai.data.formats import detect_format, read_dataset
    from dabai.eval.api import evaluate
    from dabai.runtime.detector import Detector

    try:
        fmt = detect_format(options.data)
    except DataError:
        log.info("%s is not a labelled dataset: no mAP comparison", options.data)
        return None
    dataset = read_dataset(options.data, fmt)
    check_classes(dataset.labels_used(), list(ref.info.classes), str(options.data), "model")
    if options.map_images and len(dataset) > options.map_images:
        dataset = dataset.subset(range(options.map_images))
    r = evaluate(Detector(ref), dataset, progress=False).map50
    c = evaluate(Detector(cand), dataset, progress=False).map50
    return {"reference": r, "candidate": c, "delta": c - r, "images": len(dataset)}


def _failures(report: ParityReport, t: Tolerances) -> list[str]:
    e, out = report.errors, []
    if not e["score_max_abs"] <= t.max_score_err:
        out.append(f"scores differ by up to {e['score_max_abs']:.3g} (tolerance {t.max_score_err:g})")
    if not e["box_max_abs"] <= t.max_box_err:
        out.append(f"boxes differ by up to {e['box_max_abs']:.3g} px (tolerance {t.max_box_err:g})")
    if report.agreement < t.min_agreement:
        out.append(f"only {report.agreement:.1f}% of detections agree (tolerance {t.min_agreement:g}%)")
    if report.map50 and -report.map50["delta"] > t.max_map_drop:
        out.append(f"mAP@0.5 drops by {-report.map50['delta']:.4f} (tolerance {t.max_map_drop:g})")
    return out


def with_overrides(tol: Tolerances, **changes) -> Tolerances:
    return replace(tol, **{k: v for k, v in changes.items() if v is not None})
