"""Behind HTTPS (BIDDING_PUBLIC_URL=https://…) cookies are Secure, host-only and prefixed, and HSTS is sent."""

from __future__ import annotations

import re

import httpx

from bidding.app import create_app
from bidding.db import Database
from bidding.identity import Role
from bidding.settings import Settings
from tests.integration.conftest import PASSWORD, MakeUser


async def test_cookies_are_secure_and_prefixed_behind_https(
    db: Database, database_url: str, make_user: MakeUser
) -> None:
    await make_user("secure.person", Role.EXPERT)
    settings = Settings(database_url=database_url, secret_key="t" * 64, public_url="https://bids.example.org")
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://bids.example.org") as client:
        form = await client.get("/sign-in", headers={"accept": "text/html"})
        assert form.headers["strict-transport-security"].startswith("max-age=63072000")
        csrf_cookie = form.headers["set-cookie"]
        assert csrf_cookie.startswith("__Host-csrf=") and "Secure" in csrf_cookie and "Domain" not in csrf_cookie
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        response = await client.post(
            "/sign-in", data={"_csrf_token": token.group(1), "login": "secure.person", "password": PASSWORD}
        )
        assert response.status_code == 303
        session_cookie = response.headers["set-cookie"]
        assert session_cookie.startswith("__Host-session=")
        for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=lax"):
            assert attribute in session_cookie
        assert (await client.get("/dashboard", headers={"accept": "text/html"})).status_code == 200
