"""``dabai eval --operating-points``: the gate's mask threshold from labelled data (``dabai.gate.operating``),
optionally written into a gate config (``dabai.gate.config_edit``)."""

from __future__ import annotations

import json
from pathlib import Path

from dabai.cli.common import print_json


def run_operating_points(args) -> int:
    from dabai.core.errors import ConfigError, require

    require("sqlalchemy", "gate")  # the gate's decision rules come with the gate extra
    from dabai.eval.plots import plot_operating_points
    from dabai.gate.config import load_gate_config
    from dabai.gate.operating import operating_points
    from dabai.runtime.detector import Detector, default_model_path

    source = args.gate_config or (args.write_gate_config if args.write_gate_config
                                  and Path(args.write_gate_config).expanduser().is_file() else None)
    rules = load_gate_config(Path(source).expanduser()).mask if source else None
    detector = Detector.load(args.model, threads=args.threads or None)  # conf and NMS as the gate loads it
    points = operating_points(detector, args.data, args.data_format, rules, args.max_false_admit, args.batch,
                              progress=not args.json, detections_file=args.detections, model_ref=args.model or default_model_path())
    points.model = args.model or "the shipped model"
    out = Path(args.plots)
    out.mkdir(parents=True, exist_ok=True)
    plot_operating_points(points, out / "operating_points.png")
    report = points.to_json()
    report["gate_config_read"] = str(source) if source else None
    (out / "operating_points.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write_gate_config:
        if points.recommended is None:
            raise ConfigError(f"no threshold keeps false admits at or below {args.max_false_admit} on this data; "
                              f"{args.write_gate_config} was not changed")
        from dabai.gate.config_edit import set_config_values

        set_config_values(args.write_gate_config, {"mask.with_mask": points.recommended})
    if args.json:
        print_json(report)
    else:
        _print_table(points, source)
        print(f"figure: {out}/operating_points.png, numbers: {out}/operating_points.json")
        if args.write_gate_config:
            print(f"wrote mask.with_mask: {points.recommended} into {args.write_gate_config}")
    return 0 if points.recommended is not None else 1


def _print_table(points, source) -> None:
    r = points.rules
    faces = ", ".join(f"{n} {c}" for c, n in points.faces_not_ok.items())
    print(f"faces at least {r.min_face_px} px wide: {points.faces_ok} with_mask ({points.unseen_ok} never seen "
          f"at score >= {r.min_face_score}), {faces}; {points.skipped_small} narrower skipped")
    print(f"gate rules from {source or 'the defaults'}; current mask.with_mask {r.with_mask}")
    print(f"{'threshold':>9s} {'false admit':>12s} {'false refuse':>13s}")
    shown = sorted({round(float(t), 2) for t in points.thresholds[::10]} | {r.with_mask} |
                   ({points.recommended} if points.recommended is not None else set()))
    for t in shown:
        at = points.at(t)
        marks = [name for name, value in (("recommended", points.recommended), ("current", r.with_mask)) if t == value]
        mark = f"  <- {', '.join(marks)}" if marks else ""
        print(f"{at['threshold']:9.2f} {at['false_admit']:12.4f} {at['false_refuse']:13.4f}{mark}")
    if points.recommended is None:
        print(f"no threshold keeps false admits at or below {points.max_false_admit}")
        return
    at = points.at(points.recommended)
    lo, hi = at["false_admit_95"]
    print(f"recommended mask.with_mask {points.recommended}: false admit {at['false_admit']:.4f} "
          f"(95% interval {lo:.4f}-{hi:.4f}, {at['admitted_not_ok']} of {points.n_not_ok} faces), "
          f"false refuse {at['false_refuse']:.4f} ({at['refused_ok']} of {points.faces_ok})")
