from __future__ import annotations

import datetime as dt

from bidding.notifications.model import SENTENCES, Notification, notification_text

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _notification(kind: str, payload: dict[str, object]) -> Notification:
    return Notification(1, kind, 7, payload, NOW, None)


def test_a_notification_reads_as_the_sentence_of_its_kind_with_its_payload() -> None:
    text = notification_text(_notification("tender.amended", {"reference": "SFJY-GC-2026-001", "version": 2}))
    assert text.text == SENTENCES["tender.amended"].text
    assert text.params == {"reference": "SFJY-GC-2026-001", "version": 2, "specialty": "", "minutes": ""}


def test_an_experts_invitation_names_its_specialty_and_time_not_a_project() -> None:
    text = notification_text(_notification("expert.invited", {"specialty": "A08", "minutes": 30}))
    assert text.text == SENTENCES["expert.invited"].text
    assert text.params == {"reference": "", "version": "", "specialty": "A08", "minutes": 30}


def test_a_notification_of_an_unknown_kind_still_names_its_tender() -> None:
    text = notification_text(_notification("tender.something_new", {"reference": "X-1"}))
    assert "%(reference)s" in text.text
    assert text.params["reference"] == "X-1"
