"""The gate's decision: a pure function of what was observed.

Allow only when all three hold:

* an entry request was heard: an intent in ``config.entry_intents`` (``enter``,
  ``visitor``, ``courier``). Whoever asks, the pass decides who may enter;
* every person at the gate wears a mask correctly: the largest face, and every
  face at least ``mask.close_ratio`` of its area (people side by side), is
  ``with_mask`` scoring at least ``mask.with_mask``;
* the pass is valid (see :mod:`dabai.gate.passes`).

Otherwise deny with *every* reason that applies, in a fixed order (face and
mask, pass, request), and a reply text that tells the visitor what to do.
Nothing here touches the clock, the disk or the database.

Intent → decision (docs/gate.md has the same table):

=========== ============== ================================ ==========================================
intent      entry request? reason when it is missing/wrong  reply (key in the replies table)
=========== ============== ================================ ==========================================
enter       yes            —                                welcome / per reason
visitor     yes            —                                welcome_guest; a pass refusal: visitor_pass
courier     yes            —                                welcome_guest; a pass refusal: courier_pass
leave       no             not_entry_request                not_entry_request
help        no             not_entry_request                help
none / —    no             no_request                       no_request
unclear     no             say_again                        say_again
=========== ============== ================================ ==========================================

``unclear``: a spoken request with an unsure sound where a negation would stand (大白，别开门 heard as
大白，提开门 in noise, :func:`dabai.speech.intent.confirm_heard`): the gate neither opens nor refuses the
request; it asks the visitor to say it again.

The finer intents change only the reply and what the event log records (its ``intent``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dabai.gate.config import GateConfig, MaskRules
from dabai.gate.passes import PassCheck
from dabai.gate.residents import ResidentInfo
from dabai.runtime.types import Detection

# pass refusal (PassCheck.reason) -> decision reason (and reply key)
PASS_REASONS = {
    "no_pass": "no_pass",
    "not_dabai": "pass_invalid",
    "unsupported_version": "pass_invalid",
    "malformed": "pass_invalid",
    "truncated": "pass_invalid",
    "foreign_key": "pass_invalid",
    "bad_signature": "pass_invalid",
    "not_yet_valid": "pass_not_yet_valid",
    "expired": "pass_expired",
    "revoked": "pass_revoked",
    "unknown_pass": "pass_invalid",
    "already_used": "pass_used",
    "unknown_resident": "not_resident",
    "resident_inactive": "not_resident",
}
MASK_REASONS = ("no_mask", "mask_incorrect", "mask_uncertain")  # worst first
ENTER = "enter"
_PASS_CODES = frozenset(PASS_REASONS.values())
# A guest's request: an allow says welcome_guest (the pass names the host, not them), and every pass refusal
# says what a guest must do instead of the generic pass reply.
GUEST_REPLIES = {"visitor": "visitor_pass", "courier": "courier_pass"}
GUEST_WELCOME = "welcome_guest"
# what was heard when it was no entry request (any other intent: not_entry_request)
NOT_ENTRY_REASONS = {"none": "no_request", "unclear": "say_again"}
# a request the gate does not serve, answered in its own words instead of not_entry_request's
OTHER_REQUEST_REPLIES = {"help": "help"}


@dataclass(frozen=True)
class Observations:
    """What the gate saw and heard for one visitor."""

    intent: str | None  # 'enter', 'leave', 'none', … or None when nothing was heard
    faces: tuple[Detection, ...]  # every detection in the frame
    pass_check: PassCheck  # passes.NO_PASS when no pass was shown


@dataclass(frozen=True)
class Decision:
    allow: bool
    reasons: tuple[str, ...]  # empty when allowed
    persons: tuple[Detection, ...]  # the faces judged to be at the gate
    mask: Detection | None  # the decisive face: the first failing one, else the largest
    resident: ResidentInfo | None
    reply_text: str
    reply_parts: tuple[str, ...] = ()  # the reply texts joined into reply_text (each one a cached clip)


def is_entry_request(intent: str | None, config: GateConfig) -> bool:
    """Whether ``intent`` asks to come in (the pass, not the intent, decides who may)."""
    return intent is not None and intent in config.entry_intents


def reply_key(reason: str, intent: str | None) -> str:
    """Which entry of the replies table answers ``reason`` for a request of ``intent``."""
    if intent in GUEST_REPLIES and reason in _PASS_CODES:
        return GUEST_REPLIES[intent]
    if reason == "not_entry_request" and intent in OTHER_REQUEST_REPLIES:
        return OTHER_REQUEST_REPLIES[intent]
    return reason


SAME_FACE_IOU = 0.5  # detections of different classes overlapping this much are one face


def persons_at_gate(faces: tuple[Detection, ...] | list[Detection], rules: MaskRules) -> tuple[Detection, ...]:
    """The largest face and every face close to it in size, largest first; noise and far faces dropped.

    The detector scores each class separately, so one face can come back as, say, ``without_mask``
    0.33 and ``with_mask`` 0.25; a face has one label, its best-scoring one.
    """
    real = [f for f in faces if f.score >= rules.min_face_score and (f.bbox[2] - f.bbox[0]) >= rules.min_face_px]
    real = _one_label_per_face(real)
    if not real:
        return ()
    real.sort(key=lambda f: f.area, reverse=True)
    largest = real[0].area
    return tuple(f for f in real if f.area >= rules.close_ratio * largest)


def _one_label_per_face(faces: list[Detection]) -> list[Detection]:
    kept: list[Detection] = []
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        if all(face.iou(k) < SAME_FACE_IOU for k in kept):
            kept.append(face)
    return kept


def mask_reason(face: Detection, rules: MaskRules) -> str | None:
    if face.label == "with_mask":
        return None if face.score >= rules.with_mask else "mask_uncertain"
    if face.label == "mask_weared_incorrect":
        return "mask_incorrect"
    return "no_mask"


def decide(obs: Observations, config: GateConfig) -> Decision:
    persons = persons_at_gate(obs.faces, config.mask)
    reasons: list[str] = []
    decisive = persons[0] if persons else None
    if not persons:
        reasons.append("no_face")
    else:
        found = {}
        for face in persons:
            r = mask_reason(face, config.mask)
            if r is not None and r not in found:
                found[r] = face
        for r in MASK_REASONS:
            if r in found:
                reasons.append(r)
        if found:
            decisive = found[next(r for r in MASK_REASONS if r in found)]
    check = obs.pass_check
    if not check.valid:
        reasons.append(PASS_REASONS.get(check.reason or "", "pass_invalid"))
    if not is_entry_request(obs.intent, config):
        reasons.append(NOT_ENTRY_REASONS.get(obs.intent or "none", "not_entry_request"))
    allow = not reasons
    resident = check.resident if check.resident is not None else None
    texts: list[str] = []
    if allow and obs.intent in GUEST_REPLIES:
        texts.append(config.reply(GUEST_WELCOME))
    elif allow:
        texts.append(config.reply("welcome", name=resident.name if resident else ""))
    else:
        for r in reasons:
            t = config.reply(reply_key(r, obs.intent))
            if t not in texts:
                texts.append(t)
    return Decision(allow, tuple(reasons), persons, decisive, resident, "，".join(texts), tuple(texts))
