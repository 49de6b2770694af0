"""The rules of registering keys: what a key's public halves must be, and whose keys they are."""

from __future__ import annotations

from enum import StrEnum

from bidding.errors import InvalidInput
from bidding.i18n import N_
from bidding.identity import Actor, Role
from crypto import age
from crypto.note import Ed25519Verifier, NoteError, parse_verifier_key


class Purpose(StrEnum):
    """What a key is for: a bidder organisation signs and seals bids; a custodian opens shares; an expert signs."""

    BIDDER = "bidder"
    CUSTODIAN = "custodian"
    EXPERT = "expert"


#: The role a person needs to register a key for each purpose.
PURPOSE_ROLES = {Purpose.BIDDER: Role.BIDDER, Purpose.CUSTODIAN: Role.CUSTODIAN, Purpose.EXPERT: Role.EXPERT}


def parse_public_halves(verifier_key: str, recipient: str) -> tuple[Ed25519Verifier, age.HybridRecipient]:
    """The verifier and the recipient of a key file's public halves; raises :class:`InvalidInput` naming the field.

    Only Ed25519 verifier keys (C2SP signed-note type 0x01) and post-quantum age recipients (``age1pq1…``) are
    taken: bids are kept 15 years and more, and a classical X25519 recipient would not keep them sealed that long.
    """
    errors = {}
    verifier = None
    try:
        parsed = parse_verifier_key(verifier_key.strip())
        if isinstance(parsed, Ed25519Verifier):
            verifier = parsed
        else:
            errors["verifier_key"] = N_("This is a witness key; give the verifier key of your key file.")
    except NoteError as error:
        errors["verifier_key"] = N_("This is not a verifier key: %(reason)s", reason=str(error))
    parsed_recipient = None
    try:
        candidate = age.parse_recipient(recipient.strip())
        if isinstance(candidate, age.HybridRecipient):
            parsed_recipient = candidate
        else:
            errors["recipient"] = N_("Give a post-quantum recipient (age1pq1…), not a classical one.")
    except age.KeyFormatError as error:
        errors["recipient"] = N_("This is not an age recipient: %(reason)s", reason=str(error))
    if errors or verifier is None or parsed_recipient is None:
        raise InvalidInput(errors=errors)
    return verifier, parsed_recipient


def may_register(actor: Actor, purpose: Purpose) -> bool:
    """A bidder registers its organisation's keys; custodians and experts their own."""
    principal = actor.principal
    if principal is None or not principal.has(PURPOSE_ROLES[purpose]):
        return False
    return purpose is not Purpose.BIDDER or principal.organisation_id is not None
