"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme), for every JSON value that is signed or hashed.

One value has one byte string: keys sorted by their UTF-16 code units, no insignificant whitespace, numbers in
their shortest form. Amounts of money are never numbers here but decimal strings, so no float ever decides a
signature.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785


class CanonicalJSONError(ValueError):
    """A value has no canonical JSON form (a float out of range, a huge integer, a non-JSON type)."""


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``; raises :class:`CanonicalJSONError`."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as error:
        raise CanonicalJSONError(f"no canonical JSON form: {error}") from None


def parse_canonical_json(data: bytes) -> Any:
    """Parse JSON that must already be canonical; raises :class:`CanonicalJSONError` for anything else.

    Refusing non-canonical input means a signed document has exactly one encoding, so its hash names it.
    """
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise CanonicalJSONError("not JSON") from None
    if canonical_json(value) != data:
        raise CanonicalJSONError("JSON is not in canonical form")
    return value
