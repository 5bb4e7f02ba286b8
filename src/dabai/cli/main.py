"""The ``dabai`` entry point.

Each module listed in ``COMMAND_MODULES`` exposes ``register(subparsers)`` and
adds its command (a group or a single command named after the module); heavy imports happen inside the command functions so that
``dabai --help`` stays fast and never needs torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from dabai import __version__
from dabai.core.errors import DabaiError

# The command groups, one module each, named after its command (``pass_`` for ``dabai pass``: a keyword),
# in the order they appear in `dabai --help`.
COMMAND_MODULES = [
    "data",
    "train",
    "eval",
    "predict",
    "prune",
    "export",
    "parity",
    "serve",
    "bench",
    "asr",
    "tts",
    "speech",
    "audio",
    "residents",
    "keys",
    "pass_",
    "gate",
    "demo",
    "doctor",
    "mine",
    "label",
]

EPILOG = """\
examples:
  dabai demo                                    # the gate, end to end, on built-in samples
  dabai doctor                                  # what is installed, where, and what is missing
  dabai data convert data/voc --to kitti --out data/kitti
  dabai data check data/voc --classes with_mask,without_mask,mask_weared_incorrect
  dabai train configs/mask_detector.yaml
  dabai predict photo.jpg --out preds/ --out-json preds.json
  dabai eval --data data/test --json

Run 'dabai COMMAND --help' for the options of each command.
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the hand-written examples in descriptions/epilogs as they are."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dabai",
        description="Dabai (大白): offline AI gatekeeper and model toolkit (data, train, eval, export, serve, speech, gate).",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dabai {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"dabai.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s" if args.verbose else "%(message)s",
    )
    func = getattr(args, "func", None)
    if func is None:
        # A group without a subcommand prints that group's help.
        (getattr(args, "_parser", None) or parser).print_help()
        return 1
    try:
        code = func(args)
    except DabaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug, not bad input: say so plainly (exit 70); --verbose adds the traceback
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in dabai, not in your input; rerun with --verbose for the traceback and report it",
              file=sys.stderr)
        return 70  # EX_SOFTWARE
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
