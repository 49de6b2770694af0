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
