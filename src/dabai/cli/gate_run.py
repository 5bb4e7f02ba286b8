"""The ``dabai gate`` group: check one visitor, run the live loop, serve the console, read the log.

Split from ``dabai.cli.gate`` (residents, keys, passes) to keep each module small.
"""

from __future__ import annotations

import sys

from dabai.cli.common import add_command, add_group, print_json
from dabai.errors import DabaiError

INTENTS = ("enter", "leave", "none")


def register(sub, common) -> None:
    g = add_group(sub, "gate", "run the gate: check a visitor, live loop, web console, event log",
                  examples="  dabai gate check --image face.jpg --qr pass.png --intent enter --json\n"
                           "  dabai gate run --camera 0 --mic\n  dabai gate serve --port 8700\n")
    p = common(add_command(
        g, "check", cmd_check, "check one visitor and print the decision (exit 0 allow, 1 deny)",
        description="Check one visitor: mask detector on FACE, the pass QR (from --qr, else found in FACE), "
                    "the request (heard from --audio, or given with --intent), then the decision, written to "
                    "the event log. --json prints {allow, reasons, resident, mask, pass, intent, reply_text, "
                    "reply_audio, latency_ms}.",
        examples="  dabai gate check --image face.jpg --qr pass.png --intent enter\n"
                 "  dabai gate check --image visitor.jpg --audio request.wav --json\n"))
    p.add_argument("--image", required=True, help="photo of the visitor (the QR may be in it too)")
    p.add_argument("--qr", help="photo of the pass QR (default: look for it in --image)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--audio", help="the spoken request (WAV); transcribed to find the intent")
    how.add_argument("--intent", choices=INTENTS, help="the request, when it is already known")
    p.add_argument("--model", help="mask detector model (default: the shipped one)")
    p.add_argument("--no-reply-audio", action="store_true", help="do not render the reply to WAV")

    p = common(add_command(
        g, "run", cmd_run, "run the live gate loop on a camera or a video",
        description="Live loop: idle -> visitor present -> checking -> allow/deny -> idle. Decisions are "
                    "debounced over several frames; replies are played (--play) or written to --replies DIR; "
                    "denied visitors are snapshotted under HOME/snapshots with a retention limit.",
        examples="  dabai gate run --camera 0 --mic --play\n"
                 "  dabai gate run --video visitors.mp4 --audio request.wav --replies out/\n"
                 "  dabai gate run --video visitors.mp4 --intent enter --max-frames 300 --json\n"), json_flag=True)
    p.epilog += "--json prints one JSON line per decision as it happens, then a last line {\"summary\": …}.\n"
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, help="camera index (e.g. 0)")
    src.add_argument("--video", help="video file to play as the camera")
    ear = p.add_mutually_exclusive_group()
    ear.add_argument("--audio", help="a request recording, heard when each visitor arrives")
    ear.add_argument("--mic", action="store_true", help="listen on the default microphone")
    ear.add_argument("--intent", choices=INTENTS, help="assume this request (no listening)")
    p.add_argument("--replies", help="write each reply WAV into this folder")
    p.add_argument("--play", action="store_true", help="play replies on the default audio output")
    p.add_argument("--model", help="mask detector model (default: the shipped one)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--fps", type=float, help="video frame rate to assume (default: from the file, else 15)")

    p = common(add_command(
        g, "serve", cmd_serve, "serve the local web console (login required)",
        description="Local web console: latest frame with boxes, decision log with filters, residents, pass "
                    "issue/revoke. All assets are served locally. Create a login first with "
                    "'dabai gate passwd admin'.",
        examples="  dabai gate passwd admin\n  dabai gate serve --host 127.0.0.1 --port 8700\n"), json_flag=False)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8700)
    p.add_argument("--trusted-proxy", metavar="ADDRS",
                   help="believe X-Forwarded-For/-Proto only from these comma-separated proxy addresses "
                        "(default: none; the rate limit keys on the TCP peer)")
    p.add_argument("--secure-cookies", action="store_true",
                   help="mark cookies Secure (TLS ends at a proxy); https requests always get Secure cookies")

    p = common(add_command(
        g, "logout-all", cmd_logout_all, "end every console session (of one user, or of all users)",
        examples="  dabai gate logout-all\n  dabai gate logout-all admin\n"), json_flag=False)
    p.add_argument("user", nargs="?", help="only this user's sessions (default: everyone's)")

    p = common(add_command(
        g, "passwd", cmd_passwd, "create a console login or change its password",
        examples="  dabai gate passwd admin\n  echo 'long secret' | dabai gate passwd admin --password-stdin\n"),
        json_flag=False)
    p.add_argument("user")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    p = common(add_command(
        g, "events", cmd_events, "show the decision log (newest first)",
        examples="  dabai gate events --outcome deny --limit 20\n  dabai gate events --reason pass_expired --json\n"))
    p.add_argument("--outcome", choices=("allow", "deny"))
    p.add_argument("--reason", help="only events with this reason code (e.g. no_mask)")
    p.add_argument("--resident", type=int, help="only this resident id")
    p.add_argument("--limit", type=int, default=50)


