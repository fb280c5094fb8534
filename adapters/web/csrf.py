"""CSRF protection for our forms: a random cookie, and a signed copy of it in the form.

A cross-site page can make a browser post to us but can read neither the cookie nor a page
with the signed field, so a post whose field does not match its cookie is refused. The cookie
is SameSite=Lax too.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from core.signing.links import LinkError, LinkSigner

COOKIE = "pb_csrf"
FIELD = "csrf"


def csrf_cookie(request: Request) -> tuple[str, bool]:
    """The request's CSRF cookie value (or a new one) and whether it is new."""
    value = request.cookies.get(COOKIE, "")
    if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(24), True


def csrf_field(signer: LinkSigner, cookie: str, now: datetime) -> str:
    return signer.sign("csrf", {"c": cookie}, now=now)


def set_csrf_cookie(response: Response, cookie: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax", secure=secure, path="/")


def csrf_ok(signer: LinkSigner, request: Request, field: str, now: datetime) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    if not cookie or not field:
        return False
    try:
        payload = signer.load("csrf", field, now=now)
    except LinkError:
        return False
    return hmac.compare_digest(str(payload.get("c", "")), cookie)
