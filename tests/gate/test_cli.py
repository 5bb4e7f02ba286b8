"""The gate's CLI: every command through dabai.cli.main, JSON shapes, errors without tracebacks."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta

import cv2
import pytest

from dabai.cli.main import main

from .helpers import FakeDetector, face


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("DABAI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DABAI_DB", raising=False)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_keys_residents_passes(env, capsys):
    code, out, _ = run(capsys, "keys", "init", "--json")
    info = json.loads(out)
    assert code == 0 and stat.S_IMODE(os.stat(info["private_key"]).st_mode) == 0o600
    code, _, err = run(capsys, "keys", "init")
    assert code == 2 and "already holds a signing key" in err
    code, out, _ = run(capsys, "residents", "add", "张三", "--unit", "3-1-402", "--json", "--no-speech")
    zhang = json.loads(out)
    assert zhang["id"] == 1 and zhang["unit"] == "3-1-402" and zhang["reading"] is None and zhang["speech"] is None
    code, out, _ = run(capsys, "residents", "list", "--json")
    assert [r["name"] for r in json.loads(out)] == ["张三"]

    png = env / "pass.png"
    code, _, err = run(capsys, "pass", "issue", "张三", "--out", str(png), "--expires", "2099-12-31T00:00:00+08:00")
    assert code == 2 and "max_valid_days" in err and not png.exists()  # beyond the maximum validity
    soon = (datetime.now(UTC) + timedelta(days=100)).isoformat()
    code, out, _ = run(capsys, "pass", "issue", "张三", "--out", str(png), "--expires", soon, "--json")
    issued = json.loads(out)
    assert code == 0 and png.is_file() and issued["image"] == str(png) and len(issued["pass_id"]) == 16
    code, out, _ = run(capsys, "pass", "verify", str(png), "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    code, out, _ = run(capsys, "pass", "revoke", issued["pass_id"])
    assert code == 0 and "revoked" in out
    code, out, _ = run(capsys, "pass", "verify", str(png))
    assert code == 1 and "refused: revoked" in out
    code, out, _ = run(capsys, "pass", "list", "--json")
    assert json.loads(out)[0]["revoked"] is True

    code, _, err = run(capsys, "pass", "issue", "张三", "--out", str(env / "x.png"), "--expires", "2001-01-01T00:00")
    assert code == 2 and "in the past" in err
    code, _, err = run(capsys, "pass", "issue", "张三", "--out", str(env / "x.png"), "--expires", "tomorrow")
    assert code == 2 and "ISO 8601" in err
    code, _, err = run(capsys, "pass", "issue", "nobody", "--out", str(env / "x.png"))
    assert code == 2 and "no active resident named 'nobody'" in err
    code, _, err = run(capsys, "pass", "verify", str(env / "missing.png"))
    assert code == 2 and "image file not found" in err


def test_residents_import_and_remove(env, capsys):
    csv = env / "r.csv"
    csv.write_text("name,unit\n李四,1-1\n,2-2\n王五,3-3\n", encoding="utf-8")
    code, out, err = run(capsys, "residents", "import", str(csv), "--no-speech")
    assert code == 1 and f"{csv}:3: name is empty" in err and "imported 2" in out
    code, out, _ = run(capsys, "residents", "remove", "李四", "--json")
    assert code == 0 and json.loads(out)["active"] is False
    code, out, _ = run(capsys, "residents", "list")
    assert "王五" in out and "李四" not in out


RESULT_KEYS = {"event_id", "time", "gate_id", "allow", "reasons", "intent", "transcript", "resident", "mask", "pass",
               "reply_text", "reply_audio", "reply_cached", "speech_note", "snapshot", "door", "door_detail",
               "latency_ms"}


def test_gate_check_json_shape(env, capsys, monkeypatch):
    run(capsys, "keys", "init")
    run(capsys, "residents", "add", "张三", "--no-speech")
    png = env / "pass.png"
    _, out, _ = run(capsys, "pass", "issue", "张三", "--out", str(png), "--json")
    issued_id = json.loads(out)["pass_id"]
    face_img = env / "face.jpg"
    cv2.imwrite(str(face_img), cv2.imread(str(png)))
    det = FakeDetector([face("with_mask", 0.91)])
    monkeypatch.setattr("dabai.gate.check.load_detector", lambda path=None: det)
    code, out, _ = run(capsys, "gate", "check", "--image", str(face_img), "--qr", str(png), "--intent", "enter",
                       "--json", "--no-reply-audio")
    result = json.loads(out)
    assert code == 0
    assert set(result) == RESULT_KEYS  # the gate's one result shape (docs/gate.md, "One result")
    assert result["reply_cached"] is None and result["speech_note"] is None  # --no-reply-audio
    assert result["allow"] is True and result["resident"]["name"] == "张三"
    assert result["mask"] == {"label": "with_mask", "score": 0.91} and result["pass"] == {"valid": True, "reason": None,
                                                                                         "pass_id": issued_id}
    assert result["reply_text"] == "您好，张三，欢迎回家，二维码有效请您通过。"
    assert {"detect_ms", "qr_ms", "verify_ms", "decide_ms", "log_ms", "total_ms"} <= set(result["latency_ms"])
    # QR found in the face image itself; no intent -> deny with the reason
    code, out, _ = run(capsys, "gate", "check", "--image", str(face_img), "--json", "--no-reply-audio")
    assert code == 1 and json.loads(out)["reasons"] == ["no_request"]
    code, out, _ = run(capsys, "gate", "events", "--json")
    events = json.loads(out)
    assert [e["allow"] for e in events] == [False, True] and events[1]["resident"]["name"] == "张三"
    # the log reads back the same result: one shape, the same values (less what the log does not keep)
    assert all(set(e) == RESULT_KEYS for e in events)
    not_logged = {"reply_audio", "reply_cached", "speech_note", "transcript", "latency_ms"}
    assert {k: v for k, v in events[1].items() if k not in not_logged} == \
        {k: v for k, v in result.items() if k not in not_logged}
    code, out, _ = run(capsys, "gate", "events", "--outcome", "deny")
    assert "no_request" in out and code == 0


def test_gate_check_errors(env, capsys, monkeypatch):
    code, _, err = run(capsys, "gate", "check", "--image", str(env / "none.jpg"), "--intent", "enter")
    assert code == 2 and "no public key" in err
    run(capsys, "keys", "init")
    monkeypatch.setattr("dabai.gate.check.load_detector", lambda path=None: FakeDetector())
    code, _, err = run(capsys, "gate", "check", "--image", str(env / "none.jpg"), "--intent", "enter")
    assert code == 2 and "image file not found" in err and "Traceback" not in err
    (env / "cfg.yaml").write_text("mask:\n  with_mask: high\n")
    code, _, err = run(capsys, "gate", "check", "--image", "x.jpg", "--config", str(env / "cfg.yaml"))
    assert code == 2 and "mask.with_mask: expected a number" in err


def test_passwd_and_help(env, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(capsys, "gate", "passwd", "admin", "--password-stdin")
    assert code == 2 and "at least 8" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough pw\n"))
    assert run(capsys, "gate", "passwd", "admin", "--password-stdin")[0] == 0
    for argv in (["gate", "check"], ["gate", "run"], ["gate", "serve"], ["pass", "issue"], ["residents", "import"],
                 ["keys", "init"], ["bench-gate"], ["demo"]):
        with pytest.raises(SystemExit) as info:
            main(argv + ["--help"])
        assert info.value.code == 0
        assert "examples:" in capsys.readouterr().out


def test_bench_runs(monkeypatch):
    from dabai.gate.bench import format_report, run_bench

    rep = run_bench(runs=5, detector=FakeDetector([face("with_mask", 0.9, x=177, y=66, w=95, h=95)]),
                    with_turn=False, speak=False)
    assert rep["decision"]["allow"] and rep["check_known_intent"]["n"] == 5
    assert "p95" in format_report(rep) and "skipped" in format_report(rep)


def test_passwd_with_closed_stdin_is_a_plain_error(env, capsys, monkeypatch):
    """Defect 10: 'dabai gate passwd admin < /dev/null' was exit 70 (EOFError)."""
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "gate", "passwd", "admin")
    assert code == 2 and "standard input is closed" in err and "internal error" not in err


def test_pass_issue_beyond_the_maximum_validity(env, capsys):
    """Defect 7: --valid-days 100000 was exit 70 (ValueError from the pass format)."""
    run(capsys, "keys", "init")
    run(capsys, "residents", "add", "张三")
    for days in ("100000", "1e300", "nan"):
        code, _, err = run(capsys, "pass", "issue", "张三", "--out", str(env / "p.png"), "--valid-days", days)
        assert code == 2 and "internal error" not in err, (days, err)
    assert not (env / "p.png").exists()


def test_events_limit_must_be_positive(env, capsys):
    """Smaller: 'gate events --limit -1' printed one row."""
    run(capsys, "keys", "init")
    code, _, err = run(capsys, "gate", "events", "--limit", "-1")
    assert code == 2 and "limit must be between 1 and 10000" in err


def test_verbose_keeps_the_internal_error_exit_code(env, capsys, monkeypatch):
    """Smaller: -v turned exit 70 into exit 1 (the traceback escaped main)."""
    def boom(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("dabai.cli.gate.cmd_events", boom)
    for flags in ([], ["-v"]):
        code, _, err = run(capsys, *flags, "gate", "events")
        assert code == 70 and "internal error: RuntimeError: a bug" in err
        assert ("Traceback" in err) == bool(flags)


def test_gate_run_json_streams_each_decision(env, capsys, monkeypatch):
    """Smaller: 'gate run --json' printed only at the end, so a kill lost every decision."""
    from datetime import UTC, datetime

    from dabai.core.errors import DabaiError
    from dabai.gate.result import GateResult

    run(capsys, "keys", "init")

    def fake_run_session(home, cfg, reg, opts, *, on_decision=None, detector=None):
        on_decision(GateResult(1, datetime(2026, 1, 1, tzinfo=UTC), "g", True, [], "enter", reply_text="欢迎"))
        on_decision(GateResult(2, datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC), "g", False, ["no_mask"], "enter",
                               reply_text="口罩"))
        raise DabaiError("camera 0 stopped delivering frames")  # the loop dies before its summary

    monkeypatch.setattr("dabai.gate.session.run_session", fake_run_session)
    code, out, _ = run(capsys, "gate", "run", "--camera", "0", "--intent", "enter", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and [e["allow"] for e in lines] == [True, False]


def test_pass_import_cli(env, capsys, tmp_path):
    import shutil

    run(capsys, "keys", "init")
    run(capsys, "residents", "add", "张三")
    shutil.copytree(env / "home", tmp_path / "issuer")  # a second issuing host with the same key
    png = env / "p.png"
    main(["pass", "issue", "张三", "--out", str(png), "--home", str(tmp_path / "issuer")])
    capsys.readouterr()
    code, out, _ = run(capsys, "pass", "verify", str(png), "--json")
    assert code == 1 and json.loads(out)["reason"] == "unknown_pass"
    code, out, _ = run(capsys, "pass", "import", str(png), str(env / "missing.txt"), "--json")
    result = json.loads(out)
    assert code == 1 and len(result["imported"]) == 1 and "file not found" in result["errors"][0]
    assert run(capsys, "pass", "verify", str(png))[0] == 0
