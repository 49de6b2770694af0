import pytest

from crypto import bech32
from crypto.age import (
    HybridIdentity,
    HybridRecipient,
    KeyFormatError,
    NoIdentityMatch,
    ScryptIdentity,
    ScryptRecipient,
    X25519Identity,
    decrypt,
    encrypt,
    parse_identity,
    parse_recipient,
)
from crypto.age.errors import HeaderError
from crypto.age.header import Stanza
from crypto.age.recipients import HYBRID_PUBLIC_SIZE, check_recipient_mix
from tests.vectors.load import load

KEYS = load("age_keys")
FILE_KEY = bytes(range(16))


@pytest.mark.parametrize("kind", ["pq", "x25519"])
def test_the_specification_examples_give_their_recipients(kind: str) -> None:
    identity = parse_identity(KEYS[kind]["identity"])
    assert identity.recipient.encode() == KEYS[kind]["recipient"]
    assert identity.encode() == KEYS[kind]["identity"]
    assert parse_recipient(KEYS[kind]["recipient"]) == identity.recipient


def test_generated_identities_round_trip_through_their_strings() -> None:
    for identity in (HybridIdentity.generate(), X25519Identity.generate()):
        assert parse_identity(identity.encode()) == identity
        assert parse_recipient(identity.recipient.encode()) == identity.recipient


def test_secrets_stay_out_of_reprs() -> None:
    for secret in (HybridIdentity(bytes(32)), X25519Identity(bytes(32)), ScryptIdentity(b"pw"), ScryptRecipient(b"pw")):
        assert "pw" not in repr(secret) and "\\x00" not in repr(secret)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("age1notbech32", "not an age recipient"),
        (KEYS["x25519"]["recipient"].upper(), "lower case"),
        (bech32.encode("age", bytes(31)), "unknown or malformed"),
        (bech32.encode("agex", bytes(32)), "unknown or malformed"),
        (bech32.encode("age1pq", b"\xff" * HYBRID_PUBLIC_SIZE), "not a valid post-quantum"),
    ],
)
def test_malformed_recipients_are_refused(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        parse_recipient(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AGE-SECRET-KEY-1NOTBECH32", "not an age identity"),
        (KEYS["x25519"]["identity"].lower(), "upper case"),
        (bech32.encode("AGE-SECRET-KEY-", bytes(31)).upper(), "unknown or malformed"),
        (bech32.encode("AGE-SECRET-KEY-PQ-", bytes(33)).upper(), "unknown or malformed"),
    ],
)
def test_malformed_identities_are_refused(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        parse_identity(text)


def test_x25519_wrapping_is_deterministic_given_the_ephemeral_secret() -> None:
    identity = parse_identity(KEYS["x25519"]["identity"])
    assert isinstance(identity, X25519Identity)
    first = identity.recipient.wrap_from_parts(FILE_KEY, bytes(range(32)))
    assert first == identity.recipient.wrap_from_parts(FILE_KEY, bytes(range(32)))
    assert identity.unwrap([first]) == FILE_KEY


def test_identities_ignore_stanzas_of_other_types() -> None:
    stanzas = [Stanza(("example.org/other", "x"), b"")]
    for identity in (HybridIdentity.generate(), X25519Identity.generate(), ScryptIdentity(b"pw")):
        assert identity.unwrap(stanzas) is None


def test_a_passphrase_seals_and_opens_a_file() -> None:
    sealed = encrypt(b"secret bid", [ScryptRecipient(b"correct horse", work_factor=10)])
    assert decrypt(sealed, [ScryptIdentity(b"correct horse")]) == b"secret bid"
    with pytest.raises(NoIdentityMatch):
        decrypt(sealed, [ScryptIdentity(b"wrong horse")])
    with pytest.raises(HeaderError, match="above the limit"):
        decrypt(sealed, [ScryptIdentity(b"correct horse", max_work_factor=9)])


def test_scrypt_wrapping_is_deterministic_given_the_salt() -> None:
    recipient = ScryptRecipient(b"pw", work_factor=10)
    stanza = recipient.wrap_from_parts(FILE_KEY, bytes(16))
    assert stanza == recipient.wrap_from_parts(FILE_KEY, bytes(16))
    assert stanza.args == ("scrypt", "AAAAAAAAAAAAAAAAAAAAAA", "10")


def test_recipients_are_mixed_only_as_age_allows() -> None:
    pq, classic = HybridIdentity.generate().recipient, X25519Identity.generate().recipient
    check_recipient_mix([pq, HybridIdentity.generate().recipient])
    check_recipient_mix([classic])
    with pytest.raises(KeyFormatError, match="no recipients"):
        check_recipient_mix([])
    with pytest.raises(KeyFormatError, match="cannot be mixed"):
        check_recipient_mix([pq, classic])
    with pytest.raises(KeyFormatError, match="passphrase"):
        check_recipient_mix([ScryptRecipient(b"pw"), classic])
    with pytest.raises(KeyFormatError, match="cannot be mixed"):
        encrypt(b"x", [pq, classic])


def test_a_hybrid_recipient_with_a_bad_key_fails_at_sealing() -> None:
    with pytest.raises(KeyFormatError):
        encrypt(b"x", [HybridRecipient(b"\xff" * HYBRID_PUBLIC_SIZE)])


@pytest.mark.parametrize("kind", ["pq", "x25519"])
@pytest.mark.parametrize("length", [31, 33])
def test_a_stanza_body_that_is_not_32_bytes_is_refused_before_decrypting(kind: str, length: int) -> None:
    identity = HybridIdentity.generate() if kind == "pq" else X25519Identity.generate()
    (stanza,) = identity.recipient.wrap(FILE_KEY)
    with pytest.raises(HeaderError, match="not 32 bytes"):
        identity.unwrap([Stanza(stanza.args, (stanza.body + bytes(2))[:length])])
