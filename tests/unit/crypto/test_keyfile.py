import pytest

from crypto import age, keyfile
from crypto.keyfile import KeyFileError
from crypto.note import encode_signer_key

PASSPHRASE = b"a long enough passphrase"


def _sealed(text: str) -> bytes:
    return age.encrypt(text.encode(), [age.ScryptRecipient(PASSPHRASE, work_factor=10)])


def test_a_key_file_opens_with_its_passphrase_and_keeps_both_keys() -> None:
    keys = keyfile.generate_key_file("bidder-91320505MA1MXK7U5E")
    sealed = keyfile.seal_key_file(keys, PASSPHRASE, work_factor=10)
    assert sealed.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    opened = keyfile.open_key_file(sealed, PASSPHRASE)
    assert opened.identity == keys.identity and opened.signing_seed == keys.signing_seed
    assert opened.verifier_key == keys.verifier_key and opened.verifier_key.startswith("bidder-91320505MA1MXK7U5E+")
    assert "…" in repr(opened) and keys.identity.encode() not in repr(opened)


def test_the_inside_is_an_age_identity_file() -> None:
    keys = keyfile.key_file_from_parts("custodian1", bytes(32), bytes(range(32)))
    identities = [line for line in keys.text().splitlines() if line and not line.startswith("#")]
    assert identities == [keys.identity.encode()]
    envelope = age.encrypt(b"bid", [keys.recipient])
    assert age.decrypt(envelope, [age.parse_identity(identities[0])]) == b"bid"


def test_wrong_passphrases_and_damaged_files_are_refused() -> None:
    sealed = keyfile.seal_key_file(keyfile.generate_key_file("x"), PASSPHRASE, work_factor=10)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        keyfile.open_key_file(sealed, b"another passphrase")
    with pytest.raises(KeyFileError, match="damaged"):
        keyfile.open_key_file(sealed[:-50], PASSPHRASE)
    with pytest.raises(KeyFileError, match="damaged"):
        keyfile.open_key_file(age.encrypt(b"\xff\xfe", [age.ScryptRecipient(PASSPHRASE, work_factor=10)]), PASSPHRASE)


def test_short_passphrases_and_bad_names_are_refused() -> None:
    with pytest.raises(KeyFileError, match="10 characters"):
        keyfile.seal_key_file(keyfile.generate_key_file("x"), b"short")
    with pytest.raises(KeyFileError, match="cannot name a key"):
        keyfile.generate_key_file("two words")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AGE-SECRET-KEY-1\n", "not a key file"),
        ("# bidding key file v1\n", "exactly one identity"),
        ("# bidding key file v1\n# signing key (secret): nonsense\nAGE-SECRET-KEY-PQ-1X\n", "malformed"),
        (
            "# bidding key file v1\n# signing key (secret): "
            + encode_signer_key("x", bytes(32), 0x04)
            + "\n"
            + age.HybridIdentity(bytes(32)).encode()
            + "\n",
            "post-quantum identity and an Ed25519",
        ),
    ],
)
def test_malformed_key_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(KeyFileError, match=message):
        keyfile.open_key_file(_sealed(text), PASSPHRASE)
