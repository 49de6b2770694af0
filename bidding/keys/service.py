"""Use cases of keys: register the public halves of a key file (retiring the previous key), list one's keys."""

from __future__ import annotations

import hashlib

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Database
from bidding.errors import Forbidden
from bidding.i18n import N_
from bidding.identity import Actor
from bidding.keys import model, repo
from bidding.keys.model import Purpose


def _owner(actor: Actor, purpose: Purpose) -> tuple[int | None, int | None]:
    if not model.may_register(actor, purpose):
        raise Forbidden(N_("You cannot register a key for this purpose."))
    principal = actor.principal
    assert principal is not None
    if purpose is Purpose.BIDDER:
        return principal.organisation_id, None
    return None, principal.user_id


async def register_key(
    db: Database, actor: Actor, purpose: Purpose, *, verifier_key: str, recipient: str
) -> repo.RegisteredKey:
    """Register a key file's public halves for ``purpose``; the owner's previous key of it is retired.

    A retired key still verifies what it signed and still opens what was sealed to it: only new bids and new
    custody ceremonies use the new key. Raises InvalidInput, Forbidden or Conflict (a key already registered).
    """
    verifier, parsed_recipient = model.parse_public_halves(verifier_key, recipient)
    organisation_id, user_id = _owner(actor, purpose)
    assert actor.principal is not None
    async with db.transaction() as connection:
        retired = await repo.retire_current_key(connection, purpose, organisation_id=organisation_id, user_id=user_id)
        key = await repo.insert_key(
            connection,
            purpose,
            organisation_id=organisation_id,
            user_id=user_id,
            name=verifier.name,
            verifier_key=verifier.verifier_key(),
            recipient=parsed_recipient.encode(),
            registered_by=actor.principal.user_id,
        )
        details = {
            "purpose": str(purpose),
            "verifier_key": key.verifier_key,
            "recipient_sha256": hashlib.sha256(key.recipient.encode()).hexdigest(),
            "retired": retired,
        }
        subject = f"organisation:{organisation_id}" if organisation_id is not None else f"user:{user_id}"
        await audit_repo.insert_event(connection, event(actor, str(purpose), "key.registered", subject, details))
    return key


async def own_keys(db: Database, actor: Actor) -> list[repo.RegisteredKey]:
    """The keys of the actor's organisation (if a bidder) and the actor's own."""
    principal = actor.principal
    if principal is None:
        return []
    async with db.connection() as connection:
        return await repo.select_keys(
            connection,
            organisation_id=principal.organisation_id if model.may_register(actor, Purpose.BIDDER) else None,
            user_id=principal.user_id,
        )
