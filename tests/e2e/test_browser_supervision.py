"""A supervisor in Chromium: filters the audit trail by action, opens an event and sees that it matches the public
log, then follows its subject to the tender's timeline. Any script error or CSP violation fails."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from bidding.i18n import load_translators
from tests.e2e.conftest import Server, watch_for_errors
from tests.e2e.test_browser import sign_in
from tests.e2e.test_supervision_pages import MATCHES

pytestmark = pytest.mark.browser

TRANSLATORS = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")
ZH = TRANSLATORS["zh-CN"]


def test_a_supervisor_filters_the_trail_opens_an_event_and_its_tender_timeline(page: Any, server: Server) -> None:
    sign_in(page, "supervisor1")
    page.click(f".main-nav a:has-text('{ZH.gettext('Audit trail')}')")
    page.wait_for_url("**/supervision/events")
    page.fill("#action", "tender.published")
    page.click("form.search-form button[type=submit]")
    page.wait_for_url("**/supervision/events?*action=tender.published*")
    actions = page.locator("table.events tbody .action-code").all_inner_texts()
    assert actions and set(actions) == {"tender.published"}

    page.locator("a.event-link").first.click()
    page.wait_for_url("**/supervision/events/*")
    # The sequencer takes the event in within a moment of its commit; the demo's are long in by now.
    deadline = time.monotonic() + 30
    while not page.locator("#log-check.ok").count():
        assert time.monotonic() < deadline, page.locator("#log-check").inner_text()
        time.sleep(0.5)
        page.reload()
    index = page.locator("#logged-entry").get_attribute("data-index")
    assert page.locator("#log-check").inner_text() == "✓ " + ZH.gettext(MATCHES) % {"index": index}
    assert page.locator("#logged-entry").inner_text().startswith('{"action":"tender.published"')
    assert page.locator("a[href$='/receipt']").is_visible()

    subject = page.locator("dd a[href^='/supervision/tenders/']")
    subject.click()
    page.wait_for_url("**/supervision/tenders/*/events")
    tender_id = int(page.url.split("/")[-2])
    reference = server.sql("SELECT reference FROM tenders WHERE id = $1", tender_id)
    assert page.locator("h1").inner_text() == ZH.gettext("Timeline of tender %(reference)s") % {"reference": reference}
    assert page.locator("table.events .action-code", has_text="tender.published").count() == 1
    assert page.locator("a[href$='/export']").is_visible()


@pytest.mark.parametrize(
    ("login", "language", "agent", "agency", "zone"),
    [
        ("supervisor1", "zh-CN", "李娜", "示范市明诚招标代理有限公司", "中国时间 (UTC+08:00)"),
        ("supervisor2", "en", "Li Na", "Mingcheng Tendering Agency Co., Ltd.", "China Time (UTC+08:00)"),
    ],
)
def test_the_console_names_actions_people_and_organisations_and_numbers_events_and_entries_apart(
    browser: Any, server: Server, login: str, language: str, agent: str, agency: str, zone: str
) -> None:
    context = browser.new_context(base_url=server.url, locale=language)
    page = context.new_page()
    errors: list[str] = []
    watch_for_errors(page, errors)
    translator = TRANSLATORS[language]
    try:
        sign_in(page, login)
        page.goto("/supervision/events?action=tender.published&actor=agent")
        first = page.locator("table.events tbody tr").first
        assert first.locator(".action-name").inner_text() == translator.gettext("Tender published")
        assert first.locator(".action-code").inner_text() == "tender.published"
        assert first.locator(".actor-link").inner_text() == agent
        assert first.locator(".organisation-link").inner_text() == agency
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", first.locator("time").inner_text())
        assert page.locator("table.events th .time-zone").inner_text() == zone
        assert "#" not in first.inner_text(), "nothing is named by a bare number"

        first.locator("a.event-link").click()
        page.wait_for_url("**/supervision/events/*")
        event_id = int(page.url.rsplit("/", 1)[-1])
        deadline = time.monotonic() + 30
        while not page.locator("#log-check.ok").count():
            assert time.monotonic() < deadline, page.locator("#log-check").inner_text()
            time.sleep(0.5)
            page.reload()
        index = server.sql("SELECT log_index FROM log_entries WHERE event_id = $1", event_id)
        heading = translator.gettext("Event no. %(number)s") % {"number": event_id}
        assert page.locator("h1").inner_text() == f"{heading}: {translator.gettext('Tender published')}"
        numbering = translator.gettext(
            "Event no. %(number)s is entry %(index)s of the public log: its receipt says “index %(index)s”."
        ) % {"number": event_id, "index": index}
        assert page.locator("#numbering").inner_text().startswith(numbering)
        assert f"\nindex {index}\n" in page.locator("#receipt").inner_text() + "\n"
        assert page.locator("#logged-entry").get_attribute("data-index") == str(index)
        assert page.locator(".organisation-link").inner_text() == agency
    finally:
        context.close()
    assert errors == []
