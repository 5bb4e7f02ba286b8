"""Pass signing and verification: every forgery, alteration and misuse is refused with its reason."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta

import pytest

from dabai.gate import payload as codec
from dabai.gate.passes import PassError, consume, issue_pass, revoke_pass, verify_text
from dabai.gate.residents import add_resident, remove_resident

from .helpers import alter, foreign, forge

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def issued(registry, signer, resident):
    return issue_pass(registry, signer, resident.id, valid_days=30, now=NOW)


def test_base45_round_trip():
    for n in range(0, 70):
        data = os.urandom(n)
        assert codec.b45decode(codec.b45encode(data)) == data
    assert codec.b45encode(b"AB") == "BB8"  # RFC 9285 example
    assert codec.b45encode(b"ietf!") == "QED8WEX0"


def test_valid_pass(registry, keys, issued, resident):
    check = verify_text(registry, keys, issued.text, now=NOW + timedelta(days=1))
    assert check.valid and check.reason is None
    assert check.resident.id == resident.id and check.payload.name == "张三"
    assert len(issued.text) < 200  # compact: fits a small QR version


def test_expiry_with_clock_skew(registry, keys, issued):
    end = issued.expires_at
    assert verify_text(registry, keys, issued.text, now=end + timedelta(seconds=100), clock_skew_s=120).valid
    check = verify_text(registry, keys, issued.text, now=end + timedelta(seconds=121), clock_skew_s=120)
    assert (check.valid, check.reason) == (False, "expired")


def test_not_yet_valid(registry, keys, issued):
    check = verify_text(registry, keys, issued.text, now=NOW - timedelta(hours=1))
    assert check.reason == "not_yet_valid"
    assert verify_text(registry, keys, issued.text, now=NOW - timedelta(seconds=60)).valid  # within skew


def test_forged_altered_foreign(registry, keys, issued):
    later = NOW + timedelta(days=1)
    genuine = codec.decode(issued.text).payload
    cases = {
        "forged": (forge(genuine), "bad_signature"),
        "forged_longer": (forge(genuine, expires_at=NOW + timedelta(days=3650)), "bad_signature"),
        "altered_expiry": (alter(issued.text, expires_at=NOW + timedelta(days=999)), "bad_signature"),
        "altered_resident": (alter(issued.text, resident_id=genuine.resident_id + 1), "bad_signature"),
        "altered_name": (alter(issued.text, name="李四"), "bad_signature"),
        "altered_single_use": (alter(issued.text, single_use=True), "bad_signature"),
        "foreign_key": (foreign(genuine), "foreign_key"),
    }
    for name, (text, reason) in cases.items():
        check = verify_text(registry, keys, text, now=later)
        assert (check.valid, check.reason) == (False, reason), name


def test_truncated_and_garbage(registry, keys, issued):
    later = NOW + timedelta(days=1)
    text = issued.text
    for cut in range(1, len(text)):
        check = verify_text(registry, keys, text[:cut], now=later)
        assert not check.valid
        assert check.reason in ("truncated", "malformed", "not_dabai", "unsupported_version", "bad_signature"), cut
    assert verify_text(registry, keys, text[:-3], now=later).reason == "truncated"
    for junk in ("", "hello", "https://example.com/", "DB1:", "DB2:" + text[4:], "DB1:abc", "DB1:!!!", "\x00" * 10):
        check = verify_text(registry, keys, junk, now=later)
        assert not check.valid and check.reason, junk
    assert verify_text(registry, keys, "DB2:" + text[4:], now=later).reason == "unsupported_version"
    assert verify_text(registry, keys, "https://example.com/", now=later).reason == "not_dabai"


def test_random_mutations_never_accepted(registry, keys, issued):
    rng = random.Random(6)
    later = NOW + timedelta(days=1)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    text = issued.text
    for _ in range(400):
        chars = list(text)
        # distinct positions: mutating one position twice could put its original character back
        for i in rng.sample(range(4, len(chars)), rng.randint(1, 3)):
            chars[i] = rng.choice(alphabet.replace(chars[i], ""))
        mutated = "".join(chars)
        assert mutated != text
        assert not verify_text(registry, keys, mutated, now=later).valid


def test_revoked(registry, keys, issued):
    revoke_pass(registry, issued.pass_id, "lost phone")
    again = revoke_pass(registry, issued.pass_id, "second time")  # idempotent
    assert again["reason"] == "lost phone"
    check = verify_text(registry, keys, issued.text, now=NOW + timedelta(days=1))
    assert check.reason == "revoked"
    with pytest.raises(PassError, match="not a pass id"):
        revoke_pass(registry, "no-such-pass")


def _second_issuer(tmp_path, home, registry):
    """A copy of the home (a restored backup, a second issuing host): same key, its own registry."""
    import shutil

    from dabai.gate.db import open_registry
    from dabai.gate.home import GateHome
    from dabai.gate.keys import load_private_key

    copy = GateHome(tmp_path / "copy")
    shutil.copytree(home.root, copy.root)
    return open_registry(copy, synchronous="NORMAL"), load_private_key(copy)


def test_pass_unknown_to_the_registry_is_refused_revocable_and_importable(tmp_path, home, registry, keys, resident):
    """Defect 3: a validly signed pass this registry never recorded was admitted and could not be revoked."""
    from dabai.gate.passes import import_pass

    other_reg, other_key = _second_issuer(tmp_path, home, registry)
    stray = issue_pass(other_reg, other_key, resident.id, valid_days=30, now=NOW)
    later = NOW + timedelta(days=1)
    check = verify_text(registry, keys, stray.text, now=later)
    assert not check.valid and check.reason == "unknown_pass"
    out = import_pass(registry, keys, stray.text, now=later)  # registered on import ...
    assert out["pass_id"] == stray.pass_id and not out["already"]
    assert verify_text(registry, keys, stray.text, now=later).valid  # ... and admitted from then on
    assert import_pass(registry, keys, stray.text, now=later)["already"]
    other_reg.close()

    unseen = issue_pass(*_second_issuer(tmp_path / "b", home, registry), resident.id, valid_days=30, now=NOW)
    out = revoke_pass(registry, unseen.pass_id, "lost before it was imported")
    assert out["known"] is False
    assert verify_text(registry, keys, unseen.text, now=later).reason == "revoked"


def test_import_refuses_what_is_not_authentic(registry, keys, signer, resident, issued):
    from dabai.gate.passes import import_pass

    genuine = codec.decode(issued.text).payload
    later = NOW + timedelta(days=1)
    for bad, match in ((forge(genuine), "signature"), (foreign(genuine), "does not trust"),
                       (alter(issued.text, resident_id=7), "signature"), ("DB1:%%%", "not an importable"),
                       (issue_pass(registry, signer, resident.id, valid_days=1, now=NOW - timedelta(days=9)).text,
                        "expired")):
        with pytest.raises(PassError, match=match):
            import_pass(registry, keys, bad, now=later)


def test_maximum_validity_at_issue_time(registry, signer, resident):
    """Defect 7: --valid-days 100000 was an internal error; 2099 was accepted."""
    with pytest.raises(PassError, match="maximum of 366"):
        issue_pass(registry, signer, resident.id, valid_days=100000)
    for days in (1e300, float("inf"), float("nan"), -1):
        with pytest.raises(PassError):
            issue_pass(registry, signer, resident.id, valid_days=days)
    with pytest.raises(PassError, match="max_valid_days"):
        issue_pass(registry, signer, resident.id, expires_at=datetime(2099, 1, 1, tzinfo=UTC))
    with pytest.raises(PassError, match="max_valid_days"):
        issue_pass(registry, signer, resident.id, expires_at=datetime(2200, 1, 1, tzinfo=UTC))
    assert issue_pass(registry, signer, resident.id, valid_days=30, max_valid_days=30).pass_id


def test_resident_removed_or_unknown(registry, keys, signer, resident, issued):
    remove_resident(registry, resident.id)
    assert verify_text(registry, keys, issued.text, now=NOW + timedelta(days=1)).reason == "resident_inactive"
    genuine = codec.decode(issued.text).payload
    from .helpers import signed_text

    ghost = signed_text(signer, genuine.__class__(**{**genuine.__dict__, "resident_id": 999}))
    assert verify_text(registry, keys, ghost, now=NOW + timedelta(days=1)).reason == "unknown_resident"


def test_single_use_consumed_once(registry, keys, signer, resident):
    p = issue_pass(registry, signer, resident.id, valid_days=1, single_use=True, now=NOW)
    later = NOW + timedelta(hours=1)
    check = verify_text(registry, keys, p.text, now=later)
    assert check.valid
    with registry.write() as s:
        assert consume(s, check, "g1")
    with registry.write() as s:
        assert not consume(s, check, "g2")  # lost the race; transaction still usable
    assert verify_text(registry, keys, p.text, now=later).reason == "already_used"


def test_issue_rules(registry, signer, resident):
    with pytest.raises(PassError, match="either"):
        issue_pass(registry, signer, resident.id, valid_days=1, expires_at=NOW)
    with pytest.raises(PassError, match="positive"):
        issue_pass(registry, signer, resident.id, valid_days=0)
    with pytest.raises(PassError, match="time zone"):
        issue_pass(registry, signer, resident.id, expires_at=datetime(2030, 1, 1))
    long_name = add_resident(registry, "欧阳" * 40)
    p = issue_pass(registry, signer, long_name.id, valid_days=1)
    assert len(codec.decode(p.text).payload.name.encode()) <= 60
