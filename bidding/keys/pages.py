"""The keys page: the keys a person (and, for a bidder, its organisation) has registered, a key file made in the
browser, and a form for the public halves of a key file made offline with ``bidding keygen``.

The key file itself is made by ``/static/js/keys-page.js`` in the browser and saved by the person; only its public
halves (the recipient and the verifier key) reach the platform, through ``POST /api/v1/keys``. The form here takes
the same two halves for someone who made the file offline. Both go through :func:`bidding.keys.service.register_key`,
which retires the previous key of the same purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from bidding.accounts import service as accounts_service
from bidding.accounts.guards import requires
from bidding.errors import Conflict, InvalidInput
from bidding.i18n import N_, Message
from bidding.identity import Actor, Role
from bidding.keys import model, service
from bidding.keys.model import Purpose
from bidding.web import DB, actor_of, page, see_other

#: Those who hold keys: a bidder (its organisation's), a key custodian and an expert (their own).
key_holders = requires(Role.BIDDER, Role.CUSTODIAN, Role.EXPERT)

PURPOSE_NAMES: Mapping[Purpose, Message] = {
    Purpose.BIDDER: N_("Bidding (your organisation's key)"),
    Purpose.CUSTODIAN: N_("Key custodian"),
    Purpose.EXPERT: N_("Expert"),
}
#: What the page says after the offline form worked, by the ``done`` of the redirect (the browser's script uses
#: the same after registering a key it made).
DONE: Mapping[str, Message] = {
    "registered": N_(
        "The key is registered. Any earlier key for the same purpose is retired: it is no longer used for new "
        "bids or shares, and what it signed stays verifiable."
    ),
}


def purposes_of(actor: Actor) -> list[Purpose]:
    """The purposes the actor may register a key for, in the order of :class:`Purpose`."""
    return [purpose for purpose in Purpose if model.may_register(actor, purpose)]


async def default_key_name(db: DB, actor: Actor, purpose: Purpose) -> str:
    """The name a new key file gets unless the person changes it: ``bidder-<credit code>``, ``custodian-<login>``.

    The name is what signatures by the key carry, so it says whose key it is; a login is already a valid key name
    (lower-case letters, digits, ``.``, ``_`` and ``-``), and so is a credit code.
    """
    principal = actor.principal
    assert principal is not None
    if purpose is Purpose.BIDDER and principal.organisation_id is not None:
        organisation = await accounts_service.get_organisation(db, actor, principal.organisation_id)
        if organisation.credit_code:
            return f"bidder-{organisation.credit_code}"
    return f"{purpose}-{principal.login}"


async def _keys_page(
    request: Request[Any, Any, Any],
    db: DB,
    *,
    status_code: int = 200,
    errors: Mapping[str, Message] | None = None,
    detail: Message | None = None,
    form: Mapping[str, str] | None = None,
) -> Template:
    actor = actor_of(request)
    purposes = purposes_of(actor)
    return page(
        request,
        "keys/index.html",
        status_code=status_code,
        keys=await service.own_keys(db, actor),
        purposes=[(purpose, await default_key_name(db, actor, purpose)) for purpose in purposes],
        purpose_names=PURPOSE_NAMES,
        done=DONE.get(request.query_params.get("done", "")) if not errors and detail is None else None,
        errors=dict(errors or {}),
        detail=detail,
        form=form or {},
    )


@get("/keys", include_in_schema=False, guards=[key_holders])
async def keys_page(request: Request[Any, Any, Any], db: DB) -> Template:
    """Your keys, a key file made in your browser, and the form for keys made offline."""
    return await _keys_page(request, db)


@post("/keys", include_in_schema=False, guards=[key_holders])
async def register_offline_key(request: Request[Any, Any, Any], db: DB) -> Any:
    """Register the public halves of a key file made with ``bidding keygen``; refusals come back with the form."""
    submitted = await request.form()
    form = {key: value.strip() for key, value in submitted.items() if isinstance(value, str)}
    actor = actor_of(request)
    purposes = purposes_of(actor)
    try:
        purpose = Purpose(form.get("purpose", ""))
        if purpose not in purposes:
            raise ValueError(purpose)
    except ValueError:
        return await _keys_page(
            request, db, status_code=422, errors={"purpose": N_("Choose what the key is for.")}, form=form
        )
    try:
        await service.register_key(
            db, actor, purpose, verifier_key=form.get("verifier_key", ""), recipient=form.get("recipient", "")
        )
    except InvalidInput as error:
        return await _keys_page(
            request, db, status_code=error.status_code, errors=error.errors, detail=error.detail, form=form
        )
    except Conflict as error:
        return await _keys_page(
            request, db, status_code=error.status_code, detail=error.detail or error.title, form=form
        )
    return see_other("/keys?done=registered")


routes = [keys_page, register_offline_key]
