"""The expert draw in Chromium, from the pages only: the agency requests it on the committee page; the supervisor's
browser makes a secret with WebCrypto (frontend/static/js/draw.js), commits to it, keeps it in localStorage and
reveals it, and the members are invited; the demo's expert1 accepts, reads the parties and declares no conflict; a
member declines and the next reserve is called to the seat. Any script error or CSP violation fails.

The pool is this file's own, added through the administrator's pages as tests/e2e/test_experts_pages.py adds its
own, and retired at the end: another file's draw on the same server then cannot pick from it.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crypto.draw import contribution_commitment
from tests.e2e.conftest import DEMO_PASSWORD, Clients, Server, watch_for_errors
from tests.e2e.test_browser import sign_in
from tests.e2e.test_experts_pages import (
    PASSWORD,
    POOL_SIZE,
    SPECIALTY,
    TRANSLATORS,
    add_expert,
    opened_tender,
    retire_pool,
)

pytestmark = pytest.mark.browser

ZH = TRANSLATORS["zh-CN"]
#: The demo's goods tender, whose committee the demo leaves invited, expert1 among the members.
DEMO_REFERENCE = "SFJY-HW-2026-001"
DEMO_TITLE = "示范市第一人民医院医用CT等影像设备采购项目"
DEMO_PURCHASER = "示范市第一人民医院"
INVITED = ZH.gettext("Invited, awaiting an answer")
MINUTES_LEFT = re.compile(
    re.escape(ZH.gettext("Minutes left: %(minutes)d")).replace(re.escape("%(minutes)d"), r"(\d+)")
)
#: What countdown.js paints: days, the word for days, then hours, minutes and seconds.
COUNTDOWN = re.compile(r"^\d+ \S+ \d\d:\d\d:\d\d$")


def person_page(browser: Any, server: Server, errors: list[str]) -> Any:
    """A page in a browser context of its own (one person's cookies and localStorage), in Chinese, whose script
    errors and CSP violations go to ``errors``; the caller closes ``page.context``."""
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch_for_errors(page, errors)
    return page


def keep_screenshot(page: Any, tmp_path: Path, name: str) -> None:
    """The whole page as ``NAME.png`` in the test's folder and, when ``SCREENSHOTS`` is set, as
    ``/tmp/browser-experts-NAME.png`` too, for a person to look at."""
    paths = [tmp_path / f"{name}.png"]
    if os.environ.get("SCREENSHOTS"):
        paths.append(Path(f"/tmp/browser-experts-{name}.png"))  # noqa: S108  # a fixed place to look, asked for
    for path in paths:
        page.screenshot(path=str(path), full_page=True)


@dataclasses.dataclass
class BrowserDraw:
    """The committee drawn in the browser: the tender, this file's pool (login → expert id, and their names), the
    draw, the secret draw.js kept in the supervisor's browser, and what the supervisor's page showed after it."""

    tender_id: int
    expert_ids: dict[str, int]
    names: set[str]
    draw_id: int
    kept_secret: str
    seats_shown: list[str]
    replay_shown: str


def request_draw_in_browser(agency: Any, tender_id: int) -> None:
    """As the agency: from the tender's page to its committee page, and the request form sent for five seats of
    the pool's specialty with two reserves, from every region."""
    agency.goto(f"/tenders/{tender_id}")
    agency.click("#committee-link")
    agency.wait_for_url(re.compile(rf"/tenders/{tender_id}/committee$"))
    agency.select_option("[id='quotas.0.specialty']", SPECIALTY)
    agency.fill("[id='quotas.0.seats']", "5")
    agency.fill("[id='quotas.0.reserves']", "2")
    agency.check("input[name=region_rule][value=none]")
    agency.click("#request-draw button[type=submit]")
    agency.wait_for_url(re.compile(r"/committee\?done=requested$"))
    assert agency.locator("#rounds .tag.draw-committing").count() == 1
    assert agency.locator("#request-draw").count() == 0, "no second request while a draw awaits the supervisor"


def contribute_in_browser(supervisor: Any, tender_id: int) -> tuple[int, str]:
    """As the supervisor: the committee page's two buttons, commit then reveal, each sending its form through
    draw.js. Returns the draw and the secret the browser kept for it between the two."""
    supervisor.goto(f"/tenders/{tender_id}/committee")
    commit = supervisor.locator("form[data-draw-commit]")
    draw_id = int(commit.get_attribute("data-draw"))
    commit.locator("button").click()  # shown by draw.js once it finds WebCrypto and localStorage
    supervisor.wait_for_url(re.compile(rf"/committee\?done=committed#draw-{draw_id}$"))
    kept = supervisor.evaluate("(draw) => localStorage.getItem(`bidding.draw.${draw}.secret`)", draw_id)
    assert isinstance(kept, str) and re.fullmatch(r"[0-9a-f]{64}", kept), kept
    supervisor.locator(f"form[data-draw-reveal][data-draw='{draw_id}'] button").click()
    supervisor.wait_for_url(re.compile(rf"/committee\?done=revealed#draw-{draw_id}$"))
    return draw_id, kept


@pytest.fixture(scope="module")
def drawn(browser: Any, server: Server) -> Iterator[BrowserDraw]:
    """This file's pool added over HTTP, an opened tender of the agency, and its committee drawn in two browsers:
    the agent's request, then supervisor1's commitment and secret."""
    clients = Clients(server)
    admin = clients.sign_in("admin")
    expert_ids: dict[str, int] = {}
    try:
        tag = "".join(chr(random.randrange(0x5000, 0x9000)) for _ in range(3))  # noqa: S311  # not a secret
        run = random.randrange(10**6)  # noqa: S311  # not a secret
        names: set[str] = set()
        for serial in range(POOL_SIZE):
            login, name = f"e2e-browser-pool-{run}-{serial}", f"浏览器池{tag}专家{serial:02d}"
            expert_ids[login] = add_expert(admin, server, login, name, run + serial)
            names.add(name)
        tender_id = opened_tender(clients, server, "浏览器抽取" + tag)
        errors: list[str] = []
        agency = person_page(browser, server, errors)
        supervisor = person_page(browser, server, errors)
        try:
            sign_in(agency, "agent")
            request_draw_in_browser(agency, tender_id)
            sign_in(supervisor, "supervisor1")
            draw_id, kept = contribute_in_browser(supervisor, tender_id)
            seats_shown = supervisor.locator("#seats tbody .tag").all_inner_texts()
            replay_shown = supervisor.locator(f"#draw-{draw_id} p.notice").inner_text()
        finally:
            agency.context.close()
            supervisor.context.close()
        assert errors == []
        yield BrowserDraw(tender_id, expert_ids, names, draw_id, kept, seats_shown, replay_shown)
    finally:
        retire_pool(admin, expert_ids.values())
        clients.close()


@pytest.fixture
def people(browser: Any, server: Server) -> Iterator[Callable[..., Any]]:
    """Signs people in, each in a browser of their own, all watched for errors."""
    errors: list[str] = []
    pages: list[Any] = []

    def sign_in_as(login: str, password: str = DEMO_PASSWORD) -> Any:
        page = person_page(browser, server, errors)
        pages.append(page)
        sign_in(page, login, password)
        return page

    yield sign_in_as
    for page in pages:
        page.context.close()
    assert errors == []


def test_the_supervisors_browser_commits_to_a_secret_of_its_own_and_draws_five_members(
    drawn: BrowserDraw, clients: Clients
) -> None:
    """The secret draw.js kept is the one the log holds, its commitment the one logged before, and the five
    members drawn from it are invited; the supervision view replays the draw."""
    assert drawn.seats_shown == [INVITED] * 5
    assert drawn.replay_shown == ZH.gettext(
        "The public record replays: the same experts are drawn from what the log holds."
    )
    supervision = clients.api("supervisor1").get(f"/api/v1/tenders/{drawn.tender_id}/committee/supervision")
    assert supervision.status_code == 200, supervision.text
    invitations = supervision.json()["invitations"]
    assert sorted(i["seat"] for i in invitations) == [1, 2, 3, 4, 5], invitations
    assert {i["status"] for i in invitations} == {"pending"}
    (drawn_round,) = supervision.json()["rounds"]
    assert drawn_round["round"]["status"] == "drawn" and drawn_round["replay"] == ""
    record = clients.new(browser=False).get(f"/api/v1/tenders/{drawn.tender_id}/draws/record")
    assert record.status_code == 200, record.text
    (entries,) = [found["entries"] for found in record.json() if found["draw"] == drawn.draw_id]
    assert entries["drawn"]["details"]["contributions"] == {"supervisor": drawn.kept_secret}
    digest = bytes.fromhex(entries["committed"]["details"]["commitment"]["links"][-1])
    commitment = contribution_commitment(digest, "supervisor", bytes.fromhex(drawn.kept_secret))
    assert entries["contribution_committed"]["details"]["commitment"] == commitment.hex()


def test_expert1_accepts_the_demo_invitation_unnamed_then_reads_the_parties_and_declares(
    page: Any, server: Server, tmp_path: Path
) -> None:
    invitation_id = server.sql(
        """SELECT i.id FROM expert_invitations i JOIN experts e ON e.id = i.expert_id
           JOIN users u ON u.id = e.user_id JOIN tenders t ON t.id = i.tender_id
           WHERE u.login = 'expert1' AND t.reference = $1""",
        DEMO_REFERENCE,
    )
    assert invitation_id is not None, f"the seeded demo invites expert1 to the committee of {DEMO_REFERENCE}"
    status = server.sql("SELECT status FROM expert_invitations WHERE id = $1", invitation_id)
    assert status == "pending", f"expert1's demo invitation is {status}: it expires some minutes after the seeding"
    bidders = server.sql(
        """SELECT array_agg(DISTINCT o.name) FROM bids b JOIN organisations o ON o.id = b.organisation_id
           JOIN tenders t ON t.id = b.tender_id WHERE t.reference = $1""",
        DEMO_REFERENCE,
    )
    assert len(bidders) == 3

    sign_in(page, "expert1")
    page.click("a.button[href='/expert']")
    page.wait_for_url(re.compile(r"/expert$"))
    pending = page.locator(f"#pending #invitation-{invitation_id}")
    minutes = MINUTES_LEFT.search(pending.inner_text())
    assert minutes and int(minutes.group(1)) > 0, pending.inner_text()
    pending.locator("time[data-countdown]", has_text=COUNTDOWN).wait_for()
    for named in (DEMO_REFERENCE, DEMO_TITLE, DEMO_PURCHASER, *bidders):
        assert named not in page.content(), f"{named} is shown before expert1 accepts"

    pending.locator("button[value=accept]").click()
    page.wait_for_url(re.compile(r"/expert\?done=accepted$"))
    accepted = page.locator(f"#accepted #invitation-{invitation_id}")
    parties = accepted.inner_text()
    assert DEMO_REFERENCE in parties and DEMO_PURCHASER in parties
    assert all(bidder in parties for bidder in bidders), (bidders, parties)

    accepted.locator("button[value=declare]").click()
    page.wait_for_url(re.compile(r"/expert\?done=declared$"))
    assert page.locator(f"#pending #invitation-{invitation_id}, #accepted #invitation-{invitation_id}").count() == 0
    row = page.locator(f"#committees tr#invitation-{invitation_id}").inner_text()
    declared = server.sql(
        """SELECT count(*) FROM expert_invitations i JOIN tenders t ON t.id = i.tender_id
           WHERE t.reference = $1 AND i.status = 'declared'""",
        DEMO_REFERENCE,
    )
    assert DEMO_REFERENCE in row
    assert ZH.gettext("%(declared)d of %(size)d members declared") % {"declared": declared, "size": 7} in row
    keep_screenshot(page, tmp_path, "workspace")


def test_a_member_who_declines_is_replaced_by_the_first_reserve_and_the_agency_sees_the_seat_invited(
    drawn: BrowserDraw, people: Callable[..., Any], clients: Clients, tmp_path: Path
) -> None:
    supervision = clients.api("supervisor1")
    path = f"/api/v1/tenders/{drawn.tender_id}/committee/supervision"
    before = supervision.get(path).json()
    logins = {expert_id: login for login, expert_id in drawn.expert_ids.items()}
    ours = [i for i in before["invitations"] if i["expert_id"] in logins and i["status"] == "pending"]
    assert ours, "no member of this file's pool was drawn (another file's pool of the specialty drew them all)"
    declined = ours[0]
    (drawn_round,) = before["rounds"]
    reserves = sorted((c for c in drawn_round["candidates"] if c["role"] == "reserve"), key=lambda c: c["rank"])

    decliner = people(logins[declined["expert_id"]], PASSWORD)
    decliner.goto("/expert")
    decliner.locator(f"#pending #invitation-{declined['id']} button[value=decline]").click()
    decliner.wait_for_url(re.compile(r"/expert\?done=declined$"))
    row = decliner.locator(f"#history tr#invitation-{declined['id']}").inner_text()
    assert ZH.gettext("declined") in row
    assert decliner.locator(f"#pending #invitation-{declined['id']}").count() == 0

    after = supervision.get(path).json()
    seat = {i["id"]: i for i in after["invitations"] if i["seat"] == declined["seat"]}
    assert seat.pop(declined["id"])["status"] == "declined"
    (called,) = seat.values()
    assert called["status"] == "pending" and called["expert_id"] == reserves[0]["expert_id"] != declined["expert_id"]

    agency = people("agent")
    agency.goto(f"/tenders/{drawn.tender_id}/committee")
    seats = agency.locator("#seats tbody tr")
    assert seats.count() == 5
    shown = seats.nth(declined["seat"] - 1)
    assert shown.locator("th").inner_text() == ZH.gettext("Expert %(seat)d") % {"seat": declined["seat"]}
    assert agency.locator("#seats tbody .tag").all_inner_texts() == [INVITED] * 5
    everyone = drawn.names | {i["name"] for i in after["invitations"]}
    html = agency.content()
    assert not [name for name in everyone if name in html], "the agency reads no expert's name"
    assert "/admin/experts/" not in html
    keep_screenshot(agency, tmp_path, "committee")
