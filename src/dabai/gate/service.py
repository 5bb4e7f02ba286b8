"""`dabai gate install-service`: a systemd unit that runs `dabai gate run` at boot as a dedicated user.

The unit runs as its own system user with the gate home in ``/var/lib/dabai`` (``StateDirectory=``, mode 0700),
restarts on failure, logs to the journal, is sandboxed (``NoNewPrivileges``, ``ProtectSystem=strict``, private
/tmp, no kernel tunables, ...) and uses ``Type=notify`` with ``WatchdogSec=``: `gate run` reports ready and pings
the watchdog while its loop turns (:class:`dabai.gate.health.SystemdNotifier`), so a hung gate is restarted.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dabai.core.errors import DabaiError

DEFAULT_UNIT_DIR = Path("/etc/systemd/system")


@dataclass(frozen=True)
class ServiceSpec:
    name: str = "dabai-gate"  # unit name (without .service)
    user: str = "dabai"
    home: str = "/var/lib/dabai"  # the gate home (DABAI_HOME); must be under /var/lib (StateDirectory)
    run_args: list[str] = field(default_factory=list)  # extra `dabai gate run` arguments
    python: str = sys.executable  # the interpreter that has dabai installed
    watchdog_s: int = 60
    devices: bool = False  # a local camera (/dev/video*) or microphone: allow devices, join video/audio groups

    def __post_init__(self) -> None:
        if not self.home.startswith("/var/lib/") or self.home.rstrip("/") == "/var/lib":
            raise DabaiError(f"--home {self.home}: the service's home must be a folder under /var/lib "
                             "(systemd creates it for the service user with mode 0700)")
        for what, value in (("--name", self.name), ("--user", self.user)):
            if not value or not all(c.isalnum() or c in "-_" for c in value):
                raise DabaiError(f"{what} {value!r}: use letters, digits, '-' and '_' only")


def reach_problems(spec: ServiceSpec) -> list[str]:
    """Why the service user could not start the unit's interpreter, or import dabai with it (empty: no problem
    seen). The user is not the files' owner, so every folder on the way must be searchable by others (o+x) and the
    interpreter executable by others; symlinks are followed (a virtual environment's ``python`` usually points at
    a base interpreter elsewhere, e.g. pyenv's under /root, mode 0700). The package's folder is checked when the
    unit runs this very interpreter (``--python`` of another is checked for the interpreter only)."""
    problems = []
    if not Path(spec.python).is_file():
        return [f"the interpreter {spec.python} does not exist"]
    for what, target in _reached_paths(spec):
        for folder in reversed(target.parents):
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                problems.append(f"{what} {target} is inside {folder} (mode {stat.S_IMODE(mode):04o}), which user "
                                f"{spec.user!r} cannot enter")
                break
        else:
            if target.is_file() and not target.stat().st_mode & stat.S_IXOTH:
                problems.append(f"{what} {target} is not executable by other users")
    return problems


def _reached_paths(spec: ServiceSpec) -> list[tuple[str, Path]]:
    """Where the unit's files really are, symlinks followed: the interpreter, and the dabai package when the unit
    runs this very interpreter (of another, only the interpreter is known)."""
    python = os.path.realpath(spec.python)
    paths = [("the interpreter", Path(python))]
    if python == os.path.realpath(sys.executable):
        import dabai

        paths.append(("the dabai package", Path(os.path.realpath(Path(dabai.__file__).parent))))
    return paths


def exec_start(spec: ServiceSpec) -> list[str]:
    return [spec.python, "-m", "dabai", "gate", "run", "--home", spec.home, *spec.run_args]


def render_unit(spec: ServiceSpec) -> str:
    """The unit file's text."""
    state_dir = spec.home[len("/var/lib/"):].rstrip("/")
    # the venv itself, or what its python links to (a pyenv), may live under a home that ProtectHome=yes hides
    in_home = any(str(path).startswith(("/home/", "/root/"))
                  for path in (Path(spec.python), *(p for _, p in _reached_paths(spec))))
    lines = [
        "# Written by `dabai gate install-service`. Edit gate.yaml in the home rather than this file.",
        "[Unit]",
        f"Description=Dabai gate ({spec.name})",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"User={spec.user}",
        f"Group={spec.user}",
        f"Environment=DABAI_HOME={spec.home}",
        "Environment=PYTHONUNBUFFERED=1",
        "ExecStart=" + " ".join(_systemd_quote(a) for a in exec_start(spec)),
        "Restart=on-failure",
        "RestartSec=5",
        f"WatchdogSec={spec.watchdog_s}",
        "TimeoutStopSec=30",
        "KillSignal=SIGTERM",
        f"StateDirectory={state_dir}",
        "StateDirectoryMode=0700",
        "UMask=0077",
        "StandardOutput=journal",
        "StandardError=journal",
        f"SyslogIdentifier={spec.name}",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        # a virtual environment under /home must stay readable for the service to start at all
        f"ProtectHome={'read-only' if in_home else 'yes'}",
        "PrivateTmp=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "RestrictSUIDSGID=yes",
        "RestrictRealtime=yes",
        "RestrictNamespaces=yes",
        "LockPersonality=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "SystemCallArchitectures=native",
        "CapabilityBoundingSet=",
    ]
    lines += (["SupplementaryGroups=video audio"] if spec.devices else ["PrivateDevices=yes"])
    lines += ["", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def _systemd_quote(arg: str) -> str:
    """Quote one ExecStart argument for systemd (double quotes; '%' and '$' escaped)."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(c in arg for c in ' \t"\'\\;'):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def enable_steps(spec: ServiceSpec, unit_path: Path) -> list[str]:
    """The commands that finish the installation (printed; they need root)."""
    return [
        f"useradd --system --home-dir {spec.home} --no-create-home --shell /usr/sbin/nologin "
        f"--user-group {spec.user}" + (" --groups video,audio" if spec.devices else ""),
        f"install -d -m 0700 -o {spec.user} -g {spec.user} {spec.home}   # the home (systemd keeps it so)",
        *([] if unit_path.parent == DEFAULT_UNIT_DIR else [f"install -m 0644 {unit_path} {DEFAULT_UNIT_DIR}/"]),
        "systemctl daemon-reload",
        f"systemctl enable --now {spec.name}.service",
        f"systemctl status {spec.name}.service; journalctl -u {spec.name} -f",
    ]


def write_unit(spec: ServiceSpec, out_dir: Path = DEFAULT_UNIT_DIR, *, force: bool = False) -> Path:
    """Write ``out_dir/NAME.service`` (0644); refuses to replace an existing unit unless ``force``."""
    path = Path(out_dir) / f"{spec.name}.service"
    if path.exists() and not force:
        raise DabaiError(f"{path} exists; use --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_unit(spec), encoding="utf-8")
        path.chmod(0o644)
    except PermissionError:
        raise DabaiError(f"cannot write {path}: permission denied (run as root, or use --out DIR / --dry-run)") from None
    return path


def verify_unit(path: Path) -> tuple[bool, str] | None:
    """``systemd-analyze verify`` on the unit: (ok, messages), or None when systemd-analyze is not installed. A
    message is a problem even with exit status 0 (systemd ignores a line it cannot parse, with a warning)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    proc = subprocess.run([tool, "verify", str(path)], capture_output=True, text=True, timeout=60, check=False)
    messages = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0 and not messages, messages


def run_args_from(text: str | None) -> list[str]:
    return shlex.split(text) if text else []
