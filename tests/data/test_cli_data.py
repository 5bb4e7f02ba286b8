"""The `dabai data` commands: help with examples, plain errors, exit codes, the demo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dabai.cli.main import build_parser, main
from dabai.data.formats import detect_format, read_dataset

from .helpers import tree_digest

COMMANDS = ["convert", "check", "stats", "split", "resize", "closeups", "demo", "show", "audit"]


def help_text(*words) -> str:
    parser = build_parser()
    for action in parser._subparsers._group_actions:  # walk down to the requested subcommand
        parser = action.choices["data"]
    for word in words:
        parser = parser._subparsers._group_actions[0].choices[word]
    return parser.format_help()


@pytest.mark.parametrize("command", [None] + COMMANDS)
def test_every_help_has_examples(command):
    text = help_text(*([command] if command else []))
    assert "examples:\n  dabai data " in text


def test_group_without_a_command_prints_its_help(capsys):
    assert main(["data"]) == 1
    assert "convert" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["convert", "{missing}", "--to", "voc", "--out", "{tmp}/o"], "dataset folder not found"),
    (["convert", "{sample}", "--to", "coco", "--out", "{sample}/inside"], "output folder is inside the input dataset"),
    (["convert", "{sample}", "--to", "yolo", "--out", "{tmp}/o", "--classes", "a,a"], "class list names a more than once"),
    (["convert", "{sample}", "--to", "yolo", "--out", "{tmp}/o", "--classes", "with_mask"], "class 'without_mask' is not one of"),
    (["split", "{sample}", "--out", "{tmp}/o", "--val", "0.6", "--test", "0.5"], "leave nothing for training"),
    (["resize", "{sample}", "--size", "big", "--out", "{tmp}/o"], "size 'big' is not WIDTHxHEIGHT"),
    (["check", "{sample}", "--out", "{tmp}/o"], "--out is only used with --fix"),
    (["closeups", "{sample}", "--out", "{tmp}/o", "--context", "0.5"], "context 0.5 is below 1"),
    (["closeups", "{sample}", "--out", "{sample}/inside"], "output folder is inside the input dataset"),
    (["demo", "--images", "3"], "too few to split"),
])
def test_bad_input_is_one_error_line_and_exit_2(sample_dir, tmp_path, capsys, argv, message):
    values = {"missing": tmp_path / "nope", "sample": sample_dir, "tmp": tmp_path}
    before = tree_digest(sample_dir)
    assert main(["data"] + [a.format(**values) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert tree_digest(sample_dir) == before


def test_entry_point_reports_errors_without_a_traceback(tmp_path):
    bad = tmp_path / "bad"
    (bad / "annotations").mkdir(parents=True)
    (bad / "images").mkdir()
    (bad / "annotations" / "x.xml").write_text("<annotation><object>")
    run = subprocess.run([sys.executable, "-m", "dabai", "data", "convert", str(bad), "--to", "coco", "--out",
                          str(tmp_path / "o")], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("error: ") and "x.xml:1: malformed XML" in run.stderr


def test_convert_and_check_json(sample_dir, tmp_path, capsys):
    assert main(["data", "convert", str(sample_dir), "--to", "kitti", "--out", str(tmp_path / "k")]) == 0
    assert detect_format(tmp_path / "k") == "kitti"
    capsys.readouterr()
    assert main(["data", "check", str(tmp_path / "k"), "--from", "kitti", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "kitti" and doc["errors"] == 0 and doc["images"] == 24


def test_stats_writes_png_and_json_outside_the_dataset(sample_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "stats", str(sample_dir)]) == 0
    assert (tmp_path / "voc-stats" / "box_sizes.png").is_file()
    capsys.readouterr()
    assert main(["data", "stats", str(sample_dir), "--out", str(tmp_path / "s"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["images"] == 24 and json.loads((tmp_path / "s" / "stats.json").read_text())["boxes"] == doc["boxes"]


def test_resize_and_split_commands(sample_dir, tmp_path, capsys):
    assert main(["data", "resize", str(sample_dir), "--size", "160x128", "--keep-aspect", "--out",
                 str(tmp_path / "r"), "--to", "coco"]) == 0
    resized = read_dataset(tmp_path / "r")
    assert {(im.width, im.height) for im in resized.images} == {(160, 128)}
    assert main(["data", "split", str(tmp_path / "r"), "--out", str(tmp_path / "s"), "--seed", "3"]) == 0
    assert detect_format(tmp_path / "s" / "val") == "coco"
    assert "train" in capsys.readouterr().out


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["data", "demo", "--out", str(tmp_path / "demo"), "--images", "16"]) == 0
    out = capsys.readouterr().out
    assert "largest coordinate change 0.000 px" in out
    assert "every class in every split: yes" in out
    assert (tmp_path / "demo" / "stats" / "box_sizes.png").is_file()
