"""Every console route is protected by construction: walk app.routes, not a hand-kept list of pages."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from dabai.gate.console.app import create_app
from dabai.gate.console.auth import set_password
from dabai.gate.residents import add_resident, list_residents

# The only routes an anonymous visitor may reach (each answers its own way: the login form has a pre-login token).
PUBLIC = {("GET", "/login"), ("POST", "/login")}
PUBLIC_MOUNTS = {"/static"}  # the console's own CSS/JS


@pytest.fixture
def app(home, config, registry):
    set_password(registry, "admin", "correct horse")
    return create_app(home, config, registry)


def _routes(app):
    """Every route of the app, the included routers' routes one by one."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.165 keeps included routers as one entry
    except ImportError:
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def _endpoints(app):
    """(method, path template, path with its parameters filled) of every route of the app."""
    out = []
    for route in _routes(app):
        if route.methods is None:  # a mount (static files): only the allow-listed ones may exist
            assert route.path in PUBLIC_MOUNTS, f"unexpected route {route.path}: protect it or allow-list it"
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1).endswith("_id") and "pass" not in m.group(1)
                      else "P-1", route.path)
        out += [(m, route.path, path) for m in sorted(route.methods)]
    return out


def _login(client):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf": token, "username": "admin", "password": "correct horse"},
                    follow_redirects=False)
    assert r.status_code == 303


def test_every_route_refuses_an_anonymous_request(app, registry):
    add_resident(registry, "张三", "1-1-1")
    client = TestClient(app, base_url="http://testserver")
    endpoints = _endpoints(app)
    assert len(endpoints) >= 13 and ("POST", "/residents/{resident_id}/remove", "/residents/1/remove") in endpoints
    checked = 0
    for method, template, path in endpoints:
        if (method, template) in PUBLIC:
            continue
        r = client.request(method, path, data={"name": "王五", "csrf": "x"} if method == "POST" else None,
                           follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", f"{method} {template} open: {r.status_code}"
        checked += 1
    assert checked == len(endpoints) - len(PUBLIC)
    assert [r.name for r in list_residents(registry)] == ["张三"]  # no anonymous POST changed anything
    assert client.get("/static/console.js").status_code == 200
    assert client.get("/login").status_code == 200


def test_every_post_refuses_a_missing_or_forged_csrf_token(app, registry):
    add_resident(registry, "张三", "1-1-1")
    client = TestClient(app, base_url="http://testserver")
    _login(client)
    posts = [(t, p) for m, t, p in _endpoints(app) if m == "POST"]
    assert len(posts) >= 6
    for template, path in posts:
        for data in ({"name": "王五"}, {"name": "王五", "csrf": "forged"}):
            if template == "/login":
                client.cookies.delete("dabai_prelogin")
            r = client.post(path, data=data, follow_redirects=False)
            assert r.status_code == 403, f"POST {template} without a valid CSRF token: {r.status_code}"
    assert [r.name for r in list_residents(registry)] == ["张三"]
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in: no logout went through
