"""cli/main.py: exit codes and messages for bad input, bugs and help."""

from __future__ import annotations

from dabai.cli import main as cli


def _crashing_command(monkeypatch):
    def boom(args):
        raise ZeroDivisionError("division by zero")

    real = cli.build_parser

    def parser():
        p = real()
        p.set_defaults(func=boom)
        return p

    monkeypatch.setattr(cli, "build_parser", parser)


def test_a_bug_is_reported_without_a_traceback(monkeypatch, capsys):
    _crashing_command(monkeypatch)
    assert cli.main([]) == 70
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: division by zero" in err and "--verbose" in err
    assert "Traceback" not in err


def test_verbose_shows_the_traceback_and_keeps_exit_70(monkeypatch, capsys):
    _crashing_command(monkeypatch)
    assert cli.main(["--verbose"]) == 70  # it was 1: the exception escaped main
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err and "internal error" in err


def test_bad_input_is_exit_2_with_the_reason(capsys, tmp_path):
    assert cli.main(["eval", "--model", str(tmp_path / "missing.onnx"), "--data", str(tmp_path)]) == 2
    assert "error: model file not found" in capsys.readouterr().err
