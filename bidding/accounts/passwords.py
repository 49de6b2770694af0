"""Password hashing with Argon2id (RFC 9106), through argon2-cffi.

Hashing takes tens of milliseconds of CPU on purpose; callers on the event loop run these functions in a
worker thread (``asyncio.to_thread``) so that one sign-in does not stall every other request.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: RFC 9106's second recommended profile (64 MiB, 3 passes, 4 lanes), argon2-cffi's default.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (``$argon2id$v=19$…``) of an already normalised password."""
    return _hasher.hash(password)


def verify_password(encoded_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``encoded_hash``; a malformed hash counts as no match."""
    try:
        return _hasher.verify(encoded_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded_hash: str) -> bool:
    """Whether a hash was made with weaker parameters than today's, so that the next sign-in should redo it."""
    return _hasher.check_needs_rehash(encoded_hash)


@functools.cache
def _unknown_user_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_unknown_user(password: str) -> bool:
    """Spend the time a real check takes, so that response times do not reveal which logins exist."""
    verify_password(_unknown_user_hash(), password)
    return False
