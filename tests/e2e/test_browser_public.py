"""What the public and the people attending an opening see in Chromium: a cancelled tender on its notice and on the
board, an opened tender's results read while signed out (the record downloaded and checked against the digest
shown), and the notice and the opening hall on a phone 390 px wide. Any script error or CSP violation fails."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, watch_for_errors
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.browser

OPENED = "SFJY-GC-2026-002"
CANCELLED = "SFJY-FW-2026-002"
#: A phone held upright (an iPhone 12 to 15 is 390 CSS pixels wide).
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}

#: The elements on the screen reaching past its right or left edge, except those inside a box that scrolls or clips
#: them (a table may scroll sideways within the page; the page itself may not). An element wholly off the screen,
#: such as the skip link until it is focused, is out of sight on purpose.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const contained = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll("*")]
    .filter((element) => {
      const rect = element.getBoundingClientRect();
      const onScreen = rect.width > 0 && rect.right > 0 && rect.left < width;
      return onScreen && (rect.right > width + 0.5 || rect.left < -0.5) && !contained(element);
    })
    .map((element) => `${element.tagName.toLowerCase()}#${element.id}.${element.className}`);
}"""
#: How each element's text lies on the screen: its characters, the lines its text takes (one client rectangle per
#: line fragment, counted by their tops) and the width of the cell or item holding it.
TEXT_LINES = """(elements) => elements.map((element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  const holder = element.closest("td, li") ?? element;
  return { text: element.textContent.trim(), lines: tops.size, width: holder.getBoundingClientRect().width };
})"""


def tender_id(server: Server, reference: str) -> int:
    found: int = server.sql("SELECT id FROM tenders WHERE reference = $1", reference)
    return found


@pytest.fixture
def open_page(browser: Any, server: Server) -> Iterator[Callable[..., Any]]:
    """Opens pages, each in a browser of its own (one person each), all watched for errors."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_one(**options: Any) -> Any:
        context = browser.new_context(base_url=server.url, locale="zh-CN", accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        watch_for_errors(page, errors)
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert errors == []


def assert_fits_the_screen(page: Any) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert width == 390
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    assert page.evaluate(OVERFLOWING) == [], page.url


def assert_names_are_readable(page: Any, selector: str) -> None:
    """Each name takes a line or two, in a cell a good part of the screen wide: never a character or two a line."""
    shown = page.locator(selector).evaluate_all(TEXT_LINES)
    assert shown, selector
    for name in shown:
        assert name["lines"] <= 2 and len(name["text"]) / name["lines"] >= 5, name
        assert name["width"] >= 390 * 0.4, name


def test_a_cancelled_tender_shows_its_cancellation_and_no_countdown_on_its_notice_and_the_board(
    open_page: Callable[..., Any], server: Server
) -> None:
    cancelled = tender_id(server, CANCELLED)
    reason = server.sql("SELECT cancel_reason FROM tenders WHERE id = $1", cancelled)
    visitor = open_page()
    visitor.goto(f"/tenders/{cancelled}")
    banner = visitor.locator("#cancellation")
    assert banner.is_visible() and reason in banner.inner_text() and "已于" in banner.inner_text()
    assert visitor.locator(".timeline", has_text="终止").is_visible()
    assert visitor.locator("time.countdown, [data-countdown]").count() == 0
    assert visitor.locator("a[href$='/opening'], #opening").count() == 0, "no opening hall for a cancelled tender"

    # A bidder who had registered is not sent to the hall either.
    bidder = open_page()
    sign_in(bidder, "bidder2")
    bidder.goto(f"/tenders/{cancelled}")
    assert bidder.locator("#cancellation").is_visible() and bidder.locator("#opening-hall-link").count() == 0

    visitor.goto("/tenders?status=cancelled")
    card = visitor.locator(f"#tender-{cancelled}")
    assert card.is_visible()
    assert (
        card.locator(".cancellation time").is_visible() and reason[:20] in card.locator(".cancel-reason").inner_text()
    )
    assert card.locator("time.countdown, [data-countdown]").count() == 0
    # Beside open tenders, which keep counting down.
    visitor.goto("/tenders")
    assert visitor.locator(".tender-card time.countdown").count() > 0
    assert visitor.locator(f"#tender-{cancelled} time.countdown").count() == 0


def test_an_opened_tenders_results_are_read_signed_out_and_the_record_downloaded_matches_its_digest(
    open_page: Callable[..., Any], server: Server
) -> None:
    opened = tender_id(server, OPENED)
    record = json.loads(httpx.get(f"{server.url}/api/v1/tenders/{opened}/opening/record").content)
    visitor = open_page()
    visitor.goto(f"/tenders/{opened}")
    assert visitor.locator(".main-nav a[href='/sign-in']").is_visible(), "nobody is signed in"
    results = visitor.locator("#opening")
    assert results.locator("h2").inner_text() == "开标结果"
    rows = results.locator("#opening-lines tbody tr")
    assert rows.count() == len(record["lines"]) == 9
    for line in record["lines"]:
        row = visitor.locator(f"#opening-line-{line['position']}")
        cells = [row.locator("td").nth(index).inner_text() for index in range(8)]
        assert cells[0] == str(line["position"]) and line["bidder"] in cells[1] and cells[2] == str(line["lot"])
        assert cells[3].replace(",", "").endswith(line["total"]) and cells[4] == f"{line['duration_days']} 天"
        assert cells[7] == "已开标"
    assert {row["lot"] for row in record["lines"]} == {1, 2, 3}

    digest = visitor.locator("#record-digest").inner_text()
    with visitor.expect_download() as download:
        visitor.click("#record-download")
    assert download.value.suggested_filename == f"opening-record-{OPENED}.json"
    with open(download.value.path(), "rb") as file:
        assert hashlib.sha256(file.read()).hexdigest() == digest
    assert visitor.locator("#opening-hall-link").count() == 0, "the hall is for those who attend it"
    assert visitor.locator("#opening a[href='/transparency#opening-records']").is_visible()


def test_the_notice_and_the_opening_hall_are_readable_on_a_phone(open_page: Callable[..., Any], server: Server) -> None:
    opened = tender_id(server, OPENED)
    visitor = open_page(**PHONE)
    visitor.goto(f"/tenders/{opened}")
    assert visitor.locator("#opening-lines tbody tr").count() == 9
    assert_fits_the_screen(visitor)
    assert_names_are_readable(visitor, "#opening-lines td.bidder span")
    # Each value sits beside its column's name, the table's head being out of sight.
    price = visitor.locator("#opening-line-1 td").nth(3)
    label = price.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"投标总价"', label
    # The recipient shows its ends; shown whole, it wraps within the screen.
    assert visitor.locator("#opening-key .fingerprint").is_visible()
    visitor.click("#opening-key .recipient-whole summary")
    assert visitor.locator("#opening-recipient").is_visible()
    assert_fits_the_screen(visitor)

    # A tender still open for bids, with its countdown, opening place and contact.
    published = tender_id(server, "SFJY-GC-2026-001")
    visitor.goto(f"/tenders/{published}")
    assert visitor.locator("#opening .hall-address").is_visible()
    assert_fits_the_screen(visitor)

    supervisor = open_page(**PHONE)
    sign_in(supervisor, "supervisor1")
    supervisor.goto(f"/tenders/{opened}/opening")
    supervisor.locator("#hall-lines tr").nth(8).wait_for()
    supervisor.locator("#hall-record-done").wait_for()
    assert_fits_the_screen(supervisor)
    assert_names_are_readable(supervisor, "#hall-lines td:nth-child(2)")
    assert_names_are_readable(supervisor, "#hall-bid-list li")
