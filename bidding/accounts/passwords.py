"""Password hashing with Argon2id (RFC 9106), through argon2-cffi.

Hashing takes tens of milliseconds of CPU on purpose; callers on the event loop run these functions in a
worker thread (``asyncio.to_thread``) so that one sign-in does not stall every other request.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bidding.settings import PasswordHashing

#: The Argon2id parameters of each choice of the ``password_hashing`` setting: (passes, memory in KiB, lanes).
PROFILES: dict[PasswordHashing, tuple[int, int, int]] = {
    # RFC 9106, section 4: the second recommended option, for memory-constrained settings (argon2-cffi's default).
    "rfc9106": (3, 64 * 1024, 4),
    # The OWASP Password Storage Cheat Sheet's minimum configuration for Argon2id, for small machines.
    "owasp-minimum": (2, 19 * 1024, 1),
}


def _make_hasher(profile: PasswordHashing) -> PasswordHasher:
    passes, memory, lanes = PROFILES[profile]
    return PasswordHasher(time_cost=passes, memory_cost=memory, parallelism=lanes)


#: This process's hasher: the setting's, once the application or a command has started (:func:`use_profile`).
_hasher = _make_hasher("rfc9106")


def use_profile(profile: PasswordHashing) -> None:
    """Hash new passwords with ``profile`` from now on in this process. Hashes carry their own parameters, so
    those made otherwise still verify, and are redone at their owner's next sign-in (:func:`needs_rehash`)."""
    global _hasher
    _hasher = _make_hasher(profile)
    _unknown_user_hash.cache_clear()


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
    """Whether a hash was made with other parameters than this process's, so that the next sign-in should redo it."""
    return _hasher.check_needs_rehash(encoded_hash)


@functools.cache
def _unknown_user_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_unknown_user(password: str) -> bool:
    """Spend the time a real check takes, so that response times do not reveal which logins exist."""
    verify_password(_unknown_user_hash(), password)
    return False
