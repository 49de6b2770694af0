"""Rules about organisations, people, roles, credentials and sign-in; plain functions, no I/O."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import msgspec
from msgspec import UNSET, UnsetType

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
    #: Shown on English pages instead of ``display_name``.
    display_name_en: str | None = None


class OrganisationChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What an administrator changes of an organisation: a field left out stays as it is, ``null`` clears the
    English name or the credit code. ``disabled`` stops or lets again its people sign in and use their tokens."""

    name: str | UnsetType = UNSET
    name_en: str | None | UnsetType = UNSET
    region: str | UnsetType = UNSET
    credit_code: str | None | UnsetType = UNSET
    kind: OrganisationKind | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET


class UserChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What an administrator changes of a person: a field left out stays as it is, ``null`` clears the English
    name. ``roles`` replaces them all; ``disabled`` stops or lets again the person sign in and use their tokens."""

    display_name: str | UnsetType = UNSET
    display_name_en: str | None | UnsetType = UNSET
    language: Language | UnsetType = UNSET
    roles: list[Role] | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET


class PasswordReset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A temporary password an administrator gives a person; without one, the platform makes one up."""

    password: str | None = None


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


@dataclasses.dataclass(frozen=True, slots=True)
class Profile:
    """What a person is called, speaks and may do: checked alike when they are created and when they are edited."""

    display_name: str
    display_name_en: str | None
    language: Language
    roles: list[Role]


def _profile(unverified: Profile, organisation_kind: OrganisationKind | None, errors: dict[str, Message]) -> Profile:
    """A person's profile normalised, with what is wrong with it added to ``errors``."""
    display_name = clean_text(unverified.display_name)
    display_name_en = clean_text(unverified.display_name_en or "") or None
    roles = sorted(set(unverified.roles))
    if problem := _length_problem(display_name, MAX_DISPLAY_NAME_LENGTH):
        errors["display_name"] = problem
    if display_name_en is not None and (problem := _length_problem(display_name_en, MAX_DISPLAY_NAME_LENGTH)):
        errors["display_name_en"] = problem
    if problem := roles_problem(roles, organisation_kind):
        errors["roles"] = problem
    if unverified.language not in LANGUAGES:
        errors["language"] = N_("Choose Chinese or English.")
    return Profile(display_name, display_name_en, unverified.language, roles)


def validate_new_user(unverified: NewUser, organisation_kind: OrganisationKind | None) -> NewUser:
    """Normalise a new person's details against their organisation's kind; raise :class:`InvalidInput`."""
    errors: dict[str, Message] = {}
    login = normalise_login(unverified.login)
    password = normalise_password(unverified.password)
    if not LOGIN_PATTERN.fullmatch(login):
        errors["login"] = N_(
            "A login has 3 to 64 characters: lower-case letters, digits, “.”, “_” and “-”, "
            "beginning with a letter or digit."
        )
    profile = _profile(
        Profile(unverified.display_name, unverified.display_name_en, unverified.language, unverified.roles),
        organisation_kind,
        errors,
    )
    if problem := password_problem(password, login):
        errors["password"] = problem
    if errors:
        raise InvalidInput(errors=errors)
    return NewUser(
        login,
        profile.display_name,
        password,
        profile.roles,
        unverified.organisation_id,
        profile.language,
        profile.display_name_en,
    )


def validate_profile(unverified: Profile, organisation_kind: OrganisationKind | None) -> Profile:
    """Normalise an edited profile against the person's organisation's kind; raise :class:`InvalidInput`."""
    errors: dict[str, Message] = {}
    profile = _profile(unverified, organisation_kind, errors)
    if errors:
        raise InvalidInput(errors=errors)
    return profile


def changed_profile(current: Profile, changes: UserChanges) -> Profile:
    """The profile ``changes`` make of ``current``, not yet validated."""
    return Profile(
        current.display_name if changes.display_name is UNSET else changes.display_name,
        current.display_name_en if changes.display_name_en is UNSET else changes.display_name_en,
        current.language if changes.language is UNSET else changes.language,
        list(current.roles) if changes.roles is UNSET else list(changes.roles),
    )


def changed_organisation(current: NewOrganisation, changes: OrganisationChanges) -> NewOrganisation:
    """The organisation ``changes`` make of ``current``, not yet validated."""
    return NewOrganisation(
        current.kind if changes.kind is UNSET else changes.kind,
        current.name if changes.name is UNSET else changes.name,
        current.region if changes.region is UNSET else changes.region,
        current.credit_code if changes.credit_code is UNSET else changes.credit_code,
        current.name_en if changes.name_en is UNSET else changes.name_en,
    )


def differences(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, list[object]]:
    """The fields whose values differ, each as ``[before, after]``: what an audit event of an edit records."""
    return {key: [before[key], after[key]] for key in after if before.get(key) != after[key]}