def cmd_check(args) -> int:
    from dabai.gate.check import GateChecker

    home, cfg, reg = _open(args)
    checker = GateChecker(home, reg, cfg, model_path=args.model)
    result = checker.check(args.image, qr_image=args.qr, audio=args.audio, intent=args.intent,
                           reply_audio=not args.no_reply_audio)
    if result.reply_note and not args.no_reply_audio:
        print(f"note: {result.reply_note}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
    else:
        d = result.decision
        print(("ALLOW" if d.allow else "DENY ") + f"  {d.reply_text}")
        if d.reasons:
            print("  reasons: " + ", ".join(d.reasons))
        print(f"  total {result.latency_ms['total_ms']:.0f} ms (event {result.event_id})")
    return 0 if result.decision.allow else 1


def cmd_run(args) -> int:
    from dabai.gate.session import SessionOptions, run_session

    home, cfg, reg = _open(args)
    opts = SessionOptions(camera=args.camera, video=args.video, audio=args.audio, mic=args.mic,
                          intent=args.intent, replies_dir=args.replies, play=args.play, model=args.model,
                          max_frames=args.max_frames, fps=args.fps)
    summary = run_session(home, cfg, reg, opts, on_decision=_print_json_line if args.json else _print_decision)
    if args.json:  # the decisions were streamed already; a kill loses nothing but this line
        _print_json_line({"summary": {k: v for k, v in summary.items() if k != "events"}})
    else:
        print(f"{summary['frames']} frames, {summary['visitors']} visitor(s), {summary['allowed']} allowed, "
              f"{summary['bad_frames']} bad frame(s)")
    return 0


def _print_decision(event: dict) -> None:
    print(f"[{event['time']}] {'ALLOW' if event['allow'] else 'DENY '} {event['reply_text']}"
          + (f"  ({', '.join(event['reasons'])})" if event["reasons"] else ""), flush=True)


def _print_json_line(obj: dict) -> None:
    import json

    print(json.dumps(obj, ensure_ascii=False), flush=True)


def cmd_serve(args) -> int:
    from dabai.gate.console.app import serve

    home, cfg, reg = _open(args)
    serve(home, cfg, reg, host=args.host, port=args.port, trusted_proxy=args.trusted_proxy,
          secure_cookies=args.secure_cookies)
    return 0


def cmd_logout_all(args) -> int:
    from dabai.gate.console.auth import end_sessions

    _, _, reg = _open(args)
    print(f"ended {end_sessions(reg, args.user)} console session(s)")
    return 0


def cmd_passwd(args) -> int:
    import getpass

    from dabai.gate.console.auth import set_password

    _, _, reg = _open(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        try:
            password = getpass.getpass(f"password for {args.user}: ")
            if getpass.getpass("again: ") != password:
                raise DabaiError("the two passwords differ; nothing was changed")
        except EOFError:
            raise DabaiError("no password was typed (standard input is closed); nothing was changed. "
                             "To script it: echo 'long secret' | dabai gate passwd USER --password-stdin") from None
    set_password(reg, args.user, password)
    print(f"console login {args.user!r} saved (its earlier sessions were ended)")
    return 0


def cmd_events(args) -> int:
    from dabai.gate.events import query_events

    _, _, reg = _open(args)
    rows = query_events(reg, outcome=args.outcome, reason=args.reason, resident=args.resident, limit=args.limit)
    if args.json:
        print_json([e.to_json() for e in rows])
        return 0
    for e in rows:
        who = e.resident_name or (f"resident {e.resident_id}" if e.resident_id else "-")
        print(f"{e.id:>6} {e.time.astimezone():%Y-%m-%d %H:%M:%S} {e.gate_id:<8} {'allow' if e.allow else 'deny '} "
              f"{who:<10} {','.join(e.reasons) or '-'}")
    return 0


def _open(args):
    from dabai.gate.context import open_gate

    return open_gate(args.home, args.db, args.config)
