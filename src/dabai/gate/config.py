"""Typed gate configuration: thresholds, pass rules, session timing and reply texts.

Read from ``DABAI_HOME/gate.yaml`` (or ``--config FILE``) through
:func:`dabai.config.from_dict`, so an unknown key or a wrong type is reported
with its full key path before the gate starts. Every field has a default; an
empty or missing file gives the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dabai.config import from_dict, load_yaml
from dabai.errors import ConfigError

# Spoken replies, keyed by the decision reason they answer ("welcome" for an allow).
# A community may override any of them under ``replies:`` in gate.yaml.
DEFAULT_REPLIES: dict[str, str] = {
    "welcome": "您好，{name}，欢迎回家，二维码有效请您通过。",
    "no_face": "请正对摄像头",
    "no_mask": "请佩戴口罩",
    "mask_incorrect": "请正确佩戴口罩",
    "mask_uncertain": "请正确佩戴口罩",
    "no_pass": "请出示通行码",
    "pass_invalid": "二维码无效",
    "pass_expired": "二维码已过期，请更新通行码",
    "pass_not_yet_valid": "通行码尚未生效",
    "pass_revoked": "通行码已作废，请联系物业",
    "pass_used": "通行码已使用过，请联系物业",
    "not_resident": "您不是本小区登记住户，请联系物业",
    "no_request": "您好，如需进入小区，请说：大白，请让我进入小区",
    "not_entry_request": "本通道仅供进入小区",
}


@dataclass(frozen=True)
class MaskRules:
    """When a face counts and when it counts as wearing a mask correctly."""

    min_face_score: float = 0.30  # detections scoring below this are ignored as noise
    with_mask: float = 0.50  # a 'with_mask' face is accepted at or above this score
    close_ratio: float = 0.60  # faces with area >= this x the largest face are all "at the gate"
    min_face_px: int = 20  # faces narrower than this (pixels) are passers-by, not visitors


@dataclass(frozen=True)
class PassRules:
    """How strictly passes are checked."""

    clock_skew_s: int = 120  # allowance (seconds) for gate/issuer clock differences
    max_name_bytes: int = 60  # UTF-8 bytes of the display name carried in a pass
    max_valid_days: float = 366.0  # longest validity 'pass issue' accepts (a lost pass works at most this long)


@dataclass(frozen=True)
class SessionRules:
    """Timing of the live loop (`dabai gate run`)."""

    detect_every: int = 1  # run the detector on every Nth frame (others reuse the last result)
    present_frames: int = 3  # consecutive frames with a face before a visitor is "present"
    absent_frames: int = 8  # consecutive frames without a face before returning to idle
    vote_frames: int = 5  # mask observations collected (majority vote) before deciding
    request_timeout_s: float = 8.0  # wait this long for a spoken request, then decide without
    pass_timeout_s: float = 8.0  # wait this long for a readable pass, then decide without
    result_hold_s: float = 3.0  # keep showing a decision this long before looking again
    snapshot_keep: int = 500  # deny snapshots kept at most (oldest removed first)
    snapshot_days: float = 30.0  # deny snapshots older than this are removed


@dataclass(frozen=True)
class GateConfig:
    """Everything a gate needs besides its home folder."""

    gate_id: str = "gate-1"  # written into every event, so shared registries tell gates apart
    voice: str | None = None  # TTS voice for replies (None: the speech default)
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"  # SQLite durability (FULL survives power loss)
    mask: MaskRules = field(default_factory=MaskRules)
    passes: PassRules = field(default_factory=PassRules)
    session: SessionRules = field(default_factory=SessionRules)
    replies: dict[str, str] = field(default_factory=dict)  # overrides of DEFAULT_REPLIES

    def __post_init__(self) -> None:
        for key, text in self.replies.items():
            if key not in DEFAULT_REPLIES:
                raise ConfigError(f"replies.{key}: unknown reply; allowed: {', '.join(DEFAULT_REPLIES)}")
            try:
                text.format(name="x")
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(f"replies.{key}: {text!r} may only use the placeholder {{name}} ({exc})") from None
        for name, value in (("mask.with_mask", self.mask.with_mask), ("mask.close_ratio", self.mask.close_ratio),
                            ("mask.min_face_score", self.mask.min_face_score)):
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name}: {value} must be between 0 and 1")

    def reply(self, key: str, **values: str) -> str:
        """The reply text for a reason (or 'welcome'), with ``{name}`` filled in."""
        template = self.replies.get(key) or DEFAULT_REPLIES[key]
        return template.format(**values) if values else template


def load_gate_config(path: str | Path | None = None, home_config: Path | None = None) -> GateConfig:
    """Load ``path`` (must exist), else ``home_config`` when it exists, else the defaults."""
    if path is not None:
        return from_dict(GateConfig, load_yaml(path))
    if home_config is not None and home_config.is_file():
        return from_dict(GateConfig, load_yaml(home_config))
    return GateConfig()