def kind_change_problem(members: Sequence[tuple[str, Sequence[Role]]], kind: OrganisationKind) -> Message | None:
    """Why an organisation whose members are ``(login, roles)`` cannot become of ``kind``, or ``None``."""
    for login, roles in members:
        if problem := roles_problem(roles, kind):
            return N_("Not while %(login)s belongs to it: %(problem)s", login=login, problem=problem)
    return None


#: Characters of the passwords the platform makes up: no 0/o, 1/l/i, which are misread when copied by hand.
TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105  # an alphabet, not a password


def temporary_password(choose: Callable[[str], str] = secrets.choice) -> str:
    """A password for an administrator to hand over: four groups of four (``k7qm-4hxp-…``), 78 bits."""
    return "-".join("".join(choose(TEMPORARY_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))


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
#
# Three limits, so that guessing stays slow without letting a guesser lock the owner out:
#
# - a login from one address is paused after 5 failures since that address last signed in to it, within 15
#   minutes: the guesser at that address waits, the owner elsewhere does not;
# - an address is paused after 30 failures for any logins within 15 minutes (one office may share an address);
# - a login is slowed down from everywhere but the addresses it signed in from in the last 30 days once it has
#   had 10 failures within a day: each attempt then waits 1 minute after the newest failure, doubling with each
#   further failure up to 15 minutes. Guessing from many addresses thus gets about 100 tries a day at a login
#   (10, then one every 15 minutes), while its owner, at an address they signed in from before, is never slowed.
#
# Refused attempts are not recorded, so that hammering a paused login does not prolong its pause.

#: Failed sign-ins are counted over this window for the pauses of a login at an address and of an address...
SIGN_IN_WINDOW = timedelta(minutes=15)
#: ...and a login is paused at an address after this many failures there since its last success from there,
MAX_FAILURES_PER_LOGIN = 5
#: and an address after this many failures for any logins.
MAX_FAILURES_PER_ADDRESS = 30
#: A login's failures from every address are counted over this window for its back-off,
LOGIN_BACKOFF_WINDOW = timedelta(hours=24)
#: free up to this many,
FREE_FAILURES_PER_LOGIN = 10
#: then each attempt waits this long after the newest failure, doubling with each further failure,
FIRST_LOGIN_BACKOFF = timedelta(minutes=1)
#: up to this long,
MAX_LOGIN_BACKOFF = timedelta(minutes=15)
#: except from the addresses the login signed in from within this period.
KNOWN_ADDRESS_PERIOD = timedelta(days=30)
#: The most failures any of the limits needs to look at (the back-off stops growing at 15 minutes).
FAILURES_COUNTED = max(MAX_FAILURES_PER_LOGIN, MAX_FAILURES_PER_ADDRESS, FREE_FAILURES_PER_LOGIN + 5)


def locked_until(recent_failures: Sequence[datetime], limit: int) -> datetime | None:
    """When a lock lifts, given failure times (newest first, within the window), or ``None`` if not locked.

    The lock lifts when the ``limit``-th newest failure leaves the window, since from then fewer than
    ``limit`` failures remain in it.
    """
    if len(recent_failures) < limit:
        return None
    return recent_failures[limit - 1] + SIGN_IN_WINDOW


def backoff_until(recent_failures: Sequence[datetime]) -> datetime | None:
    """When a login may be tried again from an address it has not signed in from, given its failures from every
    address within :data:`LOGIN_BACKOFF_WINDOW` (newest first), or ``None`` while they are few."""
    excess = len(recent_failures) - FREE_FAILURES_PER_LOGIN
    if excess < 0:
        return None
    # Capped before the power grows: 2**excess would not stay small under a long attack.
    wait = min(FIRST_LOGIN_BACKOFF * (1 << min(excess, 10)), MAX_LOGIN_BACKOFF)
    return recent_failures[0] + wait


@dataclasses.dataclass(frozen=True, slots=True)
class RecentFailures:
    now: datetime
    #: Failed sign-ins to the login from this address since its last success from here, newest first.
    for_login_from_address: Sequence[datetime]
    #: Failed sign-ins to the login from every address, newest first.
    for_login: Sequence[datetime]
    #: Failed sign-ins from the address to any login, newest first.
    from_address: Sequence[datetime]
    #: Whether the login signed in from this address within :data:`KNOWN_ADDRESS_PERIOD`.
    known_address: bool


def sign_in_paused_until(failures: RecentFailures) -> datetime | None:
    """Until when a sign-in to this login from this address is refused unchecked, or ``None`` if it may go on."""
    pauses = [
        locked_until(failures.for_login_from_address, MAX_FAILURES_PER_LOGIN),
        locked_until(failures.from_address, MAX_FAILURES_PER_ADDRESS),
        None if failures.known_address else backoff_until(failures.for_login),
    ]
    lifted = max((pause for pause in pauses if pause is not None), default=None)
    return lifted if lifted is not None and lifted > failures.now else None
