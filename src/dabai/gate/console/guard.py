"""What every console request shares, and the checks that routes declare as FastAPI dependencies.

:class:`Console` holds the app's state (registry, sessions, login throttle, templates). The dependencies:

* :func:`require_user`: a logged-in session, else :class:`LoginRequired` (answered with a redirect to /login);
* :func:`require_csrf`: on a state-changing request (anything but GET/HEAD/OPTIONS), the session's CSRF token
  in the form and a same-origin request, else ``PermissionError`` (answered 403); returns the form.

``routes.protected`` carries both as router dependencies, so a route added there is checked without a line of
its own; only ``routes.public`` (the login page) goes without, and a test walks every route to prove it.
"""

# (no "from __future__ import annotations": FastAPI must see the real Request type of the dependencies)

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from dabai.gate.config import GateConfig
from dabai.gate.console.auth import SESSION_COOKIE, LoginThrottle, Sessions
from dabai.gate.db import Registry
from dabai.gate.home import GateHome

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """No valid session: the app answers with a redirect to the login page."""


@dataclass
class Console:
    home: GateHome
    config: GateConfig
    registry: Registry
    sessions: Sessions
    throttle: LoginThrottle
    hashing: Any  # an anyio.CapacityLimiter: scrypt runs in worker threads, a few at a time
    templates: Any  # a jinja2.Environment
    secure_cookies: bool = False

    def secure(self, request: Request) -> bool:
        """Whether cookies get the Secure flag (an https request, or TLS ending at a proxy)."""
        return self.secure_cookies or request.url.scheme == "https"

    def page(self, name: str, request: Request, status: int = 200, **ctx) -> HTMLResponse:
        found = self.sessions.user_of(request.cookies.get(SESSION_COOKIE))
        ctx.setdefault("user", found[0] if found else None)
        ctx.setdefault("csrf", self.sessions.csrf(found[1]) if found else "")
        ctx.setdefault("gate_id", self.config.gate_id)
        ctx.setdefault("message", None)
        ctx.setdefault("error", None)
        return HTMLResponse(self.templates.get_template(name).render(**ctx), status_code=status)


def console(request: Request) -> Console:
    return request.app.state.console


def same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")  # set by the browser itself; pages cannot forge it
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:  # not a browser: the CSRF token alone decides
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


ConsoleDep = Annotated[Console, Depends(console)]


def require_user(request: Request, app: ConsoleDep) -> tuple[str, str]:
    """(user name, session nonce) of the request's session; LoginRequired when there is none."""
    found = app.sessions.user_of(request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginRequired()
    return found


async def require_csrf(request: Request, login: Annotated[tuple[str, str], Depends(require_user)],
                       app: ConsoleDep) -> dict:
    """The submitted form, checked: a state-changing request needs the session's CSRF token and the same origin."""
    if request.method in SAFE_METHODS:
        return {}
    form = dict(await request.form())
    if not same_origin(request) or not app.sessions.check_csrf(login[1], form.get("csrf")):
        raise PermissionError("the form is stale or came from another site; reload the page and try again")
    return form


CheckedForm = Annotated[dict, Depends(require_csrf)]  # a handler's parameter: the form, its CSRF token checked
