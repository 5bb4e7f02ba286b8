"""The scenario suite: >= 200 visitors, every mask state x pass state x intent, several face layouts and
QR sizes, through the whole check (QR found in the frame, pass verified, decision, event log).

Mask state comes from a fake detector so this measures the gate's logic, not the model; QR decoding,
signature checks and the registry are real. Every decision must be exactly right, and no forged,
altered, expired, revoked, truncated or foreign pass may ever be accepted.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dabai.gate import payload as codec
from dabai.gate.check import GateChecker
from dabai.gate.config import MaskRules
from dabai.gate.events import query_events
from dabai.gate.passes import consume, issue_pass, revoke_pass, verify_text
from dabai.gate.residents import add_resident, remove_resident

from .helpers import FakeDetector, alter, face, foreign, forge, qr_frame, signed_text

MASK_STATES = {
    # name: (faces, expected mask reason or None)
    "masked": ([face("with_mask", 0.93)], None),
    "masked_pair": ([face("with_mask", 0.9, x=60), face("with_mask", 0.8, x=330, w=140)], None),
    # a face, but a with_mask score between min_face_score and the admit threshold
    "masked_low_score": ([face("with_mask", (MaskRules().min_face_score + MaskRules().with_mask) / 2)], "mask_uncertain"),
    "no_mask": ([face("without_mask", 0.9)], "no_mask"),
    "worn_wrong": ([face("mask_weared_incorrect", 0.85)], "mask_incorrect"),
    "pair_one_bare": ([face("with_mask", 0.9, x=60), face("without_mask", 0.7, x=330, w=140)], "no_mask"),
    "no_face": ([], "no_face"),
}
PASS_STATES = {
    # name: expected decision reason (None = valid)
    "valid": None, "expired": "pass_expired", "not_yet_valid": "pass_not_yet_valid", "revoked": "pass_revoked",
    "forged": "pass_invalid", "altered": "pass_invalid", "foreign_key": "pass_invalid",
    "truncated": "pass_invalid", "garbage": "pass_invalid", "none": "no_pass",
    "unknown_resident": "not_resident", "removed_resident": "not_resident", "used_single_use": "pass_used",
}
MUST_REFUSE = {"expired", "not_yet_valid", "revoked", "forged", "altered", "foreign_key", "truncated", "garbage",
               "unknown_resident", "removed_resident", "used_single_use", "none"}
INTENTS = {"enter": None, None: "no_request", "leave": "not_entry_request"}
QR_STYLES = [dict(px=3), dict(px=2), dict(px=4, angle=90), dict(px=5, angle=25), dict(px=3, blur=0.8),
             dict(px=6, angle=180), dict(px=4, angle=-35, blur=0.6), dict(px=8)]
BYSTANDER = face("without_mask", 0.9, x=560, y=20, w=30, h=36)  # far behind the visitor: not at the gate


@pytest.fixture
def pass_texts(registry, signer, resident):
    now = datetime.now(UTC)
    good = issue_pass(registry, signer, resident.id, valid_days=30)
    genuine = codec.decode(good.text).payload
    expired = issue_pass(registry, signer, resident.id, valid_days=5, now=now - timedelta(days=10))
    future = signed_text(signer, replace(genuine, pass_id="00000000000000f1", issued_at=now + timedelta(days=2)))
    revoked = issue_pass(registry, signer, resident.id, valid_days=30)
    revoke_pass(registry, revoked.pass_id, "lost")
    leaver = add_resident(registry, "李四", "1-1-101")
    removed = issue_pass(registry, signer, leaver.id, valid_days=30)
    remove_resident(registry, leaver.id)
    used = issue_pass(registry, signer, resident.id, valid_days=30, single_use=True)
    with registry.write() as s:
        assert consume(s, verify_text(registry, {genuine.key_id: _pub(signer)}, used.text), "earlier-gate")
    return {
        "valid": good.text, "expired": expired.text, "not_yet_valid": future, "revoked": revoked.text,
        "forged": forge(genuine, expires_at=now + timedelta(days=999)),
        "altered": alter(good.text, resident_id=leaver.id, name="李四"),
        "foreign_key": foreign(genuine), "truncated": good.text[:-12],
        "garbage": "WIFI:S:community;T:WPA;P:secret;;", "none": None,
        "unknown_resident": signed_text(signer, replace(genuine, pass_id="00000000000000f2", resident_id=4242)),
        "removed_resident": removed.text, "used_single_use": used.text,
    }


def _pub(signer):
    from dabai.gate.keys import PublicKey, key_id_of

    return PublicKey(key_id_of(signer.public_key()), signer.public_key())


def _visitors():
    combos = list(itertools.product(MASK_STATES, PASS_STATES, INTENTS))
    for i, (mask, pass_state, intent) in enumerate(combos):
        yield i, mask, pass_state, intent, QR_STYLES[i % len(QR_STYLES)], i % 3 == 0 and mask != "no_face"


def test_visitor_count():
    assert len(list(_visitors())) >= 200


def test_scenario_suite(home, registry, config, pass_texts):
    det = FakeDetector()
    checker = GateChecker(home, registry, config, detector=det)
    outcomes, wrong, refused_ok = Counter(), [], Counter()
    for i, mask, pass_state, intent, style, bystander in _visitors():
        faces, mask_reason = MASK_STATES[mask]
        det.faces = list(faces) + ([BYSTANDER] if bystander else [])
        frame = qr_frame(pass_texts[pass_state], **style)
        result = checker.check(frame, intent=intent, reply_audio=False)
        expected = tuple(r for r in (mask_reason, PASS_STATES[pass_state], INTENTS[intent]) if r)
        d = result.decision
        if d.reasons != expected or d.allow != (not expected):
            wrong.append((i, mask, pass_state, intent, style, d.reasons, expected))
        if pass_state in MUST_REFUSE:
            assert not d.allow, f"visitor {i}: {pass_state} pass accepted"
            refused_ok[pass_state] += 1
        if d.allow:
            assert result.to_json()["resident"]["name"] == "张三"
            assert d.reply_text == "您好，张三，欢迎回家，二维码有效请您通过。"
        outcomes["allow" if d.allow else "deny"] += 1
    assert not wrong, f"{len(wrong)} wrong decisions, first: {wrong[:3]}"
    n = sum(outcomes.values())
    assert outcomes["allow"] == 2  # masked / masked pair, valid pass, enter
    events = query_events(registry, limit=10000)
    assert len(events) == n and sum(e.allow for e in events) == outcomes["allow"]
    assert all(refused_ok[s] == len(MASK_STATES) * len(INTENTS) for s in MUST_REFUSE)
