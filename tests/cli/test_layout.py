"""The CLI's shape: one module per command group, named after it; --json is a flag everywhere; the deprecated
spellings still work for one release and say so on stderr."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

import pytest

from dabai.cli.main import COMMAND_MODULES, build_parser, main

CLI = Path(__file__).resolve().parents[2] / "src" / "dabai" / "cli"
HELPERS = {"__init__", "main", "common"}  # the modules that register no command
# deprecated spelling -> the module that keeps it for one release (and what replaces it)
DEPRECATED = {"bench-gate": ("bench", "bench gate")}
# options still accepting the old '--json FILE' for one release: (command path) -> the file option now
JSON_FILE_DEPRECATED = {("predict",): "--out-json", ("bench", "speech"): "--out"}


def _registered(module_name: str) -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"dabai.cli.{module_name}").register(sub)
    return set(sub.choices)


def test_one_module_per_command_named_after_it():
    on_disk = {p.stem for p in CLI.glob("*.py")} - HELPERS
    assert on_disk == set(COMMAND_MODULES), "every cli module is a command group listed in COMMAND_MODULES"
    for name in COMMAND_MODULES:
        command = name.rstrip("_")  # pass_ registers 'pass' (a keyword cannot be a module name)
        extra = {old for old, (owner, _) in DEPRECATED.items() if owner == name}
        assert _registered(name) == {command} | extra, name


def _parsers(parser: argparse.ArgumentParser, path=()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def test_json_is_a_stdout_flag_in_every_command():
    seen = 0
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if "--json" not in action.option_strings:
                continue
            seen += 1
            if path in JSON_FILE_DEPRECATED:  # the flag, which also takes the old FILE for one release
                assert action.nargs == "?" and action.const is True and action.default is False, path
                assert JSON_FILE_DEPRECATED[path] in {o for a in parser._actions for o in a.option_strings}, path
            else:
                assert action.nargs == 0 and action.const is True, f"dabai {' '.join(path)}: --json must be a flag"
    assert seen >= 20


def test_bench_gate_still_works_with_a_warning(monkeypatch, capsys):
    report = {"runs": 3}
    monkeypatch.setattr("dabai.gate.bench.run_bench", lambda runs, model, with_turn: report | {"with_turn": with_turn})
    assert main(["bench", "gate", "--runs", "3", "--no-turn", "--json"]) == 0
    new = capsys.readouterr()
    assert json.loads(new.out) == {"runs": 3, "with_turn": False} and new.err == ""
    assert main(["bench-gate", "--runs", "3", "--no-turn", "--json"]) == 0
    old = capsys.readouterr()
    assert json.loads(old.out) == json.loads(new.out)  # the same command and output
    assert "warning: 'dabai bench-gate' is deprecated" in old.err and "'dabai bench gate'" in old.err
    assert "bench-gate" not in build_parser().format_help()  # hidden from the command list


@pytest.fixture
def fake_speech_bench(monkeypatch):
    result = {"targets_met": True, "rows": [1, 2]}
    seen = {}

    def run_benchmark(options, partial=None, **kwargs):
        seen["partial"] = partial
        return result

    monkeypatch.setattr("dabai.gate.reply_bench.run_benchmark", run_benchmark)  # what `bench speech` runs
    monkeypatch.setattr("dabai.speech.bench.format_report", lambda r: "REPORT")
    return result, seen


def test_bench_speech_json_flag_out_file_and_the_old_spelling(fake_speech_bench, capsys, tmp_path):
    result, seen = fake_speech_bench
    assert main(["bench", "speech", "--quick", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == result and seen["partial"] is None
    target = tmp_path / "b.json"
    assert main(["bench", "speech", "--quick", "--out", str(target)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("REPORT") and json.loads(target.read_text()) == result
    assert seen["partial"] == tmp_path / "b.partial.json" and out.err == ""
    old = tmp_path / "old.json"
    assert main(["bench", "speech", "--quick", "--json", str(old)]) == 0  # the old spelling: a file, a warning
    out = capsys.readouterr()
    assert json.loads(old.read_text()) == result and out.out.startswith("REPORT")
    assert "warning: --json FILE is deprecated" in out.err and "--out FILE" in out.err
    assert main(["bench", "speech", "--json", str(old), "--out", str(target)]) == 2
    assert "not also --json FILE" in capsys.readouterr().err


def test_a_missing_command_module_is_an_error_not_a_silent_skip(monkeypatch):
    monkeypatch.setattr("dabai.cli.main.COMMAND_MODULES", [*COMMAND_MODULES, "no_such_group"])
    with pytest.raises(ModuleNotFoundError):
        build_parser()
