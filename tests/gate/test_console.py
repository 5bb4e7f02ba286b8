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


def test_session_tokens():
    s = Sessions(b"k" * 32, lifetime=60)
    cookie = s.issue("admin")
    user, nonce = s.user_of(cookie)
    assert user == "admin" and s.check_csrf(nonce, s.csrf(nonce))
    assert s.user_of(cookie.replace("admin", "root")) is None
    assert s.user_of(Sessions(b"x" * 32).issue("admin")) is None
    assert Sessions(b"k" * 32, lifetime=-1).user_of(Sessions(b"k" * 32, lifetime=-1).issue("a")) is None


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
    from dabai.errors import DabaiError
    from dabai.gate.console.app import serve

    with pytest.raises(DabaiError, match="dabai gate passwd"):
        serve(home, config, registry, port=1)
