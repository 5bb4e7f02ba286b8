"""``dabai residents``: the residents registry (add, reading, check-names, list, remove, import).

Thin layer over :mod:`dabai.gate.residents` and :mod:`dabai.gate.names`; every command takes the gate options
(``--home``, ``--db``, ``--config``, ``--json``) of :func:`dabai.cli.common.add_gate_options`.
"""

from __future__ import annotations

import sys

from dabai.cli.common import add_command, add_gate_options, add_group, open_gate_of, print_json
from dabai.core.errors import DabaiError


def register(sub) -> None:
    g = add_group(sub, "residents", "manage the residents registry",
                  examples="  dabai residents add 张三 --unit 3-1-402 --phone 13800000000\n"
                           "  dabai residents add 曾小燕 --reading 'zeng1 xiao3 yan4'\n"
                           "  dabai residents list --json\n  dabai residents import residents.csv\n"
                           "  dabai residents check-names\n")
    p = add_gate_options(add_command(g, "add", cmd_residents_add,
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
    p = add_gate_options(add_command(g, "reading", cmd_residents_reading,
                                     "set (or with '' clear) how a resident's name is said, re-render and re-check it",
                                     examples="  dabai residents reading 曾小燕 'zeng1 xiao3 yan4'\n  dabai residents reading 7 ''\n"))
    p.add_argument("resident", help="resident id or unambiguous name")
    p.add_argument("reading", help="tone-numbered pinyin, e.g. 'zeng1 xiao3 yan4' ('' clears it)")
    _speech_flag(p)
    p = add_gate_options(add_command(g, "check-names", cmd_residents_check_names,
                                     "say each resident's greeting, hear it back with the ASR and list the names that do not "
                                     "come back (compared as tonal pinyin; homophones count as right); exit 1 if any",
                                     examples="  dabai residents check-names\n  dabai residents check-names 曾小燕 --json\n"))
    p.add_argument("residents", nargs="*", help="resident ids or names (default: every active resident)")
    p = add_gate_options(add_command(g, "list", cmd_residents_list, "list residents",
                                     examples="  dabai residents list\n  dabai residents list --all --json\n"))
    p.add_argument("--all", action="store_true", help="include removed (inactive) residents")
    p = add_gate_options(add_command(g, "remove", cmd_residents_remove,
                                     "remove a resident (deactivates: their passes stop working, history is kept)",
                                     examples="  dabai residents remove 3\n  dabai residents remove 张三\n"))
    p.add_argument("resident", help="resident id or unambiguous name")
    p = add_gate_options(add_command(g, "import", cmd_residents_import,
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

    home, cfg, reg = open_gate_of(args)
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

    home, cfg, reg = open_gate_of(args)
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

    home, cfg, reg = open_gate_of(args)
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

    _, _, reg = open_gate_of(args)
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

    _, _, reg = open_gate_of(args)
    r = remove_resident(reg, args.resident)
    if args.json:
        print_json(r.to_json())
    else:
        print(f"removed resident {r.id}: {r.name} (their passes no longer open the gate)")
    return 0


def cmd_residents_import(args) -> int:
    from dabai.gate.residents import import_csv

    home, cfg, reg = open_gate_of(args)
    report = import_csv(reg, args.csv)
    if not args.json:
        for line, msg in report.errors:
            print(f"{args.csv}:{line}: {msg}", file=sys.stderr)
        print(f"imported {len(report.added)} resident(s); {len(report.errors)} bad row(s) skipped")
    speech = _enrol(args, cfg, home, report.added)
    if args.json:
        print_json(report.to_json() | {"speech": speech})
    return 1 if report.errors else 0
