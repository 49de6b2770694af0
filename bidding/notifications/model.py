"""A notification, and how it reads: a kind and the few values its sentence names, never the news itself (the
tender's page holds that, for whoever may see it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from bidding.i18n import N_, Message


@dataclasses.dataclass(frozen=True, slots=True)
class Notification:
    id: int
    kind: str
    tender_id: int | None
    payload: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None


#: A notification as a sentence, by kind; the parameters come from each notification's payload.
SENTENCES: Mapping[str, Message] = {
    "tender.amended": N_("Tender %(reference)s was amended (version %(version)s)."),
    "tender.answered": N_("A question about tender %(reference)s was answered."),
    "tender.answer_corrected": N_("An answer about tender %(reference)s was corrected."),
    "tender.invited": N_("Your organisation is invited to tender %(reference)s."),
    "tender.cancelled": N_("Tender %(reference)s was cancelled."),
    "expert.invited": N_(
        "You are drawn for an evaluation committee (specialty %(specialty)s): accept or decline within"
        " %(minutes)s minutes in your workspace."
    ),
    "draw.awaiting_contribution": N_("The expert draw of tender %(reference)s awaits a supervisor's contribution."),
    "draw.seat_open": N_(
        "A seat of the committee of tender %(reference)s is open and no reserve is left: request a supplementary draw."
    ),
}


def notification_text(notification: Notification) -> Message:
    """A notification as a sentence for its reader."""
    payload = notification.payload
    params = {key: payload.get(key, "") for key in ("reference", "version", "specialty", "minutes")}
    sentence = SENTENCES.get(notification.kind, N_("News about tender %(reference)s."))
    return dataclasses.replace(sentence, params=params)
