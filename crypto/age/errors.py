"""The errors of the age component: one root, and a subclass for each part of a file that can be at fault.

The subclasses follow the failure classes of the C2SP CCTV age test vectors, so that a caller (and the tests)
can tell a malformed header from a wrong key, a tampered header from a damaged payload.
"""

from __future__ import annotations


class AgeError(Exception):
    """An age file, key or recipient cannot be used; the message says why, never which secret was wrong."""


class KeyFormatError(AgeError):
    """A recipient or identity string, or a set of recipients, is not valid (or PQ and non-PQ are mixed)."""


class HeaderError(AgeError):
    """The header is malformed, too large, or a recipient stanza addressed to us is invalid."""


class NoIdentityMatch(AgeError):
    """The header is well formed, but none of its stanzas opens with the identities given."""


class HeaderMacError(AgeError):
    """A file key was unwrapped, but the header's MAC does not match: the header was altered."""


class PayloadError(AgeError):
    """The payload is damaged, truncated or followed by extra data; plaintext already released is not whole."""


class ArmorError(AgeError):
    """The ASCII armor is not the strict PEM encoding age requires."""
