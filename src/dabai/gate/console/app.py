"""The console web app: ``create_app(home, config, registry)``; ``serve(...)`` runs it with uvicorn.

Pages (login required): dashboard (latest frame with boxes, recent decisions), decision log with
filters, residents (add/remove), passes (issue/revoke). Every POST needs the session's CSRF token
and a same-origin request. Assets come from this package only (no CDN); a strict CSP enforces it.
"""

import logging
from pathlib import Path

from dabai.core.errors import DabaiError, require
from dabai.gate.config import GateConfig
from dabai.gate.console.auth import LoginThrottle, Sessions, has_users, load_secret
from dabai.gate.db import Registry
from dabai.gate.home import GateHome

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def create_app(home: GateHome, config: GateConfig, registry: Registry, *, secure_cookies: bool = False):
    """The console app. ``secure_cookies``: mark cookies Secure even when the request looks like plain HTTP
    (set it when TLS ends at a proxy that is not configured as trusted); https requests always get Secure.

    The routes live in :mod:`dabai.gate.console.routes`: the login page on its ``public`` router, everything
    else on ``protected``, whose dependencies check the session and (POST) the CSRF token."""
    require("fastapi", "gate")
    import anyio
    from fastapi import FastAPI, Request
    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from dabai.gate.console.guard import Console, LoginRequired
    from dabai.gate.console.routes import protected, public

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    state = Console(home, config, registry, Sessions(registry, load_secret(home.console_dir)), LoginThrottle(),
                    anyio.CapacityLimiter(2), env, secure_cookies)  # scrypt: two at a time (16 MB each)
    app = FastAPI(title="Dabai gate console", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.home, app.state.config, app.state.registry = home, config, registry
    app.state.console = state
    app.include_router(public)
    app.include_router(protected)

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

    @app.exception_handler(PermissionError)
    async def forbidden(request: Request, exc: PermissionError):
        return state.page("error.html", request, 403, error=str(exc))

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
