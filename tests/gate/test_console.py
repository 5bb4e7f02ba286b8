"""Console: login, CSRF, same-origin, security headers (TestClient); end to end in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from dabai.gate.console.app import create_app
from dabai.gate.console.auth import Sessions, hash_password, set_password, verify_password
from dabai.gate.residents import list_residents

CONSOLE = Path(__file__).resolve().parents[2] / "src" / "dabai" / "gate" / "console"


@pytest.fixture
def client(home, config, registry):
    set_password(registry, "admin", "correct horse")
    return TestClient(create_app(home, config, registry), base_url="http://testserver")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, password="correct horse"):
    page = client.get("/login")
    return client.post("/login", data={"csrf": _csrf(page.text), "username": "admin", "password": password},
                       follow_redirects=False)


def test_password_hashing():
    h = hash_password("s3cret-pass")
    assert h.startswith("scrypt$") and "s3cret" not in h
    assert verify_password("s3cret-pass", h) and not verify_password("s3cret-pasS", h)
    assert not verify_password("x", "garbage")


def test_session_tokens(registry):
    s = Sessions(registry, b"k" * 32, lifetime=60)
    cookie = s.issue("admin")
    user, nonce = s.user_of(cookie)
    assert user == "admin" and s.check_csrf(nonce, s.csrf(nonce))
    assert s.user_of(cookie[:-1] + ("A" if cookie[-1] != "A" else "B")) is None  # a guessed token
    assert s.user_of("x" * 5000) is None and s.user_of("") is None
    s.end(cookie)
    assert s.user_of(cookie) is None  # ended server-side
    expired = Sessions(registry, b"k" * 32, lifetime=-1)
    assert expired.user_of(expired.issue("a")) is None


def _session_cookie(client) -> str:
    return client.cookies.get("dabai_session")


def _add_resident(client, cookie, name) -> str:
    """A console action replayed with a copied cookie (as an attacker holding it would): 'refused' or 'added'."""
    client.cookies.clear()
    client.cookies.set("dabai_session", cookie)
    try:
        page = client.get("/residents", follow_redirects=False)
        if page.status_code != 200:
            assert page.headers["location"] == "/login"
            return "refused"
        r = client.post("/residents/add", data={"name": name, "csrf": _csrf(page.text)}, follow_redirects=False)
        return "added" if r.status_code == 303 and "added" in r.headers["location"] else f"status {r.status_code}"
    finally:
        client.cookies.clear()


def test_logout_ends_the_session_server_side(client, registry):
    """Defect 1: after POST /logout the same cookie gave 200 on /residents and residents/add succeeded."""
    login(client)
    stolen = _session_cookie(client)
    token = _csrf(client.get("/residents").text)
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert _add_resident(client, stolen, "王五") == "refused"
    assert list_residents(registry) == []


def test_password_change_and_logout_everywhere_end_sessions(client, registry):
    login(client)
    before = _session_cookie(client)
    set_password(registry, "admin", "a new horse battery")  # what 'dabai gate passwd admin' does
    assert _add_resident(client, before, "王五") == "refused"
    login(client, "a new horse battery")
    first = _session_cookie(client)
    client.cookies.clear()
    login(client, "a new horse battery")
    second = _session_cookie(client)
    assert first != second and _add_resident(client, first, "赵六") == "added"  # two live sessions
    client.cookies.set("dabai_session", second)
    token = _csrf(client.get("/").text)
    assert client.post("/logout-everywhere", data={"csrf": token}, follow_redirects=False).status_code == 303
    for cookie in (first, second):
        assert _add_resident(client, cookie, "王五") == "refused"
    assert [r.name for r in list_residents(registry)] == ["赵六"]


def test_logout_all_cli(home, registry, capsys, monkeypatch):
    from dabai.cli.main import main
    from dabai.gate.console.auth import end_sessions

    s = Sessions(registry, b"k" * 32)
    a, b = s.issue("admin"), s.issue("guard")
    monkeypatch.setenv("DABAI_HOME", str(home.root))
    monkeypatch.delenv("DABAI_DB", raising=False)
    assert main(["gate", "logout-all", "admin"]) == 0 and "ended 1" in capsys.readouterr().out
    assert s.user_of(a) is None and s.user_of(b) is not None
    assert end_sessions(registry) == 1 and s.user_of(b) is None


def test_secure_cookie_flag(home, config, registry):
    set_password(registry, "admin", "correct horse")
    plain = TestClient(create_app(home, config, registry), base_url="http://testserver")
    assert "secure" not in login(plain).headers["set-cookie"].lower()
    tls = TestClient(create_app(home, config, registry), base_url="https://testserver")
    assert "secure" in login(tls).headers["set-cookie"].lower()
    proxied = TestClient(create_app(home, config, registry, secure_cookies=True), base_url="http://testserver")
    assert "secure" in proxied.get("/login").headers["set-cookie"].lower()  # TLS ended at a proxy


def test_password_hashing_runs_off_the_event_loop(client, monkeypatch):
    """Defect 2 (part): scrypt ran on the event loop, so 200 parallel logins stalled static files."""
    import asyncio

    import dabai.gate.console.routes as console_app  # where the login route looks it up

    seen = []
    real = console_app.check_login

    def spy(*args):
        try:
            asyncio.get_running_loop()
            seen.append("event loop")
        except RuntimeError:
            seen.append("worker thread")
        return real(*args)

    monkeypatch.setattr(console_app, "check_login", spy)
    assert login(client).status_code == 303 and seen == ["worker thread"]


def test_parallel_guesses_cannot_outrun_the_throttle():
    from dabai.gate.console.auth import LoginThrottle

    t = LoginThrottle(limit=3, window=60)
    started = [t.attempt("1.2.3.4") for _ in range(5)]  # five guesses in flight before any has failed
    assert started == [True, True, True, False, False]
    t.succeeded("1.2.3.4")
    assert t.attempt("1.2.3.4") and not t.attempt("1.2.3.4") and t.attempt("5.6.7.8")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running(cfg):
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(cfg)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    return server, thread


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"])
def test_rate_limit_keys_on_the_peer_not_x_forwarded_for(home, config, registry, trusted):
    """Defect 2: 40 wrong passwords with changing X-Forwarded-For were never refused (uvicorn believed the header)."""
    import httpx

    from dabai.gate.console.app import server_config

    set_password(registry, "admin", "correct horse")
    port = _free_port()
    server, thread = _running(server_config(home, config, registry, port=port, trusted_proxy=trusted))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            codes = []
            for i in range(12):
                token = _csrf(http.get("/login").text)
                codes.append(http.post("/login", data={"csrf": token, "username": "admin", "password": "wrong"},
                                       headers={"x-forwarded-for": f"10.0.0.{i}"}).status_code)
    finally:
        server.should_exit = True
        thread.join(10)
    if trusted is None:
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    else:  # an explicitly trusted proxy: each forwarded client has its own budget
        assert codes == [401] * 12


def test_login_required_and_wrong_password(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/live").status_code in (200, 303) and "faces" not in client.get(
        "/api/live", follow_redirects=False).text
    assert login(client, "wrong").status_code == 401
    no_csrf = client.post("/login", data={"username": "admin", "password": "correct horse"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    r = login(client)
    assert r.status_code == 303 and "dabai_session" in r.headers["set-cookie"]
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=strict" in r.headers["set-cookie"]
    assert client.get("/").status_code == 200


def test_csrf_and_origin_enforced(client, registry):
    login(client)
    page = client.get("/residents")
    token = _csrf(page.text)
    assert client.post("/residents/add", data={"name": "王五"}).status_code == 403
    assert client.post("/residents/add", data={"name": "王五", "csrf": "forged"}).status_code == 403
    evil = client.post("/residents/add", data={"name": "王五", "csrf": token},
                       headers={"origin": "http://evil.example"})
    assert evil.status_code == 403
    cross = client.post("/residents/add", data={"name": "王五", "csrf": token}, headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    assert list_residents(registry) == []
    ok = client.post("/residents/add", data={"name": "王五", "unit": "1-1-1", "csrf": token},
                     headers={"origin": "http://testserver"})
    assert ok.status_code == 200 and "added 王五" in ok.text
    assert [r.name for r in list_residents(registry)] == ["王五"]


def test_security_headers_and_no_external_assets(client):
    login(client)
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    for f in list((CONSOLE / "templates").glob("*")) + list((CONSOLE / "static").glob("*")):
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", f.read_text()), f"external asset in {f.name}"
        assert "cdn" not in f.read_text().lower()
    assert client.get("/static/console.js").status_code == 200


def test_serve_refuses_without_login(home, config, registry):
    from dabai.core.errors import DabaiError
    from dabai.gate.console.app import serve

    with pytest.raises(DabaiError, match="dabai gate passwd"):
        serve(home, config, registry, port=1)
