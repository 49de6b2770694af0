"""The errors a person or a client may be shown, each carrying its HTTP status.

Domain code raises these; ``app.py`` turns them, once, into RFC 9457 problem JSON for API clients and into a
readable page for people. Anything else that escapes a handler is a bug: it is logged with its request id and
shown as a bare "internal error", never as a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from bidding.i18n import N_, Message


class BiddingError(Exception):
    """Root of every error shown to a user.

    ``detail`` says what went wrong in this case; ``errors`` maps form or JSON fields to what is wrong with each.
    """

    status_code: ClassVar[int] = 400
    #: Stable name of the problem type, part of its ``type`` URI; clients may branch on it.
    code: ClassVar[str] = "bad-request"
    title: ClassVar[Message] = N_("The request is not valid")

    def __init__(
        self,
        detail: Message | None = None,
        *,
        errors: Mapping[str, Message] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail.text if detail else self.title.text)
        self.detail = detail
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})


class InvalidInput(BiddingError):
    status_code = 422
    code = "invalid-input"
    title = N_("Some of the information given is not valid")


class NotSignedIn(BiddingError):
    status_code = 401
    code = "not-signed-in"
    title = N_("Please sign in")


class WrongCredentials(BiddingError):
    status_code = 401
    code = "wrong-credentials"
    title = N_("Wrong login or password")


class Forbidden(BiddingError):
    status_code = 403
    code = "forbidden"
    title = N_("You are not allowed to do this")


class CSRFFailed(Forbidden):
    code = "csrf-failed"
    title = N_("This form has expired")

    def __init__(self) -> None:
        super().__init__(
            N_("The form was open too long, or was not sent from this site. Reload the page and try again.")
        )


class AccountDisabled(Forbidden):
    code = "account-disabled"
    title = N_("This account is disabled")


class PasswordChangeRequired(Forbidden):
    code = "password-change-required"
    title = N_("Choose a new password first")

    def __init__(self) -> None:
        super().__init__(
            N_("Your password is a temporary one set by an administrator. Choose your own on your account page.")
        )


class NotFound(BiddingError):
    status_code = 404
    code = "not-found"
    title = N_("Not found")


class Conflict(BiddingError):
    status_code = 409
    code = "conflict"
    title = N_("This conflicts with what already exists")


class InvalidTransition(BiddingError):
    """Something that cannot happen in the current state of a record (a tender, a bid): the detail says why."""

    status_code = 409
    code = "invalid-transition"
    title = N_("This cannot be done now")


class TooLarge(BiddingError):
    status_code = 413
    code = "too-large"
    title = N_("This is too large")


class TooManyAttempts(BiddingError):
    status_code = 429
    code = "too-many-attempts"
    title = N_("Too many attempts")

    def __init__(self, detail: Message, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class DatabaseUnavailable(BiddingError):
    status_code = 503
    code = "database-unavailable"
    title = N_("The database cannot be reached")


#: Every problem type, by code, for the page that documents them.
PROBLEM_TYPES: Mapping[str, type[BiddingError]] = {
    error.code: error
    for error in (
        BiddingError,
        InvalidInput,
        NotSignedIn,
        WrongCredentials,
        Forbidden,
        CSRFFailed,
        AccountDisabled,
        PasswordChangeRequired,
        NotFound,
        Conflict,
        InvalidTransition,
        TooLarge,
        TooManyAttempts,
        DatabaseUnavailable,
    )
}
