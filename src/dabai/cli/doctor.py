"""``dabai doctor``: what is installed, where, versions, sha256 checks, and how to install what is missing."""

from __future__ import annotations

from dabai.cli.common import add_command, print_json


def register(sub) -> None:
    p = add_command(
        sub, "doctor", cmd_doctor, "what is installed, where, which versions and sha256 checks pass, what is missing",
        description="Lists the speech packs (Whisper base, Kokoro-82M, its Chinese voices) where this user's "
                    "gate finds them, the Python packages of the speech side with their versions, espeak-ng, the "
                    "shipped detector and DABAI_HOME; checks sizes and sha256 against the pinned values; prints the "
                    "command that installs anything missing. Exit 0 when all is usable, 1 otherwise.",
        examples="  dabai doctor\n  dabai doctor --verify --json\n")
    p.add_argument("--verify", action="store_true", help="re-hash every pack file (sha256) instead of trusting the stamp")
    p.add_argument("--json", action="store_true", help="JSON output")


def cmd_doctor(args) -> int:
    from dabai.doctor import diagnose, format_report

    report = diagnose(verify=args.verify)
    if args.json:
        print_json(report.to_json())
    else:
        print(format_report(report))
    return 0 if report.healthy else 1
