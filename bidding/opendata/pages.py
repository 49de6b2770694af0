"""The transparency page (``/transparency``): what the public log and the open data are, and how anyone checks
them without trusting the platform. Public; it reads nothing but the settings."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from bidding.web import page, settings_of


@get("/transparency", include_in_schema=False)
async def transparency(request: Request[Any, Any, Any]) -> Template:
    settings = settings_of(request)
    return page(
        request,
        "transparency.html",
        base_url=settings.base_url,
        ocid_prefix=settings.ocid_prefix,
    )


routes = [transparency]
