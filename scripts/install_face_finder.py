"""Install the shipped checker's face finder (UltraFace RFB-640 masked-face, MIT) from ../shared/weights.

The package does not carry these third-party weights: the checker manifests record their name and sha256, and
`runtime.checker.weights_dir()` (``$DABAI_MODELS_DIR``, else ``<env>/share/dabai/models``) is where they are
looked for. `make install` runs this; the source folder is ``$DABAI_SHARED/weights``, else ``../shared/weights``.

    python scripts/install_face_finder.py [--shared DIR]

Without the source file it says so and exits 0: the checker then runs on stage 1's faces and warns when loaded.
A file whose sha256 differs from the manifest's is refused (exit 2); an installed one is checked and kept.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from dabai.core.digest import sha256_file
from dabai.runtime.backends import shipped_model_path
from dabai.runtime.checker import read_manifest, weights_dir

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=Path(os.environ.get("DABAI_SHARED", ROOT.parent / "shared")))
    args = p.parse_args()
    doc = read_manifest(shipped_model_path("int8"))
    name, expected = doc["face_finder"], doc["sha256"]["face_finder"]
    target = weights_dir() / name
    if target.is_file() and sha256_file(target) == expected:
        print(f"face finder: {target} (sha256 ok)")
        return 0
    source = args.shared / "weights" / name
    if not source.is_file():
        print(f"face finder: {source} not found; the mask checker will run without it (and warn). "
              f"Set DABAI_SHARED or pass --shared to install it.", file=sys.stderr)
        return 0
    if sha256_file(source) != expected:
        print(f"face finder: {source}: sha256 differs from the one the shipped manifest records ({expected[:16]}…)",
              file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    print(f"face finder: installed {target} from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
