"""What every value from outside satisfies before it goes further: ids within the column that stores them, text
without NUL, JSON that decodes, base64 that is base64.

Each check here is the one place its rule is written, for every route and every websocket message: a value that
breaks it is refused as the client's mistake (a 4xx naming the field) instead of reaching PostgreSQL or a decoder
that would fail in a way the platform could only answer with a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from typing import Annotated, Any

import msgspec

from bidding.errors import BiddingError, InvalidInput
from bidding.i18n import N_, Message

#: The largest value of PostgreSQL's ``bigint``, the type of every id column: a larger id names no row, and
#: asyncpg refuses to send it at all.
BIGINT_MAX = 2**63 - 1

#: An id as a JSON body carries it: a positive ``bigint`` (ids are drawn from sequences starting at 1, or are
#: random positive 63-bit numbers).
RowId = Annotated[int, msgspec.Meta(ge=1, le=BIGINT_MAX)]

#: PostgreSQL's text types cannot hold U+0000 (it ends a C string); asyncpg's error for it would be a 500.
NUL = "\x00"


class MalformedRequest(BiddingError):
    """A request (or websocket message) whose body could not be read at all: not UTF-8, not JSON, nested deeper
    than any of ours. Distinct from :class:`InvalidInput`, which names fields of a body that did decode."""

    status_code = 400
    code = "malformed-request"
    title = N_("The request could not be read")


def decode_json(raw: bytes | str, target: Any = Any) -> Any:
    """``raw`` decoded as JSON into ``target`` (msgspec's conversion and constraints applied).

    Raises :class:`MalformedRequest` for anything that is not JSON (invalid UTF-8, a syntax error, nesting too deep
    for the decoder) and :class:`InvalidInput` naming the field where it decoded but does not fit ``target``.
    """
    try:
        decoded = msgspec.json.decode(raw, type=target)
    except msgspec.ValidationError as error:
        raise invalid_input(error) from None
    except msgspec.DecodeError as error:
        raise MalformedRequest(N_("The body is not valid JSON: %(reason)s", reason=str(error))) from None
    except UnicodeDecodeError:
        raise MalformedRequest(N_("The body is not valid UTF-8.")) from None
    except RecursionError:
        # msgspec gives up past its own depth limit with this rather than a DecodeError.
        raise MalformedRequest(N_("The body is nested too deeply.")) from None
    # JSON can carry U+0000 (as \u0000), which no text column holds: refused here for every body, naming where.
    if (where := _nul_in(msgspec.to_builtins(decoded) if target is not Any else decoded)) is not None:
        raise InvalidInput(errors={where: N_("Text cannot contain the NUL character.")})
    return decoded


def _nul_in(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding NUL in a decoded JSON value, else ``None``."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}".lstrip(".")
            if (found := here if NUL in str(key) else _nul_in(item, here)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _nul_in(item, f"{path}.{index}".lstrip("."))) is not None:
                return found
    return None


def invalid_input(error: msgspec.ValidationError) -> InvalidInput:
    """msgspec's refusal of a decoded body (``Expected `int` <= 9…7 - at `$.lots[0].number```) as the field error a
    person reads: the dotted field name (``lots.0.number``) and the reason in their language."""
    message, _, where = str(error).rpartition(" - at `")
    if not message:
        message, where = str(error), "$"
    field, reason = field_error(where.rstrip("`"), message)
    return InvalidInput(errors={field: reason})


def field_error(path: str, message: str) -> tuple[str, Message]:
    """A msgspec validation message and the path it names (``$.lots[0].x``, or Litestar's ``lots.0.x``) as a
    dotted field name and a translated reason.

    A missing or unknown field is named itself rather than the object holding it, so that the error points where
    the fix goes.
    """
    field = _BRACKETS.sub(lambda found: "." + (found.group(1) or found.group(2)), path.removeprefix("$")).strip(".")
    for pattern, reason in _REASONS:
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = found.groupdict()
        if "field" in values:
            field = f"{field}.{values.pop('field')}".strip(".")
        if "expected" in values:
            values["expected"] = _TYPE_NAMES.get(values["expected"], Message(values["expected"]))
        if "got" in values:
            values["got"] = _TYPE_NAMES.get(values["got"], Message(values["got"]))
        return field, Message(reason.text, values)
    return field, Message(message)


#: An index or key in a msgspec path: ``[0]``, ``["key"]``.
_BRACKETS = re.compile(r'\[(?:"((?:[^"\\]|\\.)*)"|([^\]]*))\]')

#: The types msgspec names in its messages, as a person reads them.
_TYPE_NAMES: dict[str, Message] = {
    "int": N_("a whole number"),
    "float": N_("a number"),
    "decimal": N_("a decimal number"),
    "str": N_("text"),
    "bool": N_("true or false"),
    "null": N_("nothing (null)"),
    "array": N_("a list"),
    "object": N_("an object"),
    "datetime": N_("a date and time"),
    "date": N_("a date"),
    "time": N_("a time"),
    "bytes": N_("base64 data"),
    "uuid": N_("a UUID"),
}

#: msgspec's validation messages (those its decoder and ``convert`` write) and the sentence each becomes.
_REASONS: list[tuple[re.Pattern[str], Message]] = [
    (re.compile(pattern), reason)
    for pattern, reason in (
        (r"Expected `(?P<expected>\w+)`, got `(?P<got>\w+)`", N_("Expected %(expected)s, got %(got)s.")),
        (r"Expected `(?P<expected>\w+)`", N_("Expected %(expected)s.")),
        (r"Expected `\w+` >= (?P<bound>\S+)", N_("This must be at least %(bound)s.")),
        (r"Expected `\w+` > (?P<bound>\S+)", N_("This must be more than %(bound)s.")),
        (r"Expected `\w+` <= (?P<bound>\S+)", N_("This must be at most %(bound)s.")),
        (r"Expected `\w+` < (?P<bound>\S+)", N_("This must be less than %(bound)s.")),
        (r"Expected `str` of length >= (?P<bound>\d+)", N_("This needs at least %(bound)s characters.")),
        (r"Expected `str` of length <= (?P<bound>\d+)", N_("This can have at most %(bound)s characters.")),
        (r"Expected `(?:array|object)` of length >= (?P<bound>\d+)", N_("This needs at least %(bound)s items.")),
        (r"Expected `(?:array|object)` of length <= (?P<bound>\d+)", N_("This can have at most %(bound)s items.")),
        (r"Expected `str` matching regex .*", N_("This is not in the expected form.")),
        (r"Object missing required field `(?P<field>[^`]*)`", N_("This is required.")),
        (r"Object contains unknown field `(?P<field>[^`]*)`", N_("This field is not known here.")),
        (r"Invalid (?:enum )?value .*", N_("This is not one of the values allowed.")),
        (
            r"Invalid RFC3339 encoded (?:datetime|date|time)",
            N_("Give a date and time in RFC 3339, such as 2026-12-07T09:30:00+08:00."),
        ),
        (r"Expected `datetime` with a timezone component", N_("Give the time zone too, such as +08:00.")),
        (r"Number out of range", N_("This number is out of range.")),
        (r"Invalid base64 encoded string", N_("This must be base64.")),
    )
]


def base64_bytes(value: str) -> bytes | None:
    """``value`` as standard base64 (RFC 4648 §4, padded), or ``None`` for anything else.

    Non-ASCII text is "anything else" too: the standard library reports it as a ``ValueError`` of its own rather
    than ``binascii.Error``, which is how ``é`` used to reach the client as a 500.
    """
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None


def decode_base64(value: str, field: str) -> bytes:
    """``value`` as standard base64; raises :class:`InvalidInput` on ``field`` for anything else."""
    decoded = base64_bytes(value)
    if decoded is None:
        raise InvalidInput(errors={field: N_("This must be base64.")})
    return decoded


#: An id as text (a form field, a query parameter, a cursor): ASCII digits only, since ``str.isdigit`` also takes
#: "²" (which ``int`` refuses) and "١٢" (which it reads as 12).
_ID_TEXT = re.compile(r"[0-9]{1,19}")


def parse_id(raw: str) -> int | None:
    """``raw`` as an id (a positive ``bigint`` in ASCII digits), or ``None`` when it is not one."""
    if not _ID_TEXT.fullmatch(raw):
        return None
    value = int(raw)
    return value if 1 <= value <= BIGINT_MAX else None


def encode_cursor(moment: dt.datetime, row_id: int) -> str:
    """A page cursor after the row (``moment``, ``row_id``) of a list ordered by both: opaque to clients."""
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The row an :func:`encode_cursor` cursor names; raises :class:`InvalidInput` on ``cursor`` for anything else.

    A cursor comes back from the client, so it is checked as any input: its moment must carry its offset and lie
    within the years both Python and PostgreSQL can hold once in UTC (``0001-01-01T00:00:00+14:00`` does not), and
    its id must be an id.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)).decode("ascii")
        moment, _, raw_id = raw.partition("|")
        at = dt.datetime.fromisoformat(moment)
        row_id = parse_id(raw_id)
        if at.tzinfo is None or row_id is None:
            raise ValueError("not a cursor")
        return at.astimezone(dt.UTC), row_id
    except (ValueError, OverflowError, binascii.Error, UnicodeError):
        raise InvalidInput(errors={"cursor": N_("This is not a cursor this search gave.")}) from None
