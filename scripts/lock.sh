#!/usr/bin/env bash
# Regenerate constraints.txt (the pinned versions `make install` uses) from the current .venv.
# Packages installed from a local wheel file are pinned by name==version like the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip freeze --exclude-editable --disable-pip-version-check \
  | grep -v -E '^(dabai|-e )' \
  | sed -E 's#^([A-Za-z0-9_.-]+) @ file://.*/[A-Za-z0-9_.]+-([0-9][A-Za-z0-9_.+]*)-py.*$#\1==\2#' \
  > constraints.txt
echo "constraints.txt: $(wc -l < constraints.txt) pinned packages"
