"""The rules of registering keys that need no database: which public halves are taken, and who may register."""

from __future__ import annotations

import pytest

from bidding.errors import InvalidInput
from bidding.identity import Actor, Principal, Role
from bidding.keys.model import Purpose, may_register, parse_public_halves
from crypto import age
from crypto.note import COSIGNATURE_V1, Ed25519Verifier, encode_verifier_key, generate_signer_key, parse_signer_key

SIGNER = parse_signer_key(generate_signer_key("bidder-91320505MA1MXK7U5E"))
VERIFIER_KEY = SIGNER.verifier().verifier_key()
IDENTITY = age.HybridIdentity.generate()
RECIPIENT = IDENTITY.recipient.encode()


def _refused(verifier_key: str, recipient: str) -> dict[str, object]:
    with pytest.raises(InvalidInput) as raised:
        parse_public_halves(verifier_key, recipient)
    return dict(raised.value.errors)


def test_an_ed25519_verifier_key_and_a_post_quantum_recipient_are_taken_around_blanks() -> None:
    verifier, recipient = parse_public_halves(f"  {VERIFIER_KEY}\n", f"\t{RECIPIENT} ")
    assert isinstance(verifier, Ed25519Verifier) and verifier.verifier_key() == VERIFIER_KEY
    assert recipient.encode() == RECIPIENT


def test_a_witness_key_is_refused_as_the_verifier_key() -> None:
    witness = encode_verifier_key("witness.example", bytes(range(32)), COSIGNATURE_V1)
    assert set(_refused(witness, RECIPIENT)) == {"verifier_key"}


def test_a_classical_recipient_is_refused_bids_are_kept_longer_than_it_holds() -> None:
    classical = age.X25519Identity.generate().recipient.encode()
    assert set(_refused(VERIFIER_KEY, classical)) == {"recipient"}


def test_malformed_halves_are_refused_each_by_its_field() -> None:
    assert set(_refused("not a key", "age1notarecipient")) == {"verifier_key", "recipient"}
    assert set(_refused("", RECIPIENT)) == {"verifier_key"}
    assert set(_refused(VERIFIER_KEY, "")) == {"recipient"}


def _actor(*roles: Role, organisation_id: int | None = None) -> Actor:
    return Actor(Principal(1, "x", "X", "en", frozenset(roles), organisation_id, None, None, "session", b""))


def test_a_bidder_registers_keys_for_its_organisation_and_only_with_one() -> None:
    assert may_register(_actor(Role.BIDDER, organisation_id=7), Purpose.BIDDER)
    assert not may_register(_actor(Role.BIDDER), Purpose.BIDDER)


@pytest.mark.parametrize(("purpose", "role"), [(Purpose.CUSTODIAN, Role.CUSTODIAN), (Purpose.EXPERT, Role.EXPERT)])
def test_custodians_and_experts_register_their_own_keys_without_an_organisation(purpose: Purpose, role: Role) -> None:
    assert may_register(_actor(role), purpose)
    assert may_register(_actor(role, organisation_id=3), purpose)


@pytest.mark.parametrize("purpose", list(Purpose))
def test_nobody_registers_a_key_for_a_purpose_without_its_role(purpose: Purpose) -> None:
    others = [role for role in Role if role.value != purpose.value]
    assert not may_register(_actor(*others, organisation_id=7), purpose)
    assert not may_register(Actor(None), purpose)
