"""Small helpers shared by the CLI modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dabai.cli.main import HelpFormatter


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
