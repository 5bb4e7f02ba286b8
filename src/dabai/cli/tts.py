"""``dabai tts``: say a text in Mandarin into a WAV (the gate's voice)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dabai.cli.common import add_command
from dabai.core.errors import ConfigError

TTS_EXAMPLES = """\
  dabai tts "您好，张三，欢迎回家，二维码有效请您通过。" --out welcome.wav
  dabai tts "请正确佩戴口罩。" --out mask.wav --voice zm_yunxi --rate 22050
  echo "请出示您的通行二维码。" | dabai tts - --out pass.wav
  dabai tts --list-voices
"""


def register(sub) -> None:
    p = add_command(
        sub, "tts", _cmd_tts, "speak Mandarin text into a WAV file (Kokoro-82M; espeak-ng fallback)", TTS_EXAMPLES,
        description="Synthesize natural Mandarin with Kokoro-82M (int8 ONNX, misaki[zh] G2P), or espeak-ng when the "
                    "Kokoro pack is missing. Writes mono 16-bit WAV at --rate, loudness-normalised, silence trimmed.")
    p.add_argument("text", nargs="?", help="text to speak ('-' reads standard input)")
    p.add_argument("--out", "-o", metavar="FILE.wav", help="output WAV path")
    p.add_argument("--voice", help="voice name (default zf_xiaobei; see --list-voices)")
    p.add_argument("--rate", type=int, default=44100, help="output sample rate in Hz (default 44100)")
    p.add_argument("--speed", type=float, default=1.0, help="speaking rate factor, 0.5–2 (default 1)")
    p.add_argument("--engine", choices=["auto", "kokoro", "espeak"], default="auto", help="TTS engine (default auto)")
    p.add_argument("--no-trim", action="store_true", help="keep leading/trailing silence")
    p.add_argument("--no-normalize", action="store_true", help="keep the engine's level")
    p.add_argument("--list-voices", action="store_true", help="print the installed voices and exit")


def _cmd_tts(args: argparse.Namespace) -> int:
    from dabai.audio.io import write_wav
    from dabai.speech.tts import TTSOptions, speech_note, synthesize, voices

    if args.list_voices:
        print("\n".join(voices(args.engine)))
        return 0
    if not args.text or not args.out:
        raise ConfigError("give the text and --out FILE.wav (or --list-voices)")
    text = sys.stdin.read() if args.text == "-" else args.text
    out = Path(args.out)
    if out.suffix.lower() != ".wav":
        raise ConfigError(f"--out {out}: expected a .wav path")
    opts = TTSOptions(speed=args.speed, engine=args.engine, trim=not args.no_trim, normalize=not args.no_normalize)
    audio = synthesize(text, voice=args.voice, rate=args.rate, options=opts)
    write_wav(audio, out)
    print(f"{out}: {audio.duration_s:.2f} s at {audio.rate} Hz")
    note = speech_note(args.engine)
    if note:
        print(f"note: {note}", file=sys.stderr)
    return 0
