"""Rules about organisations, people, roles, credentials and sign-in; plain functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import msgspec

from bidding.errors import InvalidInput
from bidding.i18n import N_, Message
from bidding.identity import Actor, OrganisationKind, Role
from bidding.inputs import RowId
from bidding.settings import LANGUAGES, Language

ROLE_NAMES: Mapping[Role, Message] = {
    Role.ADMIN: N_("Administrator"),
    Role.AGENCY_STAFF: N_("Agency staff"),
    Role.BIDDER: N_("Bidder"),
    Role.EXPERT: N_("Expert"),
    Role.CUSTODIAN: N_("Key custodian"),
    Role.SUPERVISOR: N_("Supervisor"),
}

KIND_NAMES: Mapping[OrganisationKind, Message] = {
    OrganisationKind.BIDDER: N_("Bidder"),
    OrganisationKind.AGENCY: N_("Tendering agency"),
    OrganisationKind.PURCHASER: N_("Purchaser"),
    OrganisationKind.PLATFORM: N_("Trading centre"),
}

#: The organisations a holder of each role may belong to; ``None`` stands for "no organisation".
#: Experts sit as individuals: membership of an organisation would let them see its business, so they have
#: none (their employer is recorded for recusal instead). Administrators and supervisors work for the trading
#: centre. Custodians may be from the centre, the agency or the purchaser, never from a bidder.
ROLE_ORGANISATIONS: Mapping[Role, frozenset[OrganisationKind | None]] = {
    Role.ADMIN: frozenset({OrganisationKind.PLATFORM}),
    Role.SUPERVISOR: frozenset({OrganisationKind.PLATFORM}),
    Role.AGENCY_STAFF: frozenset({OrganisationKind.AGENCY, OrganisationKind.PURCHASER}),
    Role.BIDDER: frozenset({OrganisationKind.BIDDER}),
    Role.EXPERT: frozenset({None}),
    Role.CUSTODIAN: frozenset({OrganisationKind.AGENCY, OrganisationKind.PURCHASER, OrganisationKind.PLATFORM}),
}

#: Roles one person may not hold together: supervisors watch administrators, so one person cannot be both.
INCOMPATIBLE_ROLES: frozenset[frozenset[Role]] = frozenset({frozenset({Role.ADMIN, Role.SUPERVISOR})})

# --- Unified Social Credit Code (GB 32100-2015) --------------------------------------------------------------

#: The 31 characters a credit code may use: digits and capitals without I, O, S, V, Z (GB 32100-2015 §4.2).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weight of each of the first 17 characters in the check-character sum: 3^(i-1) mod 31 (GB 32100-2015 §5).
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a credit code whose first 17 characters are ``first17``."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> Message | None:
    """What is wrong with a normalised credit code, or ``None`` if it is valid."""
    if len(code) != 18:
        return N_("A unified social credit code has 18 characters, this one has %(count)d.", count=len(code))
    for position, character in enumerate(code, start=1):
        if character not in CREDIT_CODE_ALPHABET:
            return N_(
                "Character %(position)d, “%(character)s”, cannot appear in a unified social credit code.",
                position=position,
                character=character,
            )
    if not code[2:8].isdigit():
        return N_("Characters 3 to 8 of a unified social credit code are the region code, six digits.")
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        return N_(
            "The check character (the last one) should be %(expected)s: please check the code for a typing error.",
            expected=expected,
        )
    return None


def normalise_credit_code(raw: str) -> str:
    """Credit codes are printed in capitals, often in groups; accept spaces and lower case when typed."""
    return "".join(raw.split()).upper()


# --- Logins, names and passwords -----------------------------------------------------------------------------

#: A login: 3 to 64 of lower-case letters, digits, ".", "_" and "-", beginning with a letter or digit.
LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
MAX_NAME_LENGTH = 200
MAX_DISPLAY_NAME_LENGTH = 100
MAX_REGION_LENGTH = 100
#: Password length limits, in characters (NIST SP 800-63B §3.1.1.2 asks for at least 8 and room for 64).
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_TOKEN_NAME_LENGTH = 100


def normalise_login(raw: str) -> str:
    return raw.strip().lower()


def normalise_password(raw: str) -> str:
    """NFKC, so that one password typed on different keyboards or systems hashes the same way."""
    return unicodedata.normalize("NFKC", raw)


def clean_text(raw: str) -> str:
    """Trim and refuse control characters, which have no place in names and only serve to confuse."""
    text = " ".join(raw.split())
    return "".join(c for c in text if unicodedata.category(c) != "Cc")


def password_problem(password: str, login: str) -> Message | None:
    """What is wrong with a new password for ``login``, or ``None``. No composition rules: length matters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("A password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return N_("A password can have at most %(count)d characters.", count=MAX_PASSWORD_LENGTH)
    if login and login in password.lower():
        return N_("A password must not contain the login.")
    if len(set(password)) < 3:
        return N_("A password must not repeat one or two characters only.")
    return None


def _length_problem(value: str, maximum: int) -> Message | None:
    if not value:
        return N_("This cannot be empty.")
    if len(value) > maximum:
        return N_("This can have at most %(count)d characters.", count=maximum)
    return None


# --- Inputs ---------------------------------------------------------------------------------------------------


class NewOrganisation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: OrganisationKind
    name: str
    region: str
    credit_code: str | None = None
    name_en: str | None = None


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    login: str
    display_name: str
    password: str
    roles: list[Role]
    organisation_id: RowId | None = None
    language: Language = "zh-CN"


def validate_new_organisation(unverified: NewOrganisation) -> NewOrganisation:
    """Normalise an organisation's details; raise :class:`InvalidInput` listing every field that is wrong."""
    errors: dict[str, Message] = {}
    name = clean_text(unverified.name)
    name_en = clean_text(unverified.name_en or "") or None
    region = clean_text(unverified.region)
    credit_code = normalise_credit_code(unverified.credit_code or "") or None
    if problem := _length_problem(name, MAX_NAME_LENGTH):
        errors["name"] = problem
    if name_en is not None and (problem := _length_problem(name_en, MAX_NAME_LENGTH)):
        errors["name_en"] = problem
    if problem := _length_problem(region, MAX_REGION_LENGTH):
        errors["region"] = problem
    if credit_code is None:
        if unverified.kind is OrganisationKind.BIDDER:
            errors["credit_code"] = N_("A bidder is identified by its unified social credit code.")
    elif problem := credit_code_problem(credit_code):
        errors["credit_code"] = problem
    if errors:
        raise InvalidInput(errors=errors)
    return NewOrganisation(unverified.kind, name, region, credit_code, name_en)


def roles_problem(roles: Sequence[Role], organisation_kind: OrganisationKind | None) -> Message | None:
    """Why a person in an organisation of ``organisation_kind`` (``None``: none) cannot hold ``roles``."""
    if not roles:
        return N_("Give at least one role.")
    held = frozenset(roles)
    for pair in INCOMPATIBLE_ROLES:
        if pair <= held:
            first, second = sorted(pair)
            return N_(
                "One person cannot be both %(first)s and %(second)s.",
                first=ROLE_NAMES[first],
                second=ROLE_NAMES[second],
            )
    for role in sorted(held):
        if organisation_kind not in ROLE_ORGANISATIONS[role]:
            if organisation_kind is None:
                return N_("The role “%(role)s” needs an organisation of the right kind.", role=ROLE_NAMES[role])
            return N_(
                "The role “%(role)s” cannot be held in an organisation of the kind “%(kind)s”.",
                role=ROLE_NAMES[role],
                kind=KIND_NAMES[organisation_kind],
            )
    return None


def validate_new_user(unverified: NewUser, organisation_kind: OrganisationKind | None) -> NewUser:
    """Normalise a new person's details against their organisation's kind; raise :class:`InvalidInput`."""
    errors: dict[str, Message] = {}
    login = normalise_login(unverified.login)
    display_name = clean_text(unverified.display_name)
    password = normalise_password(unverified.password)
    roles = sorted(set(unverified.roles))
    if not LOGIN_PATTERN.fullmatch(login):
        errors["login"] = N_(
            "A login has 3 to 64 characters: lower-case letters, digits, “.”, “_” and “-”, "
            "beginning with a letter or digit."
        )
    if problem := _length_problem(display_name, MAX_DISPLAY_NAME_LENGTH):
        errors["display_name"] = problem
    if problem := password_problem(password, login):
        errors["password"] = problem
    if problem := roles_problem(roles, organisation_kind):
        errors["roles"] = problem
    if unverified.language not in LANGUAGES:
        errors["language"] = N_("Choose Chinese or English.")
    if errors:
        raise InvalidInput(errors=errors)
    return NewUser(login, display_name, password, roles, unverified.organisation_id, unverified.language)


def validate_token_name(raw: str) -> str:
    name = clean_text(raw)
    if problem := _length_problem(name, MAX_TOKEN_NAME_LENGTH):
        raise InvalidInput(errors={"name": problem})
    return name


def may_read_organisation(actor: Actor, organisation_id: int) -> bool:
    """Administrators and supervisors see every organisation; anyone else only their own."""
    if actor.is_platform or actor.has(Role.ADMIN, Role.SUPERVISOR):
        return True
    return actor.principal is not None and actor.principal.organisation_id == organisation_id


# --- Credentials ---------------------------------------------------------------------------------------------

#: Random bytes in a session cookie or an API token: 256 bits, beyond guessing.
CREDENTIAL_BYTES = 32
#: API tokens start with this, so that a leaked one is recognisable by secret scanners and people.
API_TOKEN_PREFIX = "bid_"  # noqa: S105  # a public prefix, not a secret


def credential_hash(credential: str) -> bytes:
    """What the database keeps of a session cookie or API token: its SHA-256, so a leaked table opens nothing.

    A fast hash suffices: the credentials are 256-bit random strings, not passwords people choose.
    """
    return hashlib.sha256(credential.encode()).digest()


def encode_credential(random_bytes: bytes, *, prefix: str = "") -> str:
    return prefix + base64.urlsafe_b64encode(random_bytes).rstrip(b"=").decode("ascii")


def bearer_token(authorization: str) -> str | None:
    """The API token in an ``Authorization: Bearer …`` header (RFC 6750 §2.1), or ``None``."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(API_TOKEN_PREFIX) or len(token) > 128:
        return None
    return token


# --- Sign-in throttling --------------------------------------------------------------------------------------

#: Failed sign-ins are counted over this window...
SIGN_IN_WINDOW = timedelta(minutes=15)
#: ...and a login is locked after this many failures since its last success in the window,
MAX_FAILURES_PER_LOGIN = 5
#: and an address after this many failures for any logins (one office may share an address).
MAX_FAILURES_PER_ADDRESS = 30


def locked_until(recent_failures: Sequence[datetime], limit: int) -> datetime | None:
    """When a lock lifts, given failure times (newest first, within the window), or ``None`` if not locked.

    The lock lifts when the ``limit``-th newest failure leaves the window, since from then fewer than
    ``limit`` failures remain in it.
    """
    if len(recent_failures) < limit:
        return None
    return recent_failures[limit - 1] + SIGN_IN_WINDOW
