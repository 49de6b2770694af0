from collections.abc import Iterator

import pytest

from bidding.accounts import passwords


def test_a_hash_verifies_its_password_only() -> None:
    encoded = passwords.hash_password("correct horse battery")
    assert encoded.startswith("$argon2id$")
    assert passwords.verify_password(encoded, "correct horse battery")
    assert not passwords.verify_password(encoded, "correct horse battery!")


def test_a_malformed_hash_matches_nothing() -> None:
    assert not passwords.verify_password("not a hash", "anything")


def test_hashes_made_with_weaker_parameters_need_rehashing() -> None:
    weak = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Q7kKwV2hc0K2tWr4XwO2ew"
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse battery"))


def test_unknown_users_never_verify() -> None:
    assert passwords.verify_unknown_user("anything at all") is False


@pytest.fixture
def default_profile() -> Iterator[None]:
    yield
    passwords.use_profile("rfc9106")


@pytest.mark.usefixtures("default_profile")
def test_each_profile_hashes_with_its_parameters_and_a_change_asks_for_rehashing() -> None:
    made_by_default = passwords.hash_password("correct horse battery")
    # RFC 9106, section 4, second recommended option.
    assert made_by_default.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    passwords.use_profile("owasp-minimum")
    made_small = passwords.hash_password("correct horse battery")
    assert made_small.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(made_by_default, "correct horse battery")
    assert passwords.needs_rehash(made_by_default) and not passwords.needs_rehash(made_small)
    assert passwords.verify_unknown_user("anything at all") is False
