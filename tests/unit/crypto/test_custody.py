import hashlib
import json
from typing import Any

import pytest

from crypto import custody
from crypto.age import HybridIdentity, X25519Identity, encrypt
from crypto.custody import CustodyError
from tests.vectors.load import load

SLIP39 = load("slip39")
SEED = bytes(range(32))


@pytest.mark.parametrize("case", SLIP39["cases"], ids=lambda case: case["mnemonics"][0][:24])
def test_slip39_vectors_through_the_custody_code(case: dict[str, object]) -> None:
    mnemonics, secret = case["mnemonics"], case["master_secret"]
    passphrase = SLIP39["passphrase"].encode()
    if secret:
        assert custody.recover_secret(mnemonics, passphrase).hex() == secret  # type: ignore[arg-type]  # the vector file gives a list of strings
    else:
        with pytest.raises(CustodyError):
            custody.recover_secret(mnemonics, passphrase)  # type: ignore[arg-type]  # the vector file gives a list of strings


@pytest.fixture(scope="module")
def custodians() -> list[tuple[str, HybridIdentity]]:
    return [(f"custodian{i}", HybridIdentity.generate()) for i in range(1, 4)]


@pytest.fixture(scope="module")
def ceremony(custodians: list[tuple[str, HybridIdentity]]) -> custody.Ceremony:
    made, identity = custody.split_opening_key_from_parts(
        "T-2026-001", [(name, key.recipient) for name, key in custodians], 2, SEED
    )
    assert identity == HybridIdentity(SEED)
    return made


def _open(ceremony: custody.Ceremony, custodians: list[tuple[str, HybridIdentity]], member: int) -> str:
    return custody.open_sealed_share(ceremony.shares[member].sealed, custodians[member][1], ceremony.tender)


def test_any_two_of_three_custodians_open_the_key(
    ceremony: custody.Ceremony, custodians: list[tuple[str, HybridIdentity]]
) -> None:
    shares = [_open(ceremony, custodians, member) for member in range(3)]
    for pair in ([0, 1], [1, 2], [2, 0]):
        rebuilt = custody.combine_shares([shares[i] for i in pair], ceremony.recipient)
        assert rebuilt.seed == SEED
    with pytest.raises(CustodyError, match="cannot be combined"):
        custody.combine_shares(shares[:1], ceremony.recipient)


def test_the_ceremony_publishes_commitments_that_check(
    ceremony: custody.Ceremony, custodians: list[tuple[str, HybridIdentity]]
) -> None:
    assert ceremony.recipient == HybridIdentity(SEED).recipient
    for member, share in enumerate(ceremony.shares):
        assert share.member == member and share.custodian == custodians[member][0]
        assert share.sealed_digest == hashlib.sha256(share.sealed).digest()
        custody.check_sealed_share(ceremony, share.custodian, share.sealed)
        assert custody.identify_share(ceremony, _open(ceremony, custodians, member)) == share
    with pytest.raises(CustodyError, match="not the sealed share"):
        custody.check_sealed_share(ceremony, "custodian1", ceremony.shares[1].sealed)
    with pytest.raises(CustodyError, match="holds no share"):
        custody.check_sealed_share(ceremony, "stranger", ceremony.shares[0].sealed)


def test_a_share_of_another_tender_is_refused_at_every_step(
    ceremony: custody.Ceremony, custodians: list[tuple[str, HybridIdentity]]
) -> None:
    other, _ = custody.split_opening_key("T-2026-002", [(n, k.recipient) for n, k in custodians], 2)
    foreign = custody.open_sealed_share(other.shares[0].sealed, custodians[0][1], "T-2026-002")
    with pytest.raises(CustodyError, match="another tender"):
        custody.open_sealed_share(other.shares[0].sealed, custodians[0][1], ceremony.tender)
    with pytest.raises(CustodyError, match="not one of this tender's shares"):
        custody.identify_share(ceremony, foreign)
    ours = _open(ceremony, custodians, 1)
    with pytest.raises(CustodyError, match="cannot be combined"):
        custody.combine_shares([foreign, ours], ceremony.recipient)
    theirs = custody.open_sealed_share(other.shares[1].sealed, custodians[1][1], "T-2026-002")
    with pytest.raises(CustodyError, match="other than the published"):
        custody.combine_shares([foreign, theirs], ceremony.recipient)


def test_a_sealed_share_opens_only_with_its_custodians_key(
    ceremony: custody.Ceremony, custodians: list[tuple[str, HybridIdentity]]
) -> None:
    with pytest.raises(CustodyError, match="does not open"):
        custody.open_sealed_share(ceremony.shares[0].sealed, custodians[1][1], ceremony.tender)


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"format": "other"}'])
def test_a_file_without_a_share_is_refused(payload: bytes) -> None:
    identity = HybridIdentity.generate()
    with pytest.raises(CustodyError, match="holds no share"):
        custody.open_sealed_share(encrypt(payload, [identity.recipient]), identity, "T")


