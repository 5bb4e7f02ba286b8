"""The console's routes, in two routers.

* ``public``: the login page and the login form (its own pre-login CSRF token). Nothing else belongs here.
* ``protected``: everything else. Its router dependencies require a session (:func:`guard.require_user`) and,
  for every POST, the session's CSRF token and a same-origin request (:func:`guard.require_csrf`): a page
  added here is protected without writing a check. Handlers that need the checked form declare
  ``form: CheckedForm`` (FastAPI runs it once per request).
"""

# (no "from __future__ import annotations": FastAPI must see the real Request type of the routes)

import base64
import json
import logging
import secrets
from functools import partial
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from dabai.core.errors import DabaiError
from dabai.gate.console import views
from dabai.gate.console.auth import PRELOGIN_COOKIE, SESSION_COOKIE, check_login, end_sessions, has_users
from dabai.gate.console.guard import CheckedForm, ConsoleDep, require_csrf, require_user, same_origin

log = logging.getLogger(__name__)

public = APIRouter()
protected = APIRouter(dependencies=[Depends(require_user), Depends(require_csrf)])


# -- login (public) -----------------------------------------------------------------------------------
@public.get("/login", response_class=HTMLResponse)
async def login_form(app: ConsoleDep, request: Request):
    nonce = request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(18)
    resp = app.page("login.html", request, csrf=app.sessions.csrf("login|" + nonce),
                    error=None if has_users(app.registry) else
                    "no console login exists yet: run 'dabai gate passwd admin'")
    resp.set_cookie(PRELOGIN_COOKIE, nonce, httponly=True, samesite="strict", max_age=3600,
                    secure=app.secure(request))
    return resp


@public.post("/login")
async def login(app: ConsoleDep, request: Request):
    nonce = request.cookies.get(PRELOGIN_COOKIE) or ""
    form = dict(await request.form())
    client = request.client.host if request.client else "?"
    if not nonce or not same_origin(request) or not app.sessions.check_csrf("login|" + nonce, form.get("csrf")):
        return app.page("login.html", request, 403, csrf=app.sessions.csrf("login|" + nonce),
                        error="the login form expired; please try again")
    if not app.throttle.attempt(client):  # counted as a failure until it succeeds
        return app.page("login.html", request, 429, csrf=app.sessions.csrf("login|" + nonce),
                        error="too many failed logins; wait a few minutes")
    name, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:1024]
    # scrypt takes ~50 ms of CPU: off the event loop, so other requests (static files) keep flowing
    if not await anyio.to_thread.run_sync(partial(check_login, app.registry, name, password), limiter=app.hashing):
        return app.page("login.html", request, 401, csrf=app.sessions.csrf("login|" + nonce),
                        error="wrong user name or password")
    app.throttle.succeeded(client)
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(SESSION_COOKIE, app.sessions.issue(name.strip()), httponly=True,
                    samesite="strict", max_age=app.sessions.lifetime, secure=app.secure(request))
    resp.delete_cookie(PRELOGIN_COOKIE)
    return resp


# -- sessions (protected) -----------------------------------------------------------------------------
@protected.post("/logout")
async def logout(app: ConsoleDep, request: Request):
    app.sessions.end(request.cookies.get(SESSION_COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@protected.post("/logout-everywhere")
async def logout_everywhere(app: ConsoleDep):
    ended = end_sessions(app.registry)
    log.info("console: %d session(s) ended ('log out everywhere')", ended)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


# -- pages (protected) --------------------------------------------------------------------------------
@protected.get("/", response_class=HTMLResponse)
async def dashboard(app: ConsoleDep, request: Request):
    return app.page("dashboard.html", request, events=views.recent_events(app.registry, 10))


@protected.get("/live.jpg")
async def live_jpg(app: ConsoleDep):
    path = app.home.live_dir / "latest.jpg"
    if not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, media_type="image/jpeg")


@protected.get("/api/live")
async def live_json(app: ConsoleDep):
    path = app.home.live_dir / "latest.json"
    if not path.is_file():
        return JSONResponse({"faces": [], "state": "no camera frames yet"})
    try:
        return JSONResponse(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return JSONResponse({"faces": [], "state": "frame being written"})


@protected.get("/events", response_class=HTMLResponse)
async def events(app: ConsoleDep, request: Request, outcome: str = "", reason: str = "", resident: str = "", limit: int = 100):
    rows, filters, error = views.filtered_events(app.registry, outcome, reason, resident, limit)
    return app.page("events.html", request, events=rows, filters=filters, error=error,
                    reasons=views.REASON_CODES, query=urlencode(filters))


@protected.get("/residents", response_class=HTMLResponse)
async def residents(app: ConsoleDep, request: Request, message: str | None = None):
    return app.page("residents.html", request, residents=views.residents(app.registry), message=message)


@protected.post("/residents/add")
async def residents_add(app: ConsoleDep, request: Request, form: CheckedForm):
    return _residents_change(app, request, lambda: views.add(app.registry, form), lambda r: f"added {r.name} (id {r.id})")


@protected.post("/residents/{resident_id}/remove")
async def residents_remove(app: ConsoleDep, request: Request, resident_id: int):
    return _residents_change(app, request, lambda: views.remove(app.registry, resident_id), lambda r: f"removed {r.name}")


def _residents_change(app, request: Request, change, message):
    """Apply a change to the registry: back to the list with a message, or the list again with the error (400)."""
    try:
        r = change()
    except DabaiError as exc:
        return app.page("residents.html", request, 400, residents=views.residents(app.registry), error=str(exc))
    return RedirectResponse(f"/residents?{urlencode({'message': message(r)})}", 303)


@protected.get("/passes", response_class=HTMLResponse)
async def passes(app: ConsoleDep, request: Request, message: str | None = None):
    return app.page("passes.html", request, passes=views.passes(app.registry),
                    residents=views.residents(app.registry), message=message,
                    can_issue=app.home.private_key_path.is_file())


@protected.post("/passes/issue", response_class=HTMLResponse)
async def passes_issue(app: ConsoleDep, request: Request, form: CheckedForm):
    try:
        issued, png = views.issue(app.home, app.config, app.registry, form)
    except DabaiError as exc:
        return app.page("passes.html", request, 400, passes=views.passes(app.registry),
                        residents=views.residents(app.registry), error=str(exc), can_issue=True)
    return app.page("issued.html", request, issued=issued, qr=base64.b64encode(png).decode())


@protected.post("/passes/{pass_id}/revoke")
async def passes_revoke(app: ConsoleDep, request: Request, pass_id: str, form: CheckedForm):
    from dabai.gate.passes import revoke_pass

    try:
        revoke_pass(app.registry, pass_id, str(form.get("reason") or "revoked in the console"))
    except DabaiError as exc:
        return app.page("passes.html", request, 400, passes=views.passes(app.registry),
                        residents=views.residents(app.registry), error=str(exc), can_issue=True)
    return RedirectResponse(f"/passes?{urlencode({'message': f'revoked {pass_id}'})}", 303)
