"""`dabai gate install-service`: the unit's content, --dry-run / --out without systemd, checks, systemd-analyze."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from dabai.cli.main import main
from dabai.core.errors import DabaiError
from dabai.gate.service import ServiceSpec, reach_problems, render_unit, verify_unit


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def python():
    """An 'interpreter' every user can reach (a folder 0755 in /tmp, a file 0755), for units written by tests
    whatever this machine's own interpreter is (a pyenv under /root is not reachable by a service user)."""
    folder = Path(tempfile.mkdtemp(prefix="dabai-service-test-"))
    folder.chmod(0o755)
    exe = folder / "python"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    yield str(exe)
    shutil.rmtree(folder)


def test_dry_run_prints_a_hardened_unit(capsys, python):
    code, out, err = run(capsys, "gate", "install-service", "--dry-run", "--python", python,
                         "--run-args", "--camera rtsp://10.0.0.5/stream1 --intent enter --health-port 8701")
    assert code == 0 and err == ""
    lines = set(out.splitlines())
    for want in ("User=dabai", "Group=dabai", "StateDirectory=dabai", "StateDirectoryMode=0700", "Restart=on-failure",
                 "StandardOutput=journal", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                 "Type=notify", "WatchdogSec=60", "KillSignal=SIGTERM", "PrivateDevices=yes",
                 "Environment=DABAI_HOME=/var/lib/dabai", "WantedBy=multi-user.target"):
        assert want in lines, want
    (exec_line,) = [x for x in out.splitlines() if x.startswith("ExecStart=")]
    assert exec_line.endswith("-m dabai gate run --home /var/lib/dabai --camera rtsp://10.0.0.5/stream1 "
                              "--intent enter --health-port 8701")


def test_out_writes_the_unit_and_prints_the_steps(capsys, tmp_path, python):
    code, out, err = run(capsys, "gate", "install-service", "--out", str(tmp_path), "--name", "east-gate",
                         "--python", python, "--run-args", "--camera 0 --mic")
    unit = tmp_path / "east-gate.service"
    assert code == 0 and unit.is_file() and stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert "useradd --system --home-dir /var/lib/dabai" in out and "install -d -m 0700 -o dabai" in out and "systemctl enable --now east-gate.service" in out
    text = unit.read_text()
    assert "SupplementaryGroups=video audio" in text and "PrivateDevices=yes" not in text  # a local camera + mic
    code, _, err = run(capsys, "gate", "install-service", "--out", str(tmp_path), "--name", "east-gate",
                       "--python", python)
    assert code == 2 and "--force" in err  # never replaces a unit silently
    code, _, _ = run(capsys, "gate", "install-service", "--out", str(tmp_path), "--name", "east-gate", "--force",
                     "--python", python)
    assert code == 0 and "SupplementaryGroups" not in unit.read_text()


def test_bad_arguments_fail_before_writing(capsys, tmp_path, python):
    code, _, err = run(capsys, "gate", "install-service", "--out", str(tmp_path), "--run-args", "--camra 0")
    assert code == 2 and "not valid for 'dabai gate run'" in err and "--camra" in err
    code, _, err = run(capsys, "gate", "install-service", "--out", str(tmp_path), "--home", "/home/me/.dabai")
    assert code == 2 and "under /var/lib" in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = run(capsys, "gate", "install-service", "--dry-run", "--python", python,
                       "--run-args", "--camera rtsp://a:pw@cam/s")
    assert code == 0 and "credentials" in err
    with pytest.raises(DabaiError, match="--user"):
        ServiceSpec(user="dabai; rm -rf /")


def test_an_interpreter_the_service_user_cannot_reach_is_refused(capsys, tmp_path, python):
    """Seen under a real systemd: a venv whose python links to pyenv's under /root (0700) fails with 203/EXEC."""
    private = Path(tempfile.mkdtemp(prefix="dabai-private-"))  # mode 0700, like /root
    try:
        real = private / "python3.11"
        real.write_text("#!/bin/sh\n")
        real.chmod(0o755)
        venv = Path(python).parent / "venv-python"  # a reachable link to an unreachable interpreter
        venv.symlink_to(real)
        problems = reach_problems(ServiceSpec(python=str(venv)))
        assert len(problems) == 1 and str(private) in problems[0] and "0700" in problems[0]
        assert reach_problems(ServiceSpec(python=python)) == []
        code, _, err = run(capsys, "gate", "install-service", "--out", str(tmp_path), "--python", str(venv))
        assert code == 2 and "203/EXEC" in err and "--python" in err and list(tmp_path.iterdir()) == []
        code, out, err = run(capsys, "gate", "install-service", "--dry-run", "--python", str(venv))
        assert code == 0 and "warning: the service could not start" in err and "ExecStart=" in out
        real.chmod(0o700)  # reachable folder, but not executable by others
        private.chmod(0o755)
        assert "not executable by other users" in reach_problems(ServiceSpec(python=str(venv)))[0]
        venv.unlink()
    finally:
        shutil.rmtree(private)


def test_exec_start_quoting():
    spec = ServiceSpec(python="/opt/my venv/bin/python", run_args=["--video", "/srv/a 100%.mp4"])
    line = next(x for x in render_unit(spec).splitlines() if x.startswith("ExecStart="))
    assert line.startswith('ExecStart="/opt/my venv/bin/python" -m dabai') and '"/srv/a 100%%.mp4"' in line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (Debian: systemd)")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    spec = ServiceSpec(python=os.path.realpath(shutil.which("python3") or "/usr/bin/python3"),
                       run_args=["--intent", "enter"])
    unit = tmp_path / "dabai-gate.service"
    unit.write_text(render_unit(spec))
    ok, messages = verify_unit(unit)
    assert ok, messages
    broken = tmp_path / "broken.service"
    broken.write_text(render_unit(spec).replace("Restart=on-failure", "Restart=sometimes"))
    ok, messages = verify_unit(broken)
    assert not ok and "restart specifier" in messages  # systemd-analyze does read the file


def test_protect_home_follows_the_interpreter_behind_a_link(python):
    """A venv outside /home whose python links into a home (a user's pyenv, kept world-readable) needs that home
    readable: ProtectHome=yes would hide the interpreter the link points at."""
    link = Path(python).parent / "python-in-home"
    link.symlink_to("/home/someone/.pyenv/versions/3.11.7/bin/python3.11")
    try:
        assert "ProtectHome=read-only" in render_unit(ServiceSpec(python=str(link))).splitlines()
        assert "ProtectHome=yes" in render_unit(ServiceSpec(python=python)).splitlines()
    finally:
        link.unlink()