def test_shares_holding_a_secret_of_the_wrong_size_are_refused() -> None:
    from shamir_mnemonic import generate_mnemonics

    (mnemonics,) = generate_mnemonics(1, [(1, 1)], bytes(16))
    with pytest.raises(CustodyError, match="do not hold an opening key"):
        custody.combine_shares(mnemonics, HybridIdentity(SEED).recipient)


@pytest.mark.parametrize(
    ("count", "threshold", "seed", "message"),
    [
        (0, 1, SEED, "1 to 16 custodians"),
        (17, 1, SEED, "1 to 16 custodians"),
        (3, 4, SEED, "threshold must be from 1 to 3"),
        (3, 0, SEED, "threshold must be from 1 to 3"),
        (3, 2, bytes(16), "must be 32 bytes"),
        (3, 1, SEED, "threshold must be 2 or more"),
    ],
)
def test_impossible_splits_are_refused(count: int, threshold: int, seed: bytes, message: str) -> None:
    recipients = [(f"c{i}", X25519Identity.generate().recipient) for i in range(count)]
    with pytest.raises(CustodyError, match=message):
        custody.split_opening_key_from_parts("T", recipients, threshold, seed)  # type: ignore[arg-type]  # wrong values on purpose


def test_one_custodian_cannot_hold_two_shares() -> None:
    recipient = HybridIdentity.generate().recipient
    with pytest.raises(CustodyError, match="only one share"):
        custody.split_opening_key("T", [("a", recipient), ("a", recipient)], 2)


# --- The ceremony file -----------------------------------------------------------------------------------------


def _ceremony_value(threshold: int = 2) -> tuple[dict[str, Any], list[HybridIdentity]]:
    identities = [HybridIdentity(bytes([i]) * 32) for i in range(1, 4)]
    ceremony, _ = custody.split_opening_key_from_parts(
        "T-1", [(f"c{i}", identity.recipient) for i, identity in enumerate(identities)], threshold, bytes(32)
    )
    value: dict[str, Any] = json.loads(custody.encode_ceremony(ceremony))
    return value, identities


def test_a_ceremony_file_round_trips_and_its_shares_still_open() -> None:
    value, identities = _ceremony_value()
    ceremony = custody.parse_ceremony(json.dumps(value).encode())
    assert ceremony.threshold == 2 and [s.custodian for s in ceremony.shares] == ["c0", "c1", "c2"]
    shares = [custody.open_sealed_share(s.sealed, identities[s.member], "T-1") for s in ceremony.shares[:2]]
    assert custody.combine_shares(shares, ceremony.recipient).recipient == ceremony.recipient
    assert custody.encode_ceremony(ceremony) == custody.encode_ceremony(
        custody.parse_ceremony(json.dumps(value).encode())
    )


def _mutations() -> list[tuple[Any, str]]:
    def change(path: tuple[Any, ...], new: Any) -> Any:
        def apply(value: dict[str, Any]) -> None:
            target: Any = value
            for key in path[:-1]:
                target = target[key]
            if new is _DELETE:
                del target[path[-1]]
            else:
                target[path[-1]] = new

        return apply

    return [
        (change(("format",), "other"), "not a ceremony file"),
        (change(("recipient",), "age1qqq"), "not an age recipient"),
        (change(("recipient",), X25519Identity.generate().recipient.encode()), "must be post-quantum"),
        (change(("shares",), {}), "'shares' is missing"),
        (change(("shares", 0), "x"), "each share must be an object"),
        (change(("shares", 0, "sealed"), "***"), "not base64"),
        (change(("shares", 0, "sealed"), ""), "1 to 16384 bytes"),
        (change(("shares", 0, "member"), 1), "by member number"),
        (change(("shares", 0, "member"), True), "'member' is missing"),
        (change(("shares", 0, "sealed_sha256"), "AB" * 32), "lower-case hex"),
        (change(("shares", 0, "sealed_sha256"), "zz" * 32), "lower-case hex"),
        (change(("shares", 0, "sealed_sha256"), "00" * 32), "does not match its SHA-256"),
        (change(("threshold",), 4), "threshold from 1"),
        (change(("shares", 1, "custodian"), "c0"), "one share"),
        (change(("tender",), _DELETE), "'tender' is missing"),
    ]


_DELETE = object()


@pytest.mark.parametrize(("mutate", "message"), _mutations())
def test_a_malformed_ceremony_file_is_refused_saying_why(mutate: Any, message: str) -> None:
    value, _ = _ceremony_value()
    mutate(value)
    with pytest.raises(custody.CustodyError, match=message):
        custody.parse_ceremony(json.dumps(value).encode())


@pytest.mark.parametrize("data", [b"\xff", b"[]", b"{"])
def test_a_file_that_is_no_ceremony_is_refused(data: bytes) -> None:
    with pytest.raises(custody.CustodyError):
        custody.parse_ceremony(data)
