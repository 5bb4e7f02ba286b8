"""Locating pretrained weight files: explicit path, cache dir, sha256 check, opt-in download.

Nothing is fetched unless the caller passes ``download=True`` (the user asked and
is online); otherwise a missing file is a ModelError saying where it was looked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dabai.core.digest import sha256_file
from dabai.core.errors import ModelError


@dataclass(frozen=True)
class KnownWeights:
    file_name: str
    sha256: str
    url: str  # official source, used only with download=True


KNOWN_WEIGHTS = {
    "mobilenet_v2_imagenet": KnownWeights(
        "mobilenet_v2-b0353104.pth",
        "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
        "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
    ),
}


def torch_hub_cache() -> Path:
    """torch.hub's checkpoint dir ($TORCH_HOME/hub/checkpoints), where torchvision looks."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(torch_home) / "hub" / "checkpoints"




def resolve_weights(name_or_path: str, cache_dir: Path | None = None, download: bool = False, verify: bool = True) -> Path:
    """A path as given, or a known name looked up in the cache (and downloaded only on request)."""
    path = Path(name_or_path).expanduser()
    known = KNOWN_WEIGHTS.get(name_or_path)
    if known is None:
        if not path.is_file():
            raise ModelError(f"weights file not found: {path} (known names: {', '.join(KNOWN_WEIGHTS)})")
        return path
    cache_dir = cache_dir or torch_hub_cache()
    target = cache_dir / known.file_name
    if not target.is_file():
        if not download:
            raise ModelError(
                f"'{name_or_path}' is not in the cache ({target}). Pass the file's path instead, "
                f"or copy {known.file_name} there; dabai downloads only when asked (download=True)."
            )
        _download(known.url, target)
    if verify and sha256_file(target) != known.sha256:
        raise ModelError(f"{target}: sha256 does not match the official {known.file_name}; the file is corrupt or different")
    return target


def _download(url: str, target: Path) -> None:  # pragma: no cover - needs the network
    import urllib.request

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    urllib.request.urlretrieve(url, tmp)
    tmp.replace(target)
