"""One decision per visitor, one result: what check returns is what the log reads back."""

from __future__ import annotations

import pytest

import dabai.gate.check as check_module
from dabai.gate.check import GateChecker
from dabai.gate.events import query_events
from dabai.gate.models import PassUse
from dabai.gate.passes import issue_pass

from .helpers import FakeDetector, face, qr_frame


@pytest.fixture
def decisions(monkeypatch):
    """Counts every call of the decision function, wherever the gate's modules call it from."""
    import sys

    from dabai.gate.decision import decide

    calls = []

    def counting(obs, config):
        calls.append(obs.pass_check.reason)
        return decide(obs, config)

    assert check_module.decide is decide
    for module in [m for name, m in sys.modules.items() if name.startswith("dabai.gate") and hasattr(m, "decide")]:
        monkeypatch.setattr(module, "decide", counting)
    return calls


def _checker(home, registry, config, label="with_mask"):
    return GateChecker(home, registry, config, detector=FakeDetector([face(label, 0.9)]))


def test_check_decides_once_and_the_log_reads_back_the_same_result(home, registry, config, signer, resident,
                                                                   decisions):
    text = issue_pass(registry, signer, resident.id).text
    checker = _checker(home, registry, config)
    result = checker.check(qr_frame(text), intent="enter", reply_audio=False)
    assert decisions == [None] and result.allow and result.resident_name == "张三"
    (logged,) = query_events(registry)
    not_kept = {"latency_ms"}
    assert {k: v for k, v in logged.to_json().items() if k not in not_kept} == \
        {k: v for k, v in result.to_json().items() if k not in not_kept}
    assert result.decision is not None and logged.decision is None  # live objects only in this process


def test_a_single_use_pass_lost_to_another_gate_is_one_decision(home, registry, config, signer, resident,
                                                                decisions):
    issued = issue_pass(registry, signer, resident.id, single_use=True)
    checker = _checker(home, registry, config)
    verdict = checker.verify(issued.text)
    assert verdict.valid
    with registry.write() as s:  # another gate uses it between this gate's verify and its decision
        s.add(PassUse(pass_id=issued.pass_id, gate_id="other-gate"))
    result = checker.conclude([face()], verdict, "enter", {})
    assert decisions == ["already_used"]  # decided once, on the pass as it will be logged
    assert not result.allow and result.reasons == ["pass_used"]
    assert result.to_json()["pass"] == {"valid": False, "reason": "already_used", "pass_id": issued.pass_id}


def test_a_deny_gives_the_single_use_claim_back(home, registry, config, signer, resident, decisions):
    issued = issue_pass(registry, signer, resident.id, single_use=True)
    masked, bare = _checker(home, registry, config), _checker(home, registry, config, "without_mask")
    denied = bare.conclude([face("without_mask", 0.9)], bare.verify(issued.text), "enter", {})
    assert not denied.allow and denied.reasons == ["no_mask"] and denied.pass_valid
    admitted = masked.conclude([face()], masked.verify(issued.text), "enter", {})  # still unused: admitted
    assert admitted.allow and len(decisions) == 2
    assert masked.verify(issued.text).reason == "already_used"  # used once, by the admit
