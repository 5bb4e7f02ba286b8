"""``dabai train SPEC.yaml``: train a detector from a typed spec (flags override spec keys)."""

from __future__ import annotations

from pathlib import Path

from dabai.cli.common import add_command

EXAMPLES = """\
  dabai train configs/mask_detector.yaml
  dabai train configs/mask_detector.yaml --epochs 5 --batch 8 --set optimizer.lr=0.001
  dabai train --resume runs/train/mask-detector          # continue after a crash or kill -9
  dabai train configs/mask_detector.yaml --init runs/prune/pruned.pt --epochs 15   # retrain a pruned model
  dabai train configs/mask_detector.yaml --init pruned.pt --teacher runs/train/mask-detector/checkpoints/best.pt
  torchrun --nproc_per_node 2 -m dabai train configs/mask_detector.yaml   # distributed (DDP)
  dabai train --list-models
  dabai train configs/mask_classifier.yaml               # the mask checker's face-crop classifier (task: classify)
  dabai train configs/face_finder.yaml                   # fine-tune the checker's UltraFace face finder (task: finder)
  dabai train --preview-augment configs/mask_detector.yaml --sheet preview.png   # look before training
  dabai train --preview-augment configs/mask_detector.yaml --set augment.mosaic=1 --samples 6
"""


def register(sub) -> None:
    p = add_command(sub, "train", run, "train a detector from a YAML spec", EXAMPLES)
    p.add_argument("spec", nargs="?", help="training spec (YAML); see configs/mask_detector.yaml")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    p.add_argument("--model", help="registry model name (overrides model.name)")
    p.add_argument("--init", metavar="CKPT", help="start from this dabai checkpoint, e.g. a pruned model (model.init)")
    p.add_argument("--teacher", metavar="CKPT", help="distil from this checkpoint, e.g. the unpruned model (distill.teacher)")
    p.add_argument("--epochs", type=int, help="overrides epochs")
    p.add_argument("--batch", type=int, help="overrides batch_size")
    p.add_argument("--lr", type=float, help="overrides optimizer.lr")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="overrides device")
    p.add_argument("--out", metavar="DIR", help="overrides output_dir")
    p.add_argument("--name", help="run directory name (overrides name)")
    p.add_argument("--seed", type=int, help="overrides seed")
    p.add_argument("--nan-retry", action="store_true", help="on a non-finite loss restore the last good checkpoint and halve the lr")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override any spec key, e.g. augment.hflip=0")
    p.add_argument("--list-models", action="store_true", help="list the registered architectures and exit")
    p.add_argument("--preview-augment", metavar="SPEC", help="do not train: write a contact sheet of training samples "
                   "as labelled and as the spec's augmentation feeds them to the network (with their boxes)")
    p.add_argument("--sheet", metavar="PNG", default="augment-preview.png",
                   help="--preview-augment: the sheet to write (default augment-preview.png)")
    p.add_argument("--samples", type=int, default=12, help="--preview-augment: images to show (default 12)")
    p.add_argument("--epoch", type=int, default=0, help="--preview-augment: the epoch whose augmentation to show "
                   "(default 0; each epoch draws others)")


FLAG_KEYS = {"model": "model.name", "init": "model.init", "teacher": "distill.teacher", "epochs": "epochs", "batch": "batch_size", "lr": "optimizer.lr",
             "device": "device", "out": "output_dir", "name": "name", "seed": "seed"}


def run(args) -> int:
    if args.list_models:
        from dabai.models.registry import list_models

        for name, doc in list_models().items():
            print(f"{name:16s} {doc}")
        return 0
    from dabai.core.errors import ConfigError, require

    require("torch", "train")
    if args.preview_augment:
        return run_preview(args)
    from dabai.pipeline import train
    from dabai.train.classifier import load_classifier_spec, train_classifier
    from dabai.train.finder import load_finder_spec, train_finder
    from dabai.train.spec import load_spec, spec_task

    # the mask checker's other parts have their own specs (task: classify, task: finder) and trainers
    others = {"classify": (load_classifier_spec, train_classifier), "finder": (load_finder_spec, train_finder)}
    if args.resume:
        spec_file = Path(args.resume) / "spec.yaml"
        task = spec_task(spec_file) if spec_file.is_file() else "detect"
        run_dir = others[task][1](None, resume=args.resume) if task in others else train(resume=args.resume)
    else:
        if not args.spec:
            raise ConfigError("give a SPEC.yaml to train, or --resume RUN_DIR")
        task = spec_task(args.spec)
        if task in others:
            load, fit = others[task]
            run_dir = fit(load(args.spec, classifier_overrides(args, task) + list(args.set)))
        else:
            overrides = [f"{key}={getattr(args, flag)}" for flag, key in FLAG_KEYS.items() if getattr(args, flag) is not None]
            if args.nan_retry:
                overrides.append("nan_retry=true")
            run_dir = train(load_spec(args.spec, overrides + list(args.set)))
    print(f"run directory: {Path(run_dir)}")
    return 0


# the flags a classifier or finder spec (task: classify, task: finder) takes, and its keys; the others are the detector's
CLASSIFIER_FLAG_KEYS = {"epochs": "epochs", "batch": "batch_size", "lr": "lr", "out": "output_dir", "name": "name",
                        "seed": "seed"}


TASK_NAMES = {"classify": "the face-crop classifier", "finder": "the face finder"}


def classifier_overrides(args, task: str = "classify") -> list[str]:
    """--set overrides for a classifier or finder spec from the flags; a detector-only flag is refused, never
    dropped."""
    from dabai.core.errors import ConfigError

    given = [flag for flag in (*FLAG_KEYS, "nan_retry") if getattr(args, flag) not in (None, False)]
    other = [flag for flag in given if flag not in CLASSIFIER_FLAG_KEYS]
    if other:
        raise ConfigError(f"{args.spec} trains {TASK_NAMES[task]} (task: {task}): "
                          f"{', '.join('--' + f.replace('_', '-') for f in other)} applies to detector specs only; "
                          f"it takes {', '.join('--' + f for f in CLASSIFIER_FLAG_KEYS)} and --set KEY=VALUE")
    return [f"{CLASSIFIER_FLAG_KEYS[flag]}={getattr(args, flag)}" for flag in given]


def run_preview(args) -> int:
    from dabai.core.errors import ConfigError
    from dabai.train.preview import preview_augment
    from dabai.train.spec import load_spec, spec_task

    if args.spec or args.resume:
        raise ConfigError("--preview-augment takes the spec itself (dabai train --preview-augment SPEC); "
                          "give no other SPEC or --resume")
    task = spec_task(args.preview_augment)
    if task != "detect":
        raise ConfigError(f"{args.preview_augment} trains {TASK_NAMES[task]} (task: {task}); "
                          "--preview-augment shows a detector spec's augmentation")
    overrides = [f"{key}={getattr(args, flag)}" for flag, key in FLAG_KEYS.items() if getattr(args, flag) is not None]
    spec = load_spec(args.preview_augment, overrides + list(args.set))
    path = preview_augment(spec, args.sheet, args.samples, epoch=args.epoch)
    print(f"augmentation preview: {path}")
    return 0
