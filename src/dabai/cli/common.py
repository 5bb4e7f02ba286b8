"""Small helpers shared by the CLI modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dabai.cli.main import HelpFormatter
from dabai.core.errors import ConfigError


def add_command(sub, name: str, func, help: str, examples: str = "", description: str = "") -> argparse.ArgumentParser:
    """Add one subcommand with a help line, a description and an examples epilog."""
    parser = sub.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=("examples:\n" + examples) if examples else None,
        formatter_class=HelpFormatter,
    )
    parser.set_defaults(func=func, _parser=parser)
    return parser


def add_group(sub, name: str, help: str, examples: str = ""):
    """Add a command group (``dabai data …``) and return its sub-parsers."""
    parser = sub.add_parser(
        name, help=help, description=help,
        epilog=("examples:\n" + examples) if examples else None,
        formatter_class=HelpFormatter,
    )
    parser.set_defaults(func=None, _parser=parser)
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def add_gate_options(p: argparse.ArgumentParser, json_flag: bool = True) -> argparse.ArgumentParser:
    """The options every gate command takes (``--home``, ``--db``, ``--config``; ``--json`` unless told not)."""
    p.add_argument("--home", help="gate home folder (default: $DABAI_HOME or ~/.dabai)")
    p.add_argument("--db", help="registry URL, e.g. postgresql://user:pw@host/dabai (default: $DABAI_DB or SQLite in the home)")
    p.add_argument("--config", help="gate config YAML (default: HOME/gate.yaml when present)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return p


def open_gate_of(args):
    """(home, config, registry) of a command's gate options."""
    from dabai.gate.context import open_gate

    return open_gate(args.home, args.db, args.config)


def warn_deprecated(old: str, new: str) -> None:
    """One line on stderr: ``old`` still works in this release and goes in the next; use ``new``."""
    print(f"warning: {old} is deprecated and will be removed in the next release; use {new}", file=sys.stderr)


def deprecated_command(func, old: str, new: str):
    """``func`` behind a deprecated spelling of its command: warns (stderr), then runs it."""

    def run(args) -> int:
        warn_deprecated(f"'dabai {old}'", f"'dabai {new}'")
        return func(args)

    return run


def json_flag_or_file(p: argparse.ArgumentParser, out_option: str, help: str) -> None:
    """``--json``, a flag (print JSON on stdout), for a command where ``--json FILE`` used to name the file
    (now ``out_option``): ``--json FILE`` still works for one release, with a warning (see resolve_json_file)."""
    p.add_argument("--json", nargs="?", const=True, default=False, metavar="FILE",
                   help=help + f" (a FILE: the deprecated spelling of {out_option} FILE, works with a warning until "
                               "the next release)")


def resolve_json_file(args, out_attr: str, out_option: str) -> None:
    """Turn a deprecated ``--json FILE`` into ``out_option FILE`` (a warning on stderr); ``args.json`` ends a bool."""
    if isinstance(args.json, str):
        if getattr(args, out_attr):
            raise ConfigError(f"give {out_option} FILE, not also --json FILE")
        warn_deprecated("--json FILE", f"{out_option} FILE (--json alone prints the JSON on stdout)")
        setattr(args, out_attr, args.json)
        args.json = False


def split_csv(text: str) -> tuple[str, ...]:
    """'a, b,,c' -> ('a', 'b', 'c')."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def add_prediction_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--workers`` and ``--no-cache``: how a command that runs a model over a dataset runs it
    (``dabai.eval.api.model_detections``)."""
    p.add_argument("--workers", type=int, default=0, metavar="N", help="processes predicting images, each with "
                   "its own copy of the model on one thread (default 0: one per core, at most 8; 1: this process, "
                   "on --threads threads)")
    p.add_argument("--no-cache", dest="cache", action="store_false", help="neither reuse nor keep the model's "
                   "detections in the detection cache ($DABAI_CACHE_DIR, else ~/.cache/dabai; reused only for "
                   "the same model file, settings and image bytes)")
    return p


def workers_of(args) -> int:
    """The number of prediction processes ``--workers`` asks for (0: one per core)."""
    from dabai.eval.pool import default_workers

    if args.workers < 0:
        raise ConfigError(f"--workers {args.workers}: expected 0 (one per core) or more")
    return args.workers or default_workers()
