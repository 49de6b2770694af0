"""Who acts: the roles and organisation kinds of the platform, the signed-in principal, and the actor of a change.

Every domain checks permissions and records audit events with these; they hold no rules of their own beyond
"does this person hold one of these roles".
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Literal

from bidding.settings import Language


class Role(StrEnum):
    ADMIN = "admin"
    AGENCY_STAFF = "agency_staff"
    BIDDER = "bidder"
    EXPERT = "expert"
    CUSTODIAN = "custodian"
    SUPERVISOR = "supervisor"


class OrganisationKind(StrEnum):
    BIDDER = "bidder"
    AGENCY = "agency"
    PURCHASER = "purchaser"
    PLATFORM = "platform"


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in person, as established for one request."""

    user_id: int
    login: str
    display_name: str
    language: Language
    roles: frozenset[Role]
    organisation_id: int | None
    organisation_kind: OrganisationKind | None
    organisation_name: str | None
    #: How the request proved who it is: a browser session or an API token.
    via: Literal["session", "token"]
    #: The SHA-256 of the session cookie or the token, to end that credential.
    credential_hash: bytes
    #: The names shown to readers of English pages, where the person and the organisation have them.
    display_name_en: str | None = None
    organisation_name_en: str | None = None
    #: The password is a temporary one an administrator set: a session can do nothing but replace it.
    must_change_password: bool = False

    def has(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change or asks to see something: a person, someone not signed in, or the platform itself.

    Someone not signed in and the platform both have no principal; only :data:`PLATFORM` is the platform.
    """

    principal: Principal | None
    request_id: str | None = None
    client_ip: str | None = None
    #: The command line and demo data, run by whoever operates the server; never a request.
    platform: bool = False

    @property
    def is_platform(self) -> bool:
        return self.platform

    def has(self, *roles: Role) -> bool:
        return self.principal is not None and self.principal.has(*roles)


PLATFORM = Actor(None, platform=True)
