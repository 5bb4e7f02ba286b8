"""``data check``: find what would silently hurt training, without touching the input.

Everything is read-only: label files are parsed with a collecting ``Problems``
(one bad file does not hide the rest), every image is decoded once (see
``fingerprint``), and the findings are returned as a ``CheckReport``. The
cleaning (``--fix``) lives in ``fix.py`` and writes to a new folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dabai.data.classnames import near_miss, unknown_class_message
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.fingerprint import NEAR_DUPLICATE_DISTANCE, ImageInfo, duplicate_groups, hamming, inspect_images
from dabai.data.formats import detect_format, read_dataset
from dabai.data.problems import ERROR, WARNING, Problem, Problems
from dabai.data.sources import apply_class_map, find_leaks

# The rarest class should have at least this share of the most common one.
IMBALANCE_RATIO = 0.10
# A box narrower or lower than this many pixels cannot teach a detector anything.
MIN_BOX_SIDE = 1.0
# Boxes reaching at most this far outside the image are a warning, not an error.
OFF_BY_ONE = 1.0


@dataclass
class CheckReport:
    root: Path
    fmt: str
    images: int
    boxes: int
    class_counts: dict[str, int]
    findings: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [f for f in self.findings if f.severity == WARNING]

    def to_dict(self) -> dict:
        return {
            "dataset": str(self.root), "format": self.fmt, "images": self.images, "boxes": self.boxes,
            "class_counts": self.class_counts, "errors": len(self.errors), "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class CheckResult:
    """The report plus what ``--fix`` needs to act on it."""

    report: CheckReport
    dataset: Dataset
    infos: dict[Path, ImageInfo]  # by image path
    classes: list[str] | None
    reader_problems: list[Problem]


def check_dataset(path: str | Path, fmt: str | None = None, classes: list[str] | None = None,
                  max_distance: int = NEAR_DUPLICATE_DISTANCE, class_map: dict[str, str] | None = None,
                  against=()) -> CheckResult:
    """Check one dataset; ``class_map`` renames labels before they are judged; ``against`` names other
    dataset folders (e.g. test sets) whose images must not reappear in this one (``leak`` errors)."""
    root = Path(path)
    fmt = fmt or detect_format(root)
    problems = Problems(strict=False)
    # Read without the class list so every label comes through and can be judged here, with its line.
    ds = apply_class_map(read_dataset(root, fmt, problems=problems), class_map or {})
    reader_problems = list(problems.items)
    infos = inspect_images([im.path for im in ds.images])
    by_path = {info.path: info for info in infos}
    for im in ds.images:
        _check_image(im, by_path[im.path], problems)
    _check_classes(ds, classes, problems)
    _check_duplicates(ds, infos, max_distance, problems)
    if against:
        _check_leaks(ds, against, max_distance, problems)
    counts = _class_counts(ds, classes)
    # Balance is judged over the expected classes; stray names are already errors above.
    _check_balance({c: n for c, n in counts.items() if classes is None or c in classes}, problems)
    if not ds.images:
        problems.error("empty-dataset", "no images found", path=root)
    report = CheckReport(root, fmt, len(ds), ds.num_boxes, counts, [_relative(p, root) for p in problems.items])
    return CheckResult(report, ds, by_path, classes, reader_problems)


def _check_leaks(ds: Dataset, folders, max_distance: int, problems: Problems) -> None:
    others = [read_dataset(folder) for folder in folders]
    for leak in find_leaks(ds, others, max_distance):
        what = "same bytes as" if leak.exact else f"looks like (perceptual hash distance {leak.distance})"
        problems.error("leak", f"{what} {leak.other} in another dataset", path=leak.image)


def _relative(problem: Problem, root: Path) -> Problem:
    """Show paths relative to the dataset, which is what a person looks for."""
    for base in (root, root.resolve()):
        try:
            problem.path = Path(problem.path).relative_to(base).as_posix()
            break
        except ValueError:
            continue
    return problem


def _check_image(im: ImageRecord, info: ImageInfo, problems: Problems) -> None:
    if info.error:
        problems.error("unreadable-image", info.error, path=im.path)
        return
    if (info.width, info.height) != (im.width, im.height):
        hint = " (EXIF orientation rotates it; annotate the pixels as stored)" if info.exif_rotated else ""
        problems.warning("size-mismatch", f"labels say the image is {im.width}x{im.height} but it is "
                         f"{info.width}x{info.height}{hint}", path=im.label_path or im.path)
    for box in im.boxes:
        issue = box_issue(box, info.width, info.height)
        if issue is not None:
            severity, code, message = issue
            report = problems.error if severity == ERROR else problems.warning
            report(code, f"image {im.name}: {message}", path=im.label_path or im.path, line=box.line)


def box_issue(box: Box, width: int, height: int) -> tuple[str, str, str] | None:
    """(severity, 'box-inverted' | 'box-degenerate' | 'box-out-of-bounds', message), or None for a good box."""
    coords = f"{box.label} box [{_n(box.x1)}, {_n(box.y1)}, {_n(box.x2)}, {_n(box.y2)}]"
    if box.x2 < box.x1 or box.y2 < box.y1:
        axis = "x2 < x1" if box.x2 < box.x1 else "y2 < y1"
        return ERROR, "box-inverted", f"{coords} is inverted ({axis}); expected x1 <= x2 and y1 <= y2"
    if box.width < MIN_BOX_SIDE or box.height < MIN_BOX_SIDE:
        return ERROR, "box-degenerate", f"{coords} is {_n(box.width)}x{_n(box.height)} px; expected at least 1x1"
    overshoot = max(-box.x1, -box.y1, box.x2 - width, box.y2 - height)
    if overshoot <= 0:
        return None
    outside = [text for text, ok in (
        (f"x1={_n(box.x1)} < 0", box.x1 >= 0), (f"y1={_n(box.y1)} < 0", box.y1 >= 0),
        (f"x2={_n(box.x2)} > {width}", box.x2 <= width), (f"y2={_n(box.y2)} > {height}", box.y2 <= height)) if not ok]
    message = f"{coords} is outside the {width}x{height} image ({', '.join(outside)})"
    if overshoot <= OFF_BY_ONE:
        # Common in VOC files written with 1-based pixel indices; harmless once clipped.
        return WARNING, "box-out-of-bounds", message + " (off by one; --fix clips it)"
    return ERROR, "box-out-of-bounds", message


def _boxes(count: int) -> str:
    return f"{count} box" if count == 1 else f"{count} boxes"


def _n(value: float) -> str:
    return f"{value:g}"


def _check_classes(ds: Dataset, classes: list[str] | None, problems: Problems) -> None:
    first_seen: dict[str, tuple[ImageRecord, Box]] = {}
    for im in ds.images:
        seen_here: set[str] = set()
        for box in im.boxes:
            first_seen.setdefault(box.label, (im, box))
            if classes is not None and box.label not in classes and box.label not in seen_here:
                seen_here.add(box.label)
                count = sum(b.label == box.label for b in im.boxes)
                message = unknown_class_message(box.label, classes) + (f" ({count} boxes here)" if count > 1 else "")
                problems.error("unknown-class", message, path=im.label_path or im.path, line=box.line)
    counts = ds.class_counts()
    if classes is not None:
        for name in classes:
            if counts.get(name, 0) == 0:
                problems.warning("class-missing", f"class {name!r} from --classes has no boxes")
        return
    # Without a reference list, a rare label that resembles a common one is probably a typo.
    for label, count in counts.items():
        commoner = [c for c, n in counts.items() if n > count or (n == count and c < label)]
        guess = near_miss(label, commoner) if count else None
        if guess is not None:
            im, box = first_seen[label]
            problems.warning("class-near-miss", f"class {label!r} ({_boxes(count)}) looks like {guess!r} "
                             f"({_boxes(counts[guess])}); pass --classes to make this an error",
                             path=im.label_path or im.path, line=box.line)


def _class_counts(ds: Dataset, classes: list[str] | None) -> dict[str, int]:
    counts = ds.class_counts()
    if classes is None:
        return counts
    ordered = {name: counts.get(name, 0) for name in classes}
    ordered.update({k: v for k, v in counts.items() if k not in ordered})
    return ordered


def _check_balance(counts: dict[str, int], problems: Problems) -> None:
    if len(counts) < 2 or max(counts.values()) == 0:
        return
    common = max(counts, key=counts.get)
    rare = min(counts, key=counts.get)
    share = counts[rare] / counts[common]
    if share < IMBALANCE_RATIO:
        problems.warning("class-imbalance", f"rarest class {rare!r} has {_boxes(counts[rare])}, {share:.1%} of the "
                         f"most common {common!r} ({counts[common]}); expected at least {IMBALANCE_RATIO:.0%} "
                         "(collect more, oversample or weight the loss)")


def _original_first(im: ImageRecord) -> tuple:
    """Among copies, the one with a label file is the original; then the first by name."""
    return (im.label_path is None, im.name)


def _check_duplicates(ds: Dataset, infos: list[ImageInfo], max_distance: int, problems: Problems) -> None:
    records = {im.path: im for im in ds.images}
    names = {im.path: im.name for im in ds.images}
    for group in duplicate_groups(infos, max_distance):
        members = sorted((infos[i] for i in group), key=lambda info: _original_first(records[info.path]))
        first = members[0]
        for info in members[1:]:
            if info.sha256 == first.sha256:
                problems.warning("duplicate-image", f"same bytes as {names[first.path]}", path=info.path)
            else:
                distance = hamming(info.phash, first.phash) if info.phash is not None else "?"
                problems.warning("near-duplicate-image", f"looks like {names[first.path]} (perceptual hash "
                                 f"distance {distance}); keep them in one split", path=info.path)


def exact_duplicates(result: CheckResult) -> dict[Path, Path]:
    """Image path -> the original (see ``_original_first``) that it is a byte-for-byte copy of."""
    first_by_sha: dict[str, Path] = {}
    later: dict[Path, Path] = {}
    for im in sorted(result.dataset.images, key=_original_first):
        sha = result.infos[im.path].sha256
        if not sha:
            continue
        if sha in first_by_sha:
            later[im.path] = first_by_sha[sha]
        else:
            first_by_sha[sha] = im.path
    return later


def render_report(report: CheckReport) -> str:
    """The human table: one line per finding, errors first, then a summary."""
    lines = [f"checked {report.root} ({report.fmt}): {report.images} images, {report.boxes} boxes"]
    if report.class_counts:
        lines.append("boxes per class: " + ", ".join(f"{c} {n}" for c, n in report.class_counts.items()))
    findings = sorted(report.findings, key=lambda f: (f.severity != ERROR, f.code, f.path, f.line or 0))
    if findings:
        width_code = max(len(f.code) for f in findings)
        width_where = min(48, max(len(f.where) for f in findings))
        lines.append("")
        lines.append(f"{'SEVERITY':8}  {'KIND':{width_code}}  {'FILE':{width_where}}  MESSAGE")
        for f in findings:
            lines.append(f"{f.severity:8}  {f.code:{width_code}}  {f.where:{width_where}}  {f.message}")
    lines.append("")
    lines.append(f"{len(report.errors)} errors, {len(report.warnings)} warnings"
                 + ("" if report.errors else " - no errors"))
    return "\n".join(lines)
