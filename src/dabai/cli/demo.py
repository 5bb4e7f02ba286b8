"""``dabai demo``: the gate end to end on built-in samples (see dabai.gate.demo)."""

from __future__ import annotations

from dabai.cli.common import add_command, print_json


def register(sub) -> None:
    p = add_command(
        sub, "demo", cmd_demo, "the gate end to end on built-in samples (no files needed)",
        description="Creates a temporary gate home with keys, a resident and passes; builds seven visitors from "
                    "scikit-image's sample photo (one with a drawn-on mask); speaks their requests with the TTS; "
                    "runs the gate check for each; prints the decisions and writes annotated images and reply "
                    "WAVs to the folder it names.",
        examples="  dabai demo\n  dabai demo --out demo-out\n  dabai demo --no-speech --json\n")
    p.add_argument("--out", help="empty or new folder for the results (default: a new temporary folder)")
    p.add_argument("--model", help="mask detector model (default: the shipped one)")
    p.add_argument("--no-speech", action="store_true", help="skip TTS/ASR (requests given as intents)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")


def cmd_demo(args) -> int:
    from dabai.gate.demo import run_demo

    summary = run_demo(args.out, model=args.model, speech=not args.no_speech,
                       echo=(lambda *a, **k: None) if args.json else print)
    if args.json:
        print_json(summary)
    return 0
