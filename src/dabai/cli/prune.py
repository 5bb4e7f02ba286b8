"""``dabai prune``: structured channel pruning of a trained detector checkpoint."""

from __future__ import annotations

from dabai.cli.common import add_command, print_json, split_csv

PRUNE_EXAMPLES = """\
  dabai prune --model runs/train/mask-detector/checkpoints/best.pt --ratio 0.25 --out runs/prune/pruned.pt
  dabai prune --model best.pt --threshold 0.1 --criterion bn --exclude 'stages.0*' --out runs/prune/pruned.pt
  dabai train configs/mask_detector.yaml --init runs/prune/pruned.pt --epochs 8 --name pruned   # retrain
  dabai eval --model runs/train/pruned/checkpoints/best.pt --data data/face-mask-split/test       # compare
"""


def register(sub) -> None:
    p = add_command(sub, "prune", run_prune, "structured channel pruning of a checkpoint (Torch-Pruning DepGraph)",
                    PRUNE_EXAMPLES)
    p.add_argument("--model", required=True, help="dabai checkpoint (.pt) to prune")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--ratio", type=float, help="fraction of channels removed from every prunable group (e.g. 0.25)")
    mode.add_argument("--threshold", type=float, help="remove channels whose importance / group max is below this (tlt-prune -pth)")
    p.add_argument("--criterion", choices=["l2", "l1", "bn"], default="l2", help="channel importance (default l2 weight magnitude)")
    p.add_argument("--exclude", default="", help="comma-separated layer names or globs never pruned (heads' cls/reg always kept)")
    p.add_argument("--round-to", type=int, default=8, help="keep channel counts multiples of this (default 8)")
    p.add_argument("--latency-runs", type=int, default=20, help="ONNX Runtime runs timed before/after (0 skips)")
    p.add_argument("--report", help="report path stem (.json and .md are written); default beside --out")
    p.add_argument("--out", required=True, help="pruned checkpoint (.pt)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run_prune(args) -> int:
    from dabai.core.errors import require

    require("torch", "train")
    from dabai.export.prune import PruneOptions, prune_checkpoint, report_paths

    options = PruneOptions(model=args.model, out=args.out, ratio=args.ratio, threshold=args.threshold,
                           criterion=args.criterion, exclude=split_csv(args.exclude), round_to=args.round_to,
                           latency_runs=args.latency_runs, report=args.report)
    report = prune_checkpoint(options)
    if args.json:
        print_json(report.to_json())
    else:
        print(report.to_markdown())
        json_path, md_path = report_paths(options)
        print(f"pruned checkpoint: {args.out}\nreport: {json_path}, {md_path}")
    return 0
