"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme), for every JSON value that is signed or hashed.

One value has one byte string: keys sorted by their UTF-16 code units, no insignificant whitespace, numbers in
their shortest form. Amounts of money are never numbers here but decimal strings, so no float ever decides a
signature.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import rfc8785


class CanonicalJSONError(ValueError):
    """A value has no canonical JSON form (a float out of range, a huge integer, a non-JSON type)."""


# The fast path. For a value of objects with string keys, arrays, strings, booleans, null and integers of at most
# 2**53 - 1 in magnitude, whose keys hold no character beyond U+FFFF, Python's own compact, key-sorted, unescaped
# encoding IS the RFC 8785 one: integers print alike, strings are escaped alike (\" \\ \b \f \n \r \t, other
# control characters as lowercase \u00xx, nothing else), and keys sort alike (code points and UTF-16 code units
# agree below U+10000). Every other value (a float, a big integer, an astral key, a lone surrogate) goes to the
# reference implementation, about three times slower: verifying a million log entries is mostly this.

#: ECMAScript's Number.MAX_SAFE_INTEGER: the reference implementation refuses integers of greater magnitude.
_SAFE_INTEGER = 2**53 - 1
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


class _NotPlain(Exception):
    """The value needs the reference implementation."""


def _plain_integer(text: str) -> int:
    value = int(text)
    if abs(value) > _SAFE_INTEGER:
        raise _NotPlain
    return value


def _not_plain(text: str) -> Any:
    raise _NotPlain


_DECODER = json.JSONDecoder(parse_int=_plain_integer, parse_float=_not_plain, parse_constant=_not_plain)
#: A UTF-8 lead byte of a character beyond U+FFFF.
_ASTRAL_UTF8 = re.compile(rb"[\xf0-\xf4]")


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(abs(value) <= _SAFE_INTEGER)
    if kind is dict:
        if not all(map(_plain_key, value)):
            return False
        items = value.values()
    elif kind is list:
        items = value
    else:
        return False
    # Texts, most of what a document holds, are told apart here rather than in a call each.
    return all(type(item) is str or _plain(item) for item in items)


@functools.lru_cache(maxsize=4096)
def _plain_key(key: object) -> bool:
    # Cached: the documents hashed in bulk repeat a few keys in every object.
    return type(key) is str and _below_astral(key)


def _below_astral(text: str) -> bool:
    return text.isascii() or all(ord(character) <= 0xFFFF for character in text)


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``; raises :class:`CanonicalJSONError`."""
    if _plain(value):
        try:
            return _ENCODER.encode(value).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: the reference implementation says what is wrong
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as error:
        raise CanonicalJSONError(f"no canonical JSON form: {error}") from None


def parse_canonical_json(data: bytes) -> Any:
    """Parse JSON that must already be canonical; raises :class:`CanonicalJSONError` for anything else.

    Refusing non-canonical input means a signed document has exactly one encoding, so its hash names it.
    """
    if not _ASTRAL_UTF8.search(data):
        try:
            value = _DECODER.decode(data.decode())
            if _ENCODER.encode(value).encode() == data:
                return value
        except (_NotPlain, ValueError, RecursionError):
            pass  # not canonical, not JSON, or not plain: decided below
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise CanonicalJSONError("not JSON") from None
    if canonical_json(value) != data:
        raise CanonicalJSONError("JSON is not in canonical form")
    return value
