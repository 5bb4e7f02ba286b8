"""``dabai audio prep|check|split-phrases|manifest``: audio data tools (thin over :mod:`dabai.audio`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dabai.cli.common import add_command, add_group, print_json
from dabai.core.errors import ConfigError

EXAMPLES = """\
  dabai audio prep raw/ clean/ --rate 44100 --mono --trim --normalize
  dabai audio check clean/ --json
  dabai audio split-phrases "您好，张三，欢迎回家，二维码有效请您通过。" rec/*.wav --out phrases/
  dabai audio manifest clean/ --out train.jsonl
"""


def register(sub) -> None:
    g = add_group(sub, "audio", "audio data tools: prep, check, split-phrases, manifest", EXAMPLES)

    p = add_command(g, "prep", _cmd_prep, "resample, mix to mono, trim silence and normalise loudness (file or folder)",
                    "  dabai audio prep raw/ clean/ --rate 44100 --mono --trim --normalize\n"
                    "  dabai audio prep take3.flac take3.wav --rate 16000 --mono\n",
                    description="Clean recordings for training or playback. A folder is processed recursively into "
                                "a mirrored folder of WAVs; the originals are never overwritten. Without any of "
                                "--mono/--trim/--normalize only the rate is changed.")
    p.add_argument("input", help="audio file or folder")
    p.add_argument("output", help="output .wav file or folder")
    p.add_argument("--rate", type=int, default=44100, help="output sample rate (default 44100; 0 keeps it)")
    p.add_argument("--mono", action="store_true", help="mix channels down to mono")
    p.add_argument("--trim", action="store_true", help="trim leading/trailing silence")
    p.add_argument("--normalize", action="store_true", help="normalise speech loudness to --target-dbfs")
    p.add_argument("--target-dbfs", type=float, default=-20.0, help="speech level after --normalize (default -20)")
    p.add_argument("--trim-db", type=float, default=-40.0, help="silence threshold below the loudest frame (default -40)")

    p = add_command(g, "check", _cmd_check, "report rate, channels, clipping, silence, SNR and duration outliers",
                    "  dabai audio check recordings/\n  dabai audio check a.wav b.wav --json > report.json\n")
    p.add_argument("inputs", nargs="+", help="audio files or folders")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--rate", type=int, help="expected sample rate (default: the majority)")
    p.add_argument("--min-snr", type=float, default=15.0, help="flag files below this SNR estimate (default 15 dB)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any file has an issue")

    p = add_command(g, "split-phrases", _cmd_split, "cut recordings of a template sentence into phrase clips + texts",
                    '  dabai audio split-phrases "您好，张三，欢迎回家，二维码有效请您通过。" rec/ --out phrases/\n',
                    description="Split each recording of TEMPLATE at its pauses into one clip per phrase (the "
                                "template's punctuation defines the phrases) and write phrases/manifest.jsonl "
                                "(NeMo format), multiplying a small TTS dataset.")
    p.add_argument("template", help="the sentence that was read, with its punctuation")
    p.add_argument("inputs", nargs="+", help="recordings (files or folders)")
    p.add_argument("--out", required=True, type=Path, help="output folder for clips and manifest.jsonl")

    p = add_command(g, "manifest", _cmd_manifest, "write a NeMo JSONL manifest (audio_filepath, duration, text)",
                    "  dabai audio manifest clean/ --out train.jsonl             # texts from a.txt beside a.wav\n"
                    "  dabai audio manifest clean/ --labels texts.tsv --out train.jsonl --relative\n")
    p.add_argument("folder", help="folder of recordings")
    p.add_argument("--out", required=True, type=Path, help="manifest path (.jsonl)")
    p.add_argument("--labels", type=Path, help="file<TAB>text table (or CSV with file,text) instead of .txt sidecars")
    p.add_argument("--relative", action="store_true", help="store paths relative to the manifest's folder")


def _cmd_prep(args: argparse.Namespace) -> int:
    from dabai.audio.prep import PrepOptions, prep

    if args.rate < 0:
        raise ConfigError(f"--rate must be positive (or 0 to keep it), got {args.rate}")
    opts = PrepOptions(rate=args.rate or None, mono=args.mono, trim=args.trim, normalize=args.normalize,
                       target_dbfs=args.target_dbfs, trim_db=args.trim_db)
    results = prep(args.input, args.output, opts)
    total_in = sum(r.duration_in_s for r in results)
    total_out = sum(r.duration_out_s for r in results)
    print(f"prepared {len(results)} file(s): {total_in:.1f} s in, {total_out:.1f} s out → {args.output}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from dabai.audio.check import CheckLimits, check

    report = check(args.inputs, CheckLimits(expect_rate=args.rate, min_snr_db=args.min_snr))
    if args.json:
        print_json(report.to_dict())
    else:
        for r in report.files:
            head = f"{r.file}: {r.rate} Hz, {r.channels} ch, {r.duration_s} s, SNR~{r.snr_db} dB"
            print(head + (f"  ← {'; '.join(r.issues)}" if r.issues else ""))
        print(f"{len(report.files)} files, rates {report.rates}, channels {report.channels}, "
              f"median {report.median_duration_s} s; {report.problems} with issues")
    return 1 if args.strict and report.problems else 0


def _cmd_split(args: argparse.Namespace) -> int:
    from dabai.audio.io import expand_inputs
    from dabai.audio.manifest import write_manifest
    from dabai.audio.phrases import split_recording, template_phrases

    phrases = template_phrases(args.template)
    entries, guessed = [], []
    for f in expand_inputs(args.inputs):
        got, in_pauses = split_recording(f, phrases, args.out)
        entries += got
        if not in_pauses:
            guessed.append(str(f))
    manifest = write_manifest(entries, args.out / "manifest.jsonl")
    print(f"{len(entries)} phrase clips ({len(phrases)} per recording) → {args.out}; manifest {manifest}")
    for f in guessed:
        print(f"note: {f}: too few pauses; some cuts were placed at the quietest point near the expected position")
    return 0


def _cmd_manifest(args: argparse.Namespace) -> int:
    from dabai.audio.manifest import collect, write_manifest

    base = args.out.resolve().parent if args.relative else None
    entries = collect(args.folder, args.labels, relative_to=base)
    write_manifest(entries, args.out)
    print(f"{len(entries)} entries, {sum(e.duration for e in entries):.1f} s → {args.out}")
    return 0
