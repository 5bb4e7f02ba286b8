"""CLI for the gate: ``residents``, ``keys``, ``pass``, ``gate`` (check, run, serve, events, passwd) and ``bench-gate``.

Every command is a thin layer over ``dabai.gate``; all take ``--home`` (default
$DABAI_HOME or ~/.dabai) and ``--db`` (default $DABAI_DB or SQLite in the home).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from dabai.cli.common import add_command, add_group, print_json
from dabai.core.errors import DabaiError


def _common(p: argparse.ArgumentParser, json_flag: bool = True) -> argparse.ArgumentParser:
    p.add_argument("--home", help="gate home folder (default: $DABAI_HOME or ~/.dabai)")
    p.add_argument("--db", help="registry URL, e.g. postgresql://user:pw@host/dabai (default: $DABAI_DB or SQLite in the home)")
    p.add_argument("--config", help="gate config YAML (default: HOME/gate.yaml when present)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return p


def _open(args):
    from dabai.gate.context import open_gate

    return open_gate(args.home, args.db, args.config)


def register(sub) -> None:
    _register_residents(sub)
    _register_keys(sub)
    _register_pass(sub)
    _register_gate(sub)
    p = add_command(sub, "bench-gate", cmd_bench, "measure gate check latency (p50/p95) and a whole spoken turn",
                    examples="  dabai bench-gate --runs 50\n  dabai bench-gate --runs 30 --json\n")
    add_gate_bench_arguments(p)


def add_gate_bench_arguments(p) -> None:
    """Options of the gate benchmark (`dabai bench gate` and `dabai bench-gate`)."""
    p.add_argument("--runs", type=int, default=50, help="timed checks per measurement (default 50)")
    p.add_argument("--model", help="detector model (default: the shipped one)")
    p.add_argument("--no-turn", action="store_true", help="skip the whole-turn (ASR) measurement")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


# -- residents ------------------------------------------------------------------------------------
def _register_residents(sub) -> None:
    g = add_group(sub, "residents", "manage the residents registry",
                  examples="  dabai residents add 张三 --unit 3-1-402 --phone 13800000000\n"
                           "  dabai residents add 曾小燕 --reading 'zeng1 xiao3 yan4'\n"
                           "  dabai residents list --json\n  dabai residents import residents.csv\n"
                           "  dabai residents check-names\n")
    p = _common(add_command(g, "add", cmd_residents_add,
                            "register a resident (their greeting is rendered into the reply cache and their name "
                            "heard back by the ASR)",
                            examples="  dabai residents add 张三 --unit 3-1-402\n  dabai residents add 李四 --json\n"
                                     "  dabai residents add 单雨桐 --reading 'shan4 yu3 tong2'\n"))
    p.add_argument("name")
    p.add_argument("--unit", help="building-unit-room, e.g. 3-1-402")
    p.add_argument("--phone")
    p.add_argument("--reading", help="how the name is said: tone-numbered pinyin, one syllable per character, "
                                     "e.g. 'zeng1 xiao3 yan4' (default: the TTS's own reading)")
    _speech_flag(p)
    p = _common(add_command(g, "reading", cmd_residents_reading,
                            "set (or with '' clear) how a resident's name is said, re-render and re-check it",
                            examples="  dabai residents reading 曾小燕 'zeng1 xiao3 yan4'\n  dabai residents reading 7 ''\n"))
    p.add_argument("resident", help="resident id or unambiguous name")
    p.add_argument("reading", help="tone-numbered pinyin, e.g. 'zeng1 xiao3 yan4' ('' clears it)")
    _speech_flag(p)
    p = _common(add_command(g, "check-names", cmd_residents_check_names,
                            "say each resident's greeting, hear it back with the ASR and list the names that do not "
                            "come back (compared as tonal pinyin; homophones count as right); exit 1 if any",
                            examples="  dabai residents check-names\n  dabai residents check-names 曾小燕 --json\n"))
    p.add_argument("residents", nargs="*", help="resident ids or names (default: every active resident)")
    p = _common(add_command(g, "list", cmd_residents_list, "list residents",
                            examples="  dabai residents list\n  dabai residents list --all --json\n"))
    p.add_argument("--all", action="store_true", help="include removed (inactive) residents")
    p = _common(add_command(g, "remove", cmd_residents_remove,
                            "remove a resident (deactivates: their passes stop working, history is kept)",
                            examples="  dabai residents remove 3\n  dabai residents remove 张三\n"))
    p.add_argument("resident", help="resident id or unambiguous name")
    p = _common(add_command(g, "import", cmd_residents_import,
                            "import residents from a CSV (header: name,unit,phone,reading); bad rows are reported by line "
                            "and skipped, good rows are added in one transaction",
                            examples="  dabai residents import residents.csv\n  dabai residents import new.csv --json\n"))
    p.add_argument("csv")
    _speech_flag(p)


def _speech_flag(p) -> None:
    p.add_argument("--no-speech", action="store_true",
                   help="skip rendering the greeting and checking the name (e.g. on a host without the speech packs)")


def _enrol(args, cfg, home, residents) -> dict | None:
    """Render the greetings of ``residents`` into the cache and hear their names back (unless --no-speech)."""
    if args.no_speech or not residents:
        return None
    from dabai.gate.names import enrol
    from dabai.gate.replies import ReplyVoice

    report = enrol(residents, cfg, ReplyVoice(home.root, cfg.voice)).to_json()
    if not args.json:
        _print_enrolment(report)
    return report


def _print_enrolment(report: dict) -> None:
    if report["greetings_cached"]:
        print(f"  greeting{'s' if report['greetings_cached'] > 1 else ''} cached: {report['greetings_cached']}")
    for c in report["name_checks"] or []:
        if c["ok"]:
            print(f"  name said right: {c['name']} ({c['expected']})")
        else:
            print(f"  NAME NOT HEARD BACK: {c['name']}: expected {c['expected']}, heard {c['heard'] or '-'} "
                  f"in {c['heard_text']!r}; set how it is said with: dabai residents reading {c['resident_id']} "
                  f"'...'", file=sys.stderr)
        if c["ambiguous"]:
            print(f"  note: {c['name']} has characters with several readings ({', '.join(c['ambiguous'])}); "
                  f"give --reading to be sure", file=sys.stderr)
    if report["speech_note"]:
        print(f"note: {report['speech_note']}", file=sys.stderr)


def cmd_residents_add(args) -> int:
    from dabai.gate.residents import add_resident

    home, cfg, reg = _open(args)
    r = add_resident(reg, args.name, args.unit, args.phone, args.reading)
    if not args.json:
        print(f"added resident {r.id}: {r.name}" + (f" ({r.unit})" if r.unit else "")
              + (f", said {r.reading}" if r.reading else ""))
    speech = _enrol(args, cfg, home, [r])
    if args.json:
        print_json(r.to_json() | {"speech": speech})
    return 0


def cmd_residents_reading(args) -> int:
    from dabai.gate.residents import set_reading

    home, cfg, reg = _open(args)
    r = set_reading(reg, args.resident, args.reading)
    if not args.json:
        print(f"resident {r.id}: {r.name} is said " + (r.reading or "as the TTS reads the characters"))
    speech = _enrol(args, cfg, home, [r])
    if args.json:
        print_json(r.to_json() | {"speech": speech})
    return 0


def cmd_residents_check_names(args) -> int:
    from dabai.gate.names import check_names
    from dabai.gate.replies import ReplyVoice
    from dabai.gate.residents import find_resident, list_residents

    home, cfg, reg = _open(args)
    residents = [find_resident(reg, ref) for ref in args.residents] if args.residents else list_residents(reg)
    voice = ReplyVoice(home.root, cfg.voice)
    checks = check_names(residents, cfg, voice)
    report = {"checked": len(checks), "wrong": sum(not c.ok for c in checks), "name_checks": [c.to_json() for c in checks],
              "speech_note": voice.speech_note, "greetings_cached": len(checks)}
    if args.json:
        print_json(report)
    else:
        _print_enrolment(report)
        print(f"{report['checked']} name(s) checked, {report['wrong']} not heard back")
    if len(checks) < len(residents):
        raise DabaiError(f"names could not be checked: {voice.speech_note}")
    return 1 if report["wrong"] else 0


def cmd_residents_list(args) -> int:
    from dabai.gate.residents import list_residents

    _, _, reg = _open(args)
    rows = list_residents(reg, include_inactive=args.all)
    if args.json:
        print_json([r.to_json() for r in rows])
        return 0
    if not rows:
        print("no residents; add one with: dabai residents add NAME --unit 3-1-402")
    for r in rows:
        flag = "" if r.active else "  (removed)"
        print(f"{r.id:>5}  {r.name:<12} {r.unit or '-':<12} {r.phone or '-'}{flag}")
    return 0


def cmd_residents_remove(args) -> int:
    from dabai.gate.residents import remove_resident

    _, _, reg = _open(args)
    r = remove_resident(reg, args.resident)
    if args.json:
        print_json(r.to_json())
    else:
        print(f"removed resident {r.id}: {r.name} (their passes no longer open the gate)")
    return 0


def cmd_residents_import(args) -> int:
    from dabai.gate.residents import import_csv

    home, cfg, reg = _open(args)
    report = import_csv(reg, args.csv)
    if not args.json:
        for line, msg in report.errors:
            print(f"{args.csv}:{line}: {msg}", file=sys.stderr)
        print(f"imported {len(report.added)} resident(s); {len(report.errors)} bad row(s) skipped")
    speech = _enrol(args, cfg, home, report.added)
    if args.json:
        print_json(report.to_json() | {"speech": speech})
    return 1 if report.errors else 0


# -- keys -----------------------------------------------------------------------------------------
def _register_keys(sub) -> None:
    g = add_group(sub, "keys", "the community's pass signing key",
                  examples="  dabai keys init\n  dabai keys show --json\n")
    _common(add_command(g, "init", cmd_keys_init,
                        "create the Ed25519 signing key (HOME/keys/signing.key, mode 0600) and its public key",
                        examples="  dabai keys init\n  DABAI_HOME=/srv/dabai dabai keys init --json\n"))
    _common(add_command(g, "show", cmd_keys_show, "show the public key id(s) this gate trusts",
                        examples="  dabai keys show\n"))


def cmd_keys_init(args) -> int:
    from dabai.gate.home import resolve_home
    from dabai.gate.keys import init_keys

    home = resolve_home(args.home, args.db).ensure()
    key = init_keys(home)
    out = {"key_id": key.key_id, "private_key": str(home.private_key_path), "public_key": str(home.public_key_path)}
    if args.json:
        print_json(out)
    else:
        print(f"created signing key {key.key_id}\n  private: {out['private_key']} (mode 0600; keep it on the "
              f"issuing host only)\n  public:  {out['public_key']} (copy to every gate's HOME/keys/)")
    return 0


def cmd_keys_show(args) -> int:
    from dabai.gate.home import resolve_home
    from dabai.gate.keys import load_public_keys

    keys = load_public_keys(resolve_home(args.home, args.db))
    if args.json:
        print_json([{"key_id": k.key_id, "path": str(k.path)} for k in keys.values()])
    else:
        for k in keys.values():
            print(f"{k.key_id}  {k.path}")
    return 0


# -- passes ---------------------------------------------------------------------------------------
def _register_pass(sub) -> None:
    g = add_group(sub, "pass", "issue, revoke and verify signed QR passes",
                  examples="  dabai pass issue 张三 --out zhangsan.png --valid-days 30\n"
                           "  dabai pass revoke 3f9c0a1b2c3d4e5f\n  dabai pass verify photo.jpg\n")
    p = _common(add_command(g, "issue", cmd_pass_issue, "issue a signed pass as a QR PNG",
                            examples="  dabai pass issue 张三 --out pass.png --expires 2026-12-31T00:00:00+08:00\n"
                                     "  dabai pass issue 7 --out guest.png --valid-days 1 --single-use --json\n"))
    p.add_argument("resident", help="resident id or unambiguous name")
    p.add_argument("--out", required=True, help="PNG file to write")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--expires", help="expiry time, ISO 8601 (a time without zone is local time)")
    when.add_argument("--valid-days", type=float, help="valid for N days from now (default 30)")
    p.add_argument("--single-use", action="store_true", help="the pass opens the gate once, on any gate")
    p = _common(add_command(g, "revoke", cmd_pass_revoke, "revoke a pass (refused by every gate on this registry)",
                            examples="  dabai pass revoke 3f9c0a1b2c3d4e5f --reason lost\n"))
    p.add_argument("pass_id")
    p.add_argument("--reason", help="why (kept in the registry)")
    p = _common(add_command(g, "verify", cmd_pass_verify,
                            "read the QR in an image and verify the pass (exit 0 valid, 1 refused)",
                            examples="  dabai pass verify pass.png\n  dabai pass verify visitor.jpg --json\n"))
    p.add_argument("image")
    p = _common(add_command(
        g, "import", cmd_pass_import,
        "record passes issued on another host (or a restored backup) so this registry's gates admit them",
        description="Gates admit only passes their registry recorded. A pass signed on another issuing host "
                    "(its signing.pub in HOME/keys/trusted/) is recorded here after its signature, expiry and "
                    "resident are checked. Each SOURCE is a QR image or a text file with one pass text per line.",
        examples="  dabai pass import pass.png\n  dabai pass import passes.txt --json\n"))
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p = _common(add_command(g, "list", cmd_pass_list, "list issued passes",
                            examples="  dabai pass list\n  dabai pass list --resident 3 --json\n"))
    p.add_argument("--resident", help="only this resident's passes (id or name)")


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DabaiError(f"--expires {text!r} is not an ISO 8601 time, e.g. 2026-12-31T00:00:00+08:00") from None
    return value if value.tzinfo else value.astimezone()


def cmd_pass_issue(args) -> int:
    from dabai.gate.keys import load_private_key
    from dabai.gate.passes import PassError, issue_pass, write_qr_png

    home, cfg, reg = _open(args)
    expires = _parse_time(args.expires) if args.expires else None
    if expires is not None and expires <= datetime.now().astimezone():
        raise PassError(f"--expires {args.expires} is in the past")
    key = load_private_key(home)
    issued = issue_pass(reg, key, args.resident, expires_at=expires, valid_days=args.valid_days,
                        single_use=args.single_use, max_name_bytes=cfg.passes.max_name_bytes,
                        max_valid_days=cfg.passes.max_valid_days)
    path = write_qr_png(issued.text, args.out)
    out = issued.to_json() | {"image": str(path)}
    if args.json:
        print_json(out)
    else:
        print(f"issued pass {issued.pass_id} for {issued.resident.name} (id {issued.resident.id}), "
              f"valid until {issued.expires_at.astimezone().isoformat()}" + (", single use" if issued.single_use else "")
              + f"\n  QR: {path}")
    return 0


def cmd_pass_revoke(args) -> int:
    from dabai.gate.passes import revoke_pass

    _, _, reg = _open(args)
    out = revoke_pass(reg, args.pass_id, args.reason)
    if args.json:
        print_json(out)
    else:
        print(f"revoked pass {out['pass_id']} at {out['revoked_at']}")
        if not out["known"]:
            print("note: this registry has no record of that pass (issued elsewhere?); it is refused all the same")
    return 0


def cmd_pass_import(args) -> int:
    from pathlib import Path

    from dabai.core.images import is_image
    from dabai.core.images import read_bgr as read_image
    from dabai.gate.keys import load_public_keys
    from dabai.gate.passes import import_pass
    from dabai.gate.qr import decode_qr, pick_pass_text

    home, _, reg = _open(args)
    keys = load_public_keys(home)
    done, errors = [], []
    for source in args.sources:
        path = Path(source)
        try:
            if is_image(path):
                texts = [pick_pass_text(decode_qr(read_image(path)))]
                if texts[0] is None:
                    raise DabaiError("no QR code found in the image")
            else:
                if not path.is_file():
                    raise DabaiError("file not found")
                texts = [t.strip() for t in path.read_text(encoding="utf-8", errors="replace").splitlines()[:10000]]
                texts = [t for t in texts if t]
        except DabaiError as exc:
            errors.append(f"{path}: {exc}")
            continue
        for text in texts:
            try:
                done.append(import_pass(reg, keys, text))
            except DabaiError as exc:
                errors.append(f"{path}: {exc}")
    if args.json:
        print_json({"imported": done, "errors": errors})
    else:
        for e in errors:
            print(e, file=sys.stderr)
        for d in done:
            print(f"{'already recorded' if d['already'] else 'recorded'}: pass {d['pass_id']} for {d['name']} "
                  f"(id {d['resident_id']}), until {d['expires_at']}")
    return 1 if errors else 0


def cmd_pass_verify(args) -> int:
    from dabai.core.images import read_bgr as read_image
    from dabai.gate.keys import load_public_keys
    from dabai.gate.passes import verify_text
    from dabai.gate.qr import decode_qr, pick_pass_text

    home, cfg, reg = _open(args)
    text = pick_pass_text(decode_qr(read_image(args.image)))
    check = verify_text(reg, load_public_keys(home), text, clock_skew_s=cfg.passes.clock_skew_s)
    p = check.payload
    out = {"valid": check.valid, "reason": check.reason, "detail": check.detail,
           "pass_id": p.pass_id if p else None, "resident_id": p.resident_id if p else None,
           "name": p.name if p else None, "expires_at": p.expires_at.isoformat() if p else None}
    if args.json:
        print_json(out)
    elif check.valid:
        print(f"valid: pass {p.pass_id} for {check.resident.name} (id {p.resident_id}), "
              f"expires {p.expires_at.astimezone().isoformat()}")
    else:
        print(f"refused: {check.reason} ({check.detail})")
    return 0 if check.valid else 1


def cmd_pass_list(args) -> int:
    from dabai.gate.passes import list_passes
    from dabai.gate.residents import find_resident

    _, _, reg = _open(args)
    rid = find_resident(reg, args.resident, include_inactive=True).id if args.resident else None
    rows = list_passes(reg, rid)
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        state = "revoked" if r["revoked"] else ("used" if r["used"] else "")
        print(f"{r['pass_id']}  {r['name']:<10} until {r['expires_at']}  {'single-use ' if r['single_use'] else ''}{state}")
    return 0


def _register_gate(sub) -> None:
    from dabai.cli import gate_run

    gate_run.register(sub, _common)


def cmd_bench(args) -> int:
    from dabai.gate.bench import format_report, run_bench

    report = run_bench(runs=args.runs, model=args.model, with_turn=not args.no_turn)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0
