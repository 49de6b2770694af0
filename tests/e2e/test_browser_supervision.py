"""A supervisor in Chromium: filters the audit trail by action, opens an event and sees that it matches the public
log, then follows its subject to the tender's timeline. Any script error or CSP violation fails."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bidding.i18n import load_translators
from tests.e2e.conftest import Server
from tests.e2e.test_browser import sign_in
from tests.e2e.test_supervision_pages import MATCHES

pytestmark = pytest.mark.browser

ZH = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")["zh-CN"]


def test_a_supervisor_filters_the_trail_opens_an_event_and_its_tender_timeline(page: Any, server: Server) -> None:
    sign_in(page, "supervisor1")
    page.click(f".main-nav a:has-text('{ZH.gettext('Audit trail')}')")
    page.wait_for_url("**/supervision/events")
    page.fill("#action", "tender.published")
    page.click("form.search-form button[type=submit]")
    page.wait_for_url("**/supervision/events?*action=tender.published*")
    actions = page.locator("table.events tbody td:nth-child(4)").all_inner_texts()
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
    assert page.locator("table.events code", has_text="tender.published").count() == 1
    assert page.locator("a[href$='/export']").is_visible()
