"""``dabai gate``: check one visitor, run the live loop, install the service, serve the console, read the log.

The registry's other groups have their own modules: ``residents``, ``keys``, ``pass_`` (``dabai pass``); the
gate benchmark is ``dabai bench gate`` (``dabai.cli.bench``).
"""

from __future__ import annotations

import sys

from dabai.cli.common import add_command, add_gate_options, add_group, open_gate_of, print_json
from dabai.core.errors import DabaiError

INTENTS = ("enter", "visitor", "courier", "leave", "help", "none")


def register(sub) -> None:
    g = add_group(sub, "gate", "run the gate: check a visitor, live loop, web console, event log",
                  examples="  dabai gate check --image face.jpg --qr pass.png --intent enter --json\n"
                           "  dabai gate run --camera 0 --mic\n  dabai gate serve --port 8700\n")
    p = add_gate_options(add_command(
        g, "check", cmd_check, "check one visitor and print the decision (exit 0 allow, 1 deny)",
        description="Check one visitor: mask detector on FACE, the pass QR (from --qr, else found in FACE), "
                    "the request (heard from --audio, or given with --intent), then the decision, written to "
                    "the event log. --json prints the gate's one result shape (docs/gate.md, 'One result'): "
                    "{event_id, time, gate_id, allow, reasons, intent, transcript, resident, mask, pass, reply_text, "
                    "reply_audio, reply_cached (the reply came from the cache), speech_note (set when replies "
                    "are not in the gate's own voice), snapshot, door, door_detail, latency_ms}.",
        examples="  dabai gate check --image face.jpg --qr pass.png --intent enter\n"
                 "  dabai gate check --image visitor.jpg --audio request.wav --json\n"))
    p.add_argument("--image", required=True, help="photo of the visitor (the QR may be in it too)")
    p.add_argument("--qr", help="photo of the pass QR (default: look for it in --image)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--audio", help="the spoken request (WAV); transcribed to find the intent")
    how.add_argument("--intent", choices=INTENTS, help="the request, when it is already known")
    p.add_argument("--model", help="mask detector model (default: the shipped one)")
    p.add_argument("--no-reply-audio", action="store_true", help="do not render the reply to WAV")

    p = add_gate_options(add_command(
        g, "run", cmd_run, "run the live gate loop on a camera or a video",
        description="Live loop: idle -> visitor present -> checking -> allow/deny -> idle. Decisions are "
                    "debounced over several frames; replies are played (--play) or written to --replies DIR; "
                    "denied visitors are snapshotted under HOME/snapshots with a retention limit.",
        examples="  dabai gate run --camera 0 --mic --play\n"
                 "  dabai gate run --video visitors.mp4 --audio request.wav --replies out/\n"
                 "  dabai gate run --video visitors.mp4 --intent enter --max-frames 300 --json\n"
                 "  dabai gate run --camera rtsp://user:pw@192.168.1.64:554/Streaming/Channels/102 --intent enter "
                 "--health-port 8701\n"), json_flag=True)
    p.epilog += ("--json prints one JSON line per decision as it happens (the shape of 'gate check --json'), "
                 "then a last line {\"summary\": …}.\n")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", help="camera index (e.g. 0) or stream URL (rtsp://..., http://...); "
                                      "default: camera.source in gate.yaml")
    src.add_argument("--video", help="video file to play as the camera")
    p.add_argument("--realtime", action="store_true",
                   help="with --video: play it at its frame rate, looping, like a live camera")
    ear = p.add_mutually_exclusive_group()
    ear.add_argument("--audio", help="a request recording, heard when each visitor arrives")
    ear.add_argument("--mic", action="store_true", help="listen on the default microphone")
    ear.add_argument("--intent", choices=INTENTS, help="assume this request (no listening)")
    p.add_argument("--replies", help="write each reply WAV into this folder")
    p.add_argument("--play", action="store_true", help="play replies on the default audio output")
    p.add_argument("--no-reply-audio", action="store_true", help="do not render replies to audio (texts only)")
    p.add_argument("--model", help="mask detector model (default: the shipped one)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--fps", type=float, help="video frame rate to assume (default: from the file, else 15)")
    p.add_argument("--health-port", type=int, help="serve /healthz and /metrics on 127.0.0.1:PORT "
                                                   "(default: health.port in gate.yaml; 0: any free port)")

    p = add_command(
        g, "install-service", cmd_install_service, "write a systemd unit that runs 'gate run' at boot",
        description="Write NAME.service (default dabai-gate) running 'dabai gate run --home HOME RUN_ARGS' as a "
                    "dedicated system user, the home under /var/lib with mode 0700, restart on failure, journal "
                    "logging, sandboxing and a watchdog; then print the commands that enable it. Put the camera, "
                    "door and health settings in HOME/gate.yaml.",
        examples="  dabai gate install-service --run-args '--intent enter' --dry-run\n"
                 "  sudo dabai gate install-service --run-args '--mic --play'\n"
                 "  dabai gate install-service --out ./unit --run-args '--camera rtsp://cam.local/stream1 --intent enter'\n")
    p.add_argument("--run-args", default="", help="arguments of 'dabai gate run' in the unit (checked now)")
    p.add_argument("--home", default="/var/lib/dabai", help="the service's gate home (default /var/lib/dabai)")
    p.add_argument("--user", default="dabai", help="the system user it runs as (default dabai)")
    p.add_argument("--name", default="dabai-gate", help="unit name (default dabai-gate)")
    p.add_argument("--devices", action="store_true",
                   help="allow local devices (camera index, microphone; implied by --mic or --camera N)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", help="write the unit into this folder (default /etc/systemd/system)")
    where.add_argument("--dry-run", action="store_true", help="print the unit, write nothing")
    p.add_argument("--force", action="store_true", help="replace an existing unit file")
    p.add_argument("--python", help="the interpreter the unit runs, with dabai installed (default: this one); it "
                                    "must be reachable by the service user, e.g. a venv under /opt, not /root")

    p = add_gate_options(add_command(
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

    p = add_gate_options(add_command(
        g, "logout-all", cmd_logout_all, "end every console session (of one user, or of all users)",
        examples="  dabai gate logout-all\n  dabai gate logout-all admin\n"), json_flag=False)
    p.add_argument("user", nargs="?", help="only this user's sessions (default: everyone's)")

    p = add_gate_options(add_command(
        g, "passwd", cmd_passwd, "create a console login or change its password",
        examples="  dabai gate passwd admin\n  echo 'long secret' | dabai gate passwd admin --password-stdin\n"),
        json_flag=False)
    p.add_argument("user")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    p = add_gate_options(add_command(
        g, "events", cmd_events, "show the decision log (newest first)",
        examples="  dabai gate events --outcome deny --limit 20\n  dabai gate events --reason pass_expired --json\n"))
    p.add_argument("--outcome", choices=("allow", "deny"))
    p.add_argument("--reason", help="only events with this reason code (e.g. no_mask)")
    p.add_argument("--resident", type=int, help="only this resident id")
    p.add_argument("--limit", type=int, default=50)


def cmd_check(args) -> int:
    from dabai.gate.check import GateChecker

    home, cfg, reg = open_gate_of(args)
    checker = GateChecker(home, reg, cfg, model_path=args.model)
    result = checker.check(args.image, qr_image=args.qr, audio=args.audio, intent=args.intent,
                           reply_audio=not args.no_reply_audio)
    if result.speech_note:
        print(f"note: {result.speech_note}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
    else:
        print(("ALLOW" if result.allow else "DENY ") + f"  {result.reply_text}")
        if result.reasons:
            print("  reasons: " + ", ".join(result.reasons))
        print(f"  total {result.latency_ms['total_ms']:.0f} ms (event {result.event_id})")
    return 0 if result.allow else 1


def cmd_run(args) -> int:
    from dabai.gate.session import SessionOptions, run_session

    home, cfg, reg = open_gate_of(args)
    from dabai.gate.camera import parse_source

    if args.realtime and not args.video:
        raise DabaiError("--realtime plays a --video file like a camera; give --video FILE")
    opts = SessionOptions(camera=None if args.camera is None else parse_source(args.camera), video=args.video,
                          realtime=args.realtime, audio=args.audio, mic=args.mic,
                          intent=args.intent, replies_dir=args.replies, play=args.play, model=args.model,
                          max_frames=args.max_frames, fps=args.fps, health_port=args.health_port,
                          speak=not args.no_reply_audio)
    summary = run_session(home, cfg, reg, opts, on_decision=_print_result_line if args.json else _print_decision)
    if args.json:  # the decisions were streamed already; a kill loses nothing but this line
        _print_json_line({"summary": {k: v for k, v in summary.items() if k != "events"}})
    else:
        cam = summary["camera"]
        print(f"{summary['frames']} frames, {summary['visitors']} visitor(s), {summary['allowed']} allowed, "
              f"{summary['bad_frames']} bad frame(s); {summary['fps_average']:.1f} fps processed"
              + (f", {cam['frames_dropped']} dropped, {cam['reconnects']} reconnect(s)" if cam else "")
              + f" ({summary['stopped']})")
        if summary.get("speech_note"):
            print(f"note: {summary['speech_note']}", file=sys.stderr)
    return 0


def _print_decision(result) -> None:
    print(f"[{result.time.astimezone():%H:%M:%S}] {'ALLOW' if result.allow else 'DENY '} {result.reply_text}"
          + (f"  ({', '.join(result.reasons)})" if result.reasons else "")
          + (f"  door {result.door}" if result.door in ("opened", "failed") else ""), flush=True)


def _print_result_line(result) -> None:
    _print_json_line(result.to_json())


def cmd_install_service(args) -> int:
    from pathlib import Path

    from dabai.gate.service import (
        DEFAULT_UNIT_DIR,
        ServiceSpec,
        enable_steps,
        reach_problems,
        render_unit,
        run_args_from,
        verify_unit,
        write_unit,
    )

    run_args = run_args_from(args.run_args)
    run = _check_run_args(run_args)
    devices = args.devices or run.mic or (run.camera is not None and run.camera.strip().isdigit())
    if run.camera is not None and "@" in run.camera:
        print("warning: the camera URL's credentials will be in the unit file, which every user can read; put it "
              f"in {args.home}/gate.yaml as camera.source instead (the home is 0700)", file=sys.stderr)
    spec = ServiceSpec(name=args.name, user=args.user, home=args.home, run_args=run_args, devices=devices,
                       **({"python": args.python} if args.python else {}))
    problems = reach_problems(spec)
    if problems:
        why = "; ".join(problems)
        advice = ("install dabai in an environment every user can reach, e.g. `python3 -m venv /opt/dabai && "
                  "/opt/dabai/bin/pip install dabai[gate]`, and pass --python /opt/dabai/bin/python")
        if not args.dry_run:
            raise DabaiError(f"the service could not start (systemd would report 203/EXEC): {why}; {advice}")
        print(f"warning: the service could not start: {why}; {advice}", file=sys.stderr)
    if args.dry_run:
        print(render_unit(spec), end="")
        return 0
    path = write_unit(spec, Path(args.out) if args.out else DEFAULT_UNIT_DIR, force=args.force)
    print(f"wrote {path}")
    checked = verify_unit(path)
    if checked is None:
        print("note: systemd-analyze is not installed; the unit was not verified", file=sys.stderr)
    elif not checked[0]:
        print(f"systemd-analyze verify {path}:\n{checked[1]}", file=sys.stderr)
    print("to enable it (as root):")
    for step in enable_steps(spec, path):
        print(f"  {step}")
    print(f"then put the gate's settings in {spec.home}/gate.yaml (camera, door, health) - see docs/gate.md")
    return 0


def _check_run_args(run_args: list[str]):
    """Parse ``run_args`` with the real 'gate run' parser so a typo fails now, not at boot."""
    import argparse
    import contextlib
    import io

    from dabai.cli.main import build_parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(["gate", "run", *run_args])
    except SystemExit:
        msg = err.getvalue().strip().splitlines()
        raise DabaiError(f"--run-args {' '.join(run_args)!r}: not valid for 'dabai gate run': "
                         f"{msg[-1] if msg else 'see dabai gate run --help'}") from None
    except argparse.ArgumentError as exc:
        raise DabaiError(f"--run-args: {exc}") from None


def _print_json_line(obj: dict) -> None:
    import json

    print(json.dumps(obj, ensure_ascii=False), flush=True)


def cmd_serve(args) -> int:
    from dabai.gate.console.app import serve

    home, cfg, reg = open_gate_of(args)
    serve(home, cfg, reg, host=args.host, port=args.port, trusted_proxy=args.trusted_proxy,
          secure_cookies=args.secure_cookies)
    return 0


def cmd_logout_all(args) -> int:
    from dabai.gate.console.auth import end_sessions

    _, _, reg = open_gate_of(args)
    print(f"ended {end_sessions(reg, args.user)} console session(s)")
    return 0


def cmd_passwd(args) -> int:
    import getpass

    from dabai.gate.console.auth import set_password

    _, _, reg = open_gate_of(args)
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

    _, _, reg = open_gate_of(args)
    rows = query_events(reg, outcome=args.outcome, reason=args.reason, resident=args.resident, limit=args.limit)
    if args.json:
        print_json([e.to_json() for e in rows])  # the same shape as 'gate check --json' (docs/gate.md)
        return 0
    for e in rows:
        who = e.resident_name or (f"resident {e.resident_id}" if e.resident_id else "-")
        print(f"{e.event_id:>6} {e.time.astimezone():%Y-%m-%d %H:%M:%S} {e.gate_id:<8} {'allow' if e.allow else 'deny '} "
              f"{who:<10} {','.join(e.reasons) or '-'}" + (f"  door {e.door}" if e.door else ""))
    return 0
