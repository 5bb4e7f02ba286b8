"""Reliability: schema = migrations, transactions, kill -9 during writes, two gates racing for a single-use pass.

The PostgreSQL race needs a real server: set DABAI_TEST_PG_URL (scripts/ci_services.sh starts one and
prints it), e.g. postgresql://dabai:dabai@127.0.0.1:5433/dabai_test.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from dabai.gate.db import Registry, RegistryError, open_registry
from dabai.gate.events import query_events
from dabai.gate.migrations import HEAD, current_revision
from dabai.gate.models import Base, Resident
from dabai.gate.passes import issue_pass
from dabai.gate.residents import add_resident

WORKER = Path(__file__).with_name("gate_worker.py")
PG_URL = os.environ.get("DABAI_TEST_PG_URL")


def test_migrations_match_models(registry):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert current_revision(registry.engine) == HEAD
    with registry.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_alembic_head_constant():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from dabai.gate.migrations import SCRIPT_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


def test_write_rolls_back_on_error(registry):
    with pytest.raises(RuntimeError):
        with registry.write() as s:
            s.add(Resident(name="甲", active=True))
            s.flush()
            raise RuntimeError("boom")
    with registry.read() as s:
        assert s.query(Resident).count() == 0


def test_bad_urls(tmp_path):
    with pytest.raises(RegistryError, match="not valid"):
        Registry("nonsense-url")
    with pytest.raises(RegistryError, match="cannot open"):
        (tmp_path / "file").write_text("x")
        Registry(f"sqlite:///{tmp_path}/file/x.db")


def _worker(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_event_log_survives_kill_9(home, registry):
    acked: list[int] = []
    for round_ in range(3):
        proc = _worker("spam", home.root, registry.url, f"gate-{round_}")
        n = 0
        for line in proc.stdout:
            if line.startswith("ok "):
                acked.append(int(line.split()[1]))
                n += 1
                if n >= 40 + 7 * round_:
                    break
        proc.send_signal(signal.SIGKILL)  # most likely in the middle of the next write
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    con = sqlite3.connect(home.sqlite_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    events = {e.event_id: e for e in query_events(registry, limit=10000)}
    assert set(acked) <= set(events)  # every acknowledged event is there
    for e in events.values():  # and every stored row is whole
        assert e.reasons == ["no_pass"] and e.gate_id.startswith("gate-") and "n" in e.latency_ms


def _race(home, registry, url, tmp_path, n_passes=15):
    from dabai.gate.keys import load_private_key

    resident = add_resident(registry, "访客", "9-9-9")
    texts = [issue_pass(registry, load_private_key(home), resident.id, valid_days=1, single_use=True).text
             for _ in range(n_passes)]
    passes = tmp_path / "passes.json"
    passes.write_text(json.dumps(texts))
    start = tmp_path / "start"
    procs = [_worker("race", home.root, url, f"gate-{i}", passes, start) for i in range(2)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    start.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(set(json.loads(out.strip().splitlines()[-1])))
    a, b = results
    assert not (a & b), "a single-use pass was accepted by both gates"
    assert a | b == set(texts), "every pass is accepted exactly once"
    denied = [e for e in query_events(registry, limit=1000) if not e.allow]
    assert len(denied) == n_passes and all(e.reasons == ["pass_used"] for e in denied)
    return registry


def test_two_gates_one_sqlite_registry(home, registry, tmp_path):
    _race(home, registry, registry.url, tmp_path)
    assert len(query_events(registry, limit=1000)) == 30


@pytest.mark.skipif(not PG_URL, reason="needs a PostgreSQL server: set DABAI_TEST_PG_URL "
                                       "(scripts/ci_services.sh starts one and prints the URL)")
def test_two_gates_one_postgresql_registry(home, tmp_path):
    from dabai.gate.home import GateHome

    reg = Registry(PG_URL, migrate=False)
    with reg.engine.begin() as conn:  # a clean schema for this test
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DROP TABLE IF EXISTS {table.name} CASCADE"))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    reg.migrate()
    pg_home = GateHome(home.root, PG_URL)
    registry = open_registry(pg_home)
    assert registry.dialect == "postgresql"
    _race(pg_home, registry, PG_URL, tmp_path)
    assert len(query_events(registry, limit=1000)) == 30
    registry.close()
    reg.close()
