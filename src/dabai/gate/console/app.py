"""The console web app: ``create_app(home, config, registry)``; ``serve(...)`` runs it with uvicorn.

Pages (login required): dashboard (latest frame with boxes, recent decisions), decision log with
filters, residents (add/remove), passes (issue/revoke). Every POST needs the session's CSRF token
and a same-origin request. Assets come from this package only (no CDN); a strict CSP enforces it.
"""

# (no "from __future__ import annotations": FastAPI must see the real Request type of the local routes)

import base64
import json
import logging
import secrets
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from dabai.core.errors import DabaiError, require
from dabai.gate.config import GateConfig
from dabai.gate.console.auth import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    Sessions,
    check_login,
    end_sessions,
    has_users,
    load_secret,
)
from dabai.gate.db import Registry
from dabai.gate.home import GateHome

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class LoginRequired(Exception):
    pass


def create_app(home: GateHome, config: GateConfig, registry: Registry, *, secure_cookies: bool = False):
    """The console app. ``secure_cookies``: mark cookies Secure even when the request looks like plain HTTP
    (set it when TLS ends at a proxy that is not configured as trusted); https requests always get Secure."""
    require("fastapi", "gate")
    import anyio
    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
    from fastapi.staticfiles import StaticFiles
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from dabai.gate.console import views

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    sessions = Sessions(registry, load_secret(home.console_dir))
    throttle = LoginThrottle()
    hashing = anyio.CapacityLimiter(2)  # scrypt runs in worker threads, two at a time (16 MB each)
    app = FastAPI(title="Dabai gate console", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.home, app.state.config, app.state.registry = home, config, registry

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        return RedirectResponse("/login", status_code=303)

    def user(request: Request) -> tuple[str, str]:
        found = sessions.user_of(request.cookies.get(SESSION_COOKIE))
        if found is None:
            raise LoginRequired()
        return found

    def same_origin(request: Request) -> bool:
        site = request.headers.get("sec-fetch-site")  # set by the browser itself; pages cannot forge it
        if site is not None:
            return site in ("same-origin", "none")
        origin = request.headers.get("origin")
        if origin is None:  # not a browser: the CSRF token alone decides
            return True
        host = request.headers.get("host", "")
        return origin in (f"http://{host}", f"https://{host}")

    def secure(request: Request) -> bool:
        return secure_cookies or request.url.scheme == "https"

    async def form_of(request: Request, nonce: str) -> dict:
        form = dict(await request.form())
        if not same_origin(request) or not sessions.check_csrf(nonce, form.get("csrf")):
            raise PermissionError("the form is stale or came from another site; reload the page and try again")
        return form

    def page(name: str, request: Request, status: int = 200, **ctx) -> HTMLResponse:
        found = sessions.user_of(request.cookies.get(SESSION_COOKIE))
        ctx.setdefault("user", found[0] if found else None)
        ctx.setdefault("csrf", sessions.csrf(found[1]) if found else "")
        ctx.setdefault("gate_id", config.gate_id)
        ctx.setdefault("message", None)
        ctx.setdefault("error", None)
        return HTMLResponse(env.get_template(name).render(**ctx), status_code=status)

    @app.exception_handler(PermissionError)
    async def forbidden(request: Request, exc: PermissionError):
        return page("error.html", request, 403, error=str(exc))

    # -- login --------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request):
        nonce = request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(18)
        resp = page("login.html", request, csrf=sessions.csrf("login|" + nonce),
                    error=None if has_users(registry) else "no console login exists yet: run 'dabai gate passwd admin'")
        resp.set_cookie(PRELOGIN_COOKIE, nonce, httponly=True, samesite="strict", max_age=3600,
                        secure=secure(request))
        return resp

    @app.post("/login")
    async def login(request: Request):
        nonce = request.cookies.get(PRELOGIN_COOKIE) or ""
        form = dict(await request.form())
        client = request.client.host if request.client else "?"
        if not nonce or not same_origin(request) or not sessions.check_csrf("login|" + nonce, form.get("csrf")):
            return page("login.html", request, 403, csrf=sessions.csrf("login|" + nonce),
                        error="the login form expired; please try again")
        if not throttle.attempt(client):  # counted as a failure until it succeeds
            return page("login.html", request, 429, csrf=sessions.csrf("login|" + nonce),
                        error="too many failed logins; wait a few minutes")
        name, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:1024]
        # scrypt takes ~50 ms of CPU: off the event loop, so other requests (static files) keep flowing
        if not await anyio.to_thread.run_sync(partial(check_login, registry, name, password), limiter=hashing):
            return page("login.html", request, 401, csrf=sessions.csrf("login|" + nonce),
                        error="wrong user name or password")
        throttle.succeeded(client)
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(SESSION_COOKIE, sessions.issue(name.strip()), httponly=True,
                        samesite="strict", max_age=sessions.lifetime, secure=secure(request))
        resp.delete_cookie(PRELOGIN_COOKIE)
        return resp

    @app.post("/logout")
    async def logout(request: Request):
        _, nonce = user(request)
        await form_of(request, nonce)
        sessions.end(request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    @app.post("/logout-everywhere")
    async def logout_everywhere(request: Request):
        _, nonce = user(request)
        await form_of(request, nonce)
        ended = end_sessions(registry)
        log.info("console: %d session(s) ended ('log out everywhere')", ended)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    # -- pages --------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request):
        user(request)
        return page("dashboard.html", request, events=views.recent_events(registry, 10))

    @app.get("/live.jpg")
    async def live_jpg(request: Request):
        user(request)
        path = home.live_dir / "latest.jpg"
        if not path.is_file():
            return Response(status_code=404)
        return FileResponse(path, media_type="image/jpeg")

    @app.get("/api/live")
    async def live_json(request: Request):
        user(request)
        path = home.live_dir / "latest.json"
        if not path.is_file():
            return JSONResponse({"faces": [], "state": "no camera frames yet"})
        try:
            return JSONResponse(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return JSONResponse({"faces": [], "state": "frame being written"})

    @app.get("/events", response_class=HTMLResponse)
    async def events(request: Request, outcome: str = "", reason: str = "", resident: str = "", limit: int = 100):
        user(request)
        rows, filters, error = views.filtered_events(registry, outcome, reason, resident, limit)
        return page("events.html", request, events=rows, filters=filters, error=error,
                    reasons=views.REASON_CODES, query=urlencode(filters))

    @app.get("/residents", response_class=HTMLResponse)
    async def residents(request: Request, message: str | None = None):
        user(request)
        return page("residents.html", request, residents=views.residents(registry), message=message)

    @app.post("/residents/add")
    async def residents_add(request: Request):
        _, nonce = user(request)
        form = await form_of(request, nonce)
        try:
            r = views.add(registry, form)
        except DabaiError as exc:
            return page("residents.html", request, 400, residents=views.residents(registry), error=str(exc))
        return RedirectResponse(f"/residents?{urlencode({'message': f'added {r.name} (id {r.id})'})}", 303)

    @app.post("/residents/{resident_id}/remove")
    async def residents_remove(request: Request, resident_id: int):
        _, nonce = user(request)
        await form_of(request, nonce)
        try:
            r = views.remove(registry, resident_id)
        except DabaiError as exc:
            return page("residents.html", request, 400, residents=views.residents(registry), error=str(exc))
        return RedirectResponse(f"/residents?{urlencode({'message': f'removed {r.name}'})}", 303)

    @app.get("/passes", response_class=HTMLResponse)
    async def passes(request: Request, message: str | None = None):
        user(request)
        return page("passes.html", request, passes=views.passes(registry), residents=views.residents(registry),
                    message=message, can_issue=home.private_key_path.is_file())

    @app.post("/passes/issue", response_class=HTMLResponse)
    async def passes_issue(request: Request):
        _, nonce = user(request)
        form = await form_of(request, nonce)
        try:
            issued, png = views.issue(home, config, registry, form)
        except DabaiError as exc:
            return page("passes.html", request, 400, passes=views.passes(registry),
                        residents=views.residents(registry), error=str(exc), can_issue=True)
        return page("issued.html", request, issued=issued, qr=base64.b64encode(png).decode())

    @app.post("/passes/{pass_id}/revoke")
    async def passes_revoke(request: Request, pass_id: str):
        _, nonce = user(request)
        form = await form_of(request, nonce)
        try:
            from dabai.gate.passes import revoke_pass

            revoke_pass(registry, pass_id, str(form.get("reason") or "revoked in the console"))
        except DabaiError as exc:
            return page("passes.html", request, 400, passes=views.passes(registry),
                        residents=views.residents(registry), error=str(exc), can_issue=True)
        return RedirectResponse(f"/passes?{urlencode({'message': f'revoked {pass_id}'})}", 303)

    return app


def server_config(home: GateHome, config: GateConfig, registry: Registry, host: str = "127.0.0.1", port: int = 8700,
                  *, trusted_proxy: str | None = None, secure_cookies: bool = False):
    """The uvicorn config of the console. The client address (rate limit) is the TCP peer: X-Forwarded-For
    and X-Forwarded-Proto are believed only from ``trusted_proxy`` (comma-separated addresses)."""
    uvicorn = require("uvicorn", "gate")
    app = create_app(home, config, registry, secure_cookies=secure_cookies)
    if trusted_proxy:
        return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=True,
                              forwarded_allow_ips=trusted_proxy)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)


def serve(home: GateHome, config: GateConfig, registry: Registry, host: str = "127.0.0.1", port: int = 8700,
          *, trusted_proxy: str | None = None, secure_cookies: bool = False) -> None:
    uvicorn = require("uvicorn", "gate")
    if not has_users(registry):
        raise DabaiError("no console login exists yet; create one first: dabai gate passwd admin")
    if host not in ("127.0.0.1", "localhost", "::1") and not (trusted_proxy or secure_cookies):
        log.warning("the console listens on %s: put it behind TLS (cookies travel in clear over plain HTTP)", host)
    print(f"console: http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.Server(server_config(home, config, registry, host, port, trusted_proxy=trusted_proxy,
                                 secure_cookies=secure_cookies)).run()
