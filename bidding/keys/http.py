"""Registering keys, under ``/api/v1/keys``: the public halves of a key file made in the browser or offline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody

from bidding.accounts.guards import signed_in
from bidding.errors import Conflict, Forbidden, InvalidInput
from bidding.keys import repo, service
from bidding.keys.model import Purpose
from bidding.openapi import documented
from bidding.web import DB, actor_of


class KeyIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    purpose: Purpose
    #: The Ed25519 verifier key (``name+hash+base64``, C2SP signed-note).
    verifier_key: Annotated[str, msgspec.Meta(max_length=200)]
    #: The post-quantum age recipient (``age1pq1…``).
    recipient: Annotated[str, msgspec.Meta(max_length=2500)]


class KeyOut(msgspec.Struct, frozen=True):
    id: int
    purpose: Purpose
    name: str
    verifier_key: str
    recipient: str
    registered_at: dt.datetime
    #: When a newer key replaced it; a retired key still verifies what it signed.
    retired_at: dt.datetime | None


def key_out(key: repo.RegisteredKey) -> KeyOut:
    return KeyOut(key.id, key.purpose, key.name, key.verifier_key, key.recipient, key.registered_at, key.retired_at)


@post(
    "/api/v1/keys",
    tags=["keys"],
    guards=[signed_in],
    status_code=201,
    opt=documented(Forbidden, Conflict, InvalidInput),
)
async def register_key(request: Request[Any, Any, Any], db: DB, data: JSONBody[KeyIn]) -> KeyOut:
    """Register a key's public halves: a bidder for its organisation, a custodian or an expert for themselves.

    The previous key for the same purpose is retired. Private halves never reach the platform.
    """
    key = await service.register_key(
        db, actor_of(request), data.purpose, verifier_key=data.verifier_key, recipient=data.recipient
    )
    return key_out(key)


@get("/api/v1/keys", tags=["keys"], guards=[signed_in], opt=documented(Forbidden))
async def list_keys(request: Request[Any, Any, Any], db: DB) -> list[KeyOut]:
    """Your keys and, for a bidder, your organisation's, newest first."""
    return [key_out(key) for key in await service.own_keys(db, actor_of(request))]


routes = [register_key, list_keys]
