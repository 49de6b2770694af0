"""The expert pages over HTTP against the running server: the pool for administrators (read by supervisors), the
expert's workspace and declarations, and a tender's committee, drawn from the pages end to end: the agency's
request, the supervisor's commitment and secret, the invited experts' answers. The agency never reads a name.

The pool these tests draw from is their own: sixteen experts of one specialty added through the pages, and a
published tender moved to ``opened`` in the database (the opening itself is another file's subject)."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from bidding.i18n import N_, load_translators
from crypto.draw import contribution_commitment
from tests.e2e.conftest import Clients, Server, csrf_token, sign_in
from tests.e2e.test_tenders_pages import published_tender

TRANSLATORS = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")
#: The specialty of this file's pool, and how many experts it has: 5 seats at 3 candidates a seat, and one more.
SPECIALTY = "C05"
POOL_SIZE = 16
PASSWORD = "e2e-pool-password"
#: The supervisor's secret in the draw of these tests.
SECRET = bytes(range(32))
_IDENTITY_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def chinese(text: str, **params: object) -> str:
    """A sentence as a page shows it to a reader of Chinese: translated and HTML-escaped."""
    return str(escape(TRANSLATORS["zh-CN"].render(N_(text, **params))))


def english(text: str, **params: object) -> str:
    return str(escape(TRANSLATORS["en"].render(N_(text, **params))))


def identity_number(serial: int) -> str:
    """A valid citizen identity number (GB 11643: born 1980-01-01 in 320505, the check character computed)."""
    first17 = f"32050519800101{serial % 1000:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, _IDENTITY_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def choose_language(client: httpx.Client, language: str) -> None:
    """Switch a signed-in person's pages to ``language``, as the masthead's buttons do."""
    page = client.get("/dashboard")
    response = client.post(
        "/language", data={"_csrf_token": csrf_token(page.text), "language": language, "next": "/dashboard"}
    )
    assert response.status_code == 303, response.text


def post_form(client: httpx.Client, page_path: str, action: str, data: dict[str, object]) -> httpx.Response:
    """Post a form of the page at ``page_path`` with that page's CSRF token."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={"_csrf_token": csrf_token(page.text), **data})


@dataclasses.dataclass
class Drawn:
    """The committee drawn for this file: the tender, its pool (login → name), and the invited experts' logins."""

    tender_id: int
    reference: str
    pool: dict[str, str]
    expert_ids: dict[str, int]
    invited: list[str]


def add_expert(admin: httpx.Client, server: Server, login: str, name: str, serial: int) -> int:
    """A person with the expert role, created on the users page and added to the pool on the new expert page."""
    created = post_form(
        admin,
        "/admin/users",
        "/admin/users",
        {
            "login": login,
            "display_name": name,
            "password": PASSWORD,
            "roles": "expert",
            "organisation_id": "",
            "language": "zh-CN",
        },
    )
    assert created.status_code == 303, created.text
    user_id = server.sql("SELECT id FROM users WHERE login = $1", login)
    response = post_form(
        admin,
        "/admin/experts/new",
        "/admin/experts/new",
        {
            "user_id": str(user_id),
            "identity_number": identity_number(serial),
            "title": "律师",
            "years": "12",
            "region": "示范市高新区",
            "telephone": "138 0000 0000",
            "specialties": [SPECIALTY],
        },
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/admin/experts/(\d+)\?done=created", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def retire_pool(admin: httpx.Client, expert_ids: Iterable[int]) -> None:
    """Retire a file's pool on the administrator's pages, so that another file's draw on the same server cannot
    pick from it."""
    for expert_id in expert_ids:
        path = f"/admin/experts/{expert_id}"
        assert post_form(admin, path, f"{path}/status", {"status": "retired"}).status_code == 303


def opened_tender(clients: Clients, server: Server, title: str) -> int:
    """A published tender of the demo agency, moved to ``opened`` (its bids opened), evaluation still ahead."""
    tender_id = published_tender(clients, server, title)
    server.sql("UPDATE tenders SET status = 'opened' WHERE id = $1", tender_id)
    return tender_id


def digest_of(page: str, draw_id: int) -> str:
    found = re.search(rf'data-draw="{draw_id}" data-digest="([0-9a-f]{{64}})"', page)
    assert found, "the committing round's form carries no digest"
    return found.group(1)


@pytest.fixture(scope="module")
def drawn(server: Server) -> Iterator[Drawn]:
    """The pool added, the tender opened, the draw requested by the agent and contributed to by supervisor1 through
    the committee page, as the browser's script does it (the secret's commitment, then the secret)."""
    clients = Clients(server)
    try:
        tag = "".join(chr(random.randrange(0x5000, 0x9000)) for _ in range(3))  # noqa: S311  # not a secret
        run = random.randrange(10**6)  # noqa: S311  # not a secret
        admin = clients.sign_in("admin")
        pool: dict[str, str] = {}
        expert_ids: dict[str, int] = {}
        for serial in range(POOL_SIZE):
            login = f"e2e-pool-{run}-{serial}"
            name = f"池{tag}专家{serial:02d}"
            expert_ids[login] = add_expert(admin, server, login, name, run + serial)
            pool[login] = name
        tender_id = opened_tender(clients, server, "评标委员会" + tag)
        reference = server.sql("SELECT reference FROM tenders WHERE id = $1", tender_id)
        committee = f"/tenders/{tender_id}/committee"
        agent = clients.sign_in("agent")
        requested = post_form(
            agent,
            committee,
            f"{committee}/draws",
            {
                "quotas.0.specialty": SPECIALTY,
                "quotas.0.seats": "5",
                "quotas.0.reserves": "2",
                "region_rule": "none",
            },
        )
        assert requested.status_code == 303, requested.text
        supervisor = clients.sign_in("supervisor1")
        page = supervisor.get(committee)
        draw_id = int(re.findall(r'data-draw-commit\s+data-draw="(\d+)"', page.text)[-1])
        commitment = contribution_commitment(bytes.fromhex(digest_of(page.text, draw_id)), "supervisor", SECRET)
        committed = post_form(
            supervisor, committee, f"{committee}/draws/{draw_id}/commitment", {"commitment": commitment.hex()}
        )
        assert committed.status_code == 303, committed.text
        revealed = post_form(supervisor, committee, f"{committee}/draws/{draw_id}/secret", {"secret": SECRET.hex()})
        assert revealed.status_code == 303, revealed.text
        supervision = clients.api("supervisor1").get(f"/api/v1/tenders/{tender_id}/committee/supervision")
        assert supervision.status_code == 200, supervision.text
        by_id = {expert_id: login for login, expert_id in expert_ids.items()}
        invited = [by_id[i["expert_id"]] for i in supervision.json()["invitations"] if i["expert_id"] in by_id]
        assert len(invited) == 5, supervision.text
        yield Drawn(tender_id, reference, pool, expert_ids, invited)
        retire_pool(admin, expert_ids.values())
    finally:
        clients.close()


# --- Who sees which page --------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["bidder1", "agent", "expert1", "custodian1"])
def test_the_pool_is_for_administrators_and_supervisors(server: Server, clients: Clients, login: str) -> None:
    client = clients.sign_in(login)
    expert_id = server.sql("SELECT min(id) FROM experts")
    for path in ("/admin/experts", "/admin/experts/new", f"/admin/experts/{expert_id or 1}"):
        response = client.get(path)
        assert response.status_code == 403, (path, response.status_code)
        assert "text/html" in response.headers["content-type"]
    anonymous = clients.new().get("/admin/experts")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in")


def test_the_pool_answers_in_both_languages_and_lists_the_experts(drawn: Drawn, clients: Clients) -> None:
    admin = clients.sign_in("admin")
    login, name = next(iter(drawn.pool.items()))
    page = admin.get("/admin/experts", params={"q": login})
    assert page.status_code == 200
    assert name in page.text and "320" in page.text and "法律服务" in page.text
    assert chinese("In the pool") in page.text
    choose_language(admin, "en")
    try:
        english_page = admin.get("/admin/experts", params={"specialty": SPECIALTY, "status": "active"})
        assert english_page.status_code == 200
        assert english("Expert pool") in english_page.text and "Legal services" in english_page.text
        assert admin.get(f"/admin/experts/{drawn.expert_ids[login]}").status_code == 200
        assert admin.get("/admin/experts/new").status_code == 200
    finally:
        choose_language(admin, "zh-CN")
    bad = admin.get("/admin/experts", params={"status": "sleeping"})
    assert bad.status_code == 422 and chinese("Choose a status from the list.") in bad.text


def test_a_supervisor_reads_the_pool_but_does_not_edit_it(drawn: Drawn, clients: Clients) -> None:
    supervisor = clients.sign_in("supervisor1")
    expert_id = next(iter(drawn.expert_ids.values()))
    page = supervisor.get(f"/admin/experts/{expert_id}")
    assert page.status_code == 200
    assert f'action="/admin/experts/{expert_id}"' not in page.text
    assert supervisor.get("/admin/experts").status_code == 200
    assert supervisor.get("/admin/experts/new").status_code == 403
    token = csrf_token(page.text)
    refused = supervisor.post(f"/admin/experts/{expert_id}/status", data={"_csrf_token": token, "status": "retired"})
    assert refused.status_code == 403


def test_an_administrator_edits_suspends_and_reinstates_an_expert(drawn: Drawn, clients: Clients) -> None:
    admin = clients.sign_in("admin")
    login = list(drawn.pool)[-1]  # the spare expert: the draw needs only fifteen
    expert_id = drawn.expert_ids[login]
    path = f"/admin/experts/{expert_id}"
    bad = post_form(admin, path, path, {"title": "", "years": "x", "region": "", "telephone": "", "specialties": []})
    assert bad.status_code == 422 and chinese("Give a whole number.") in bad.text
    edited = post_form(
        admin,
        path,
        path,
        {
            "title": "高级律师",
            "years": "13",
            "region": "示范市高新区",
            "telephone": "139 0000 0000",
            "specialties": [SPECIALTY, "C04"],
        },
    )
    assert edited.status_code == 303, edited.text
    assert "高级律师" in admin.get(path).text
    status = f"{path}/status"
    no_reason = post_form(admin, path, status, {"status": "suspended", "reason": ""})
    assert no_reason.status_code == 422
    assert chinese("Give the reason for the suspension, up to 1,000 characters.") in no_reason.text
    suspended = post_form(admin, path, status, {"status": "suspended", "reason": "年度考核不合格", "until": ""})
    assert suspended.status_code == 303 and suspended.headers["location"].endswith("done=suspended#status")
    assert "年度考核不合格" in admin.get(path).text
    reinstated = post_form(admin, path, status, {"status": "active"})
    assert reinstated.status_code == 303
    assert chinese("In the pool") in admin.get(path).text


def test_a_new_expert_form_shows_each_problem_at_its_field(server: Server, clients: Clients) -> None:
    admin = clients.sign_in("admin")
    response = post_form(
        admin,
        "/admin/experts/new",
        "/admin/experts/new",
        {"user_id": "no-such-login", "identity_number": "123", "title": "x", "years": "3", "region": "示范市"},
    )
    assert response.status_code == 422
    assert chinese("Choose the person, or give their login.") in response.text
    bidder = server.sql("SELECT id FROM users WHERE login = 'bidder1'")
    response = post_form(
        admin,
        "/admin/experts/new",
        "/admin/experts/new",
        {"user_id": str(bidder), "identity_number": "123", "title": "x", "years": "3", "region": "示范市"},
    )
    assert response.status_code == 422
    assert chinese("Give this person the expert role first.") in response.text
    assert 'value="123"' not in response.text, "the identity number is not sent back"


# --- The expert's own pages -----------------------------------------------------------------------------------


def test_the_workspace_is_for_experts(server: Server, clients: Clients) -> None:
    expert = clients.sign_in("expert1")
    assert expert.get("/expert").status_code == 200
    assert expert.get("/expert/declarations").status_code == 200
    for login in ("bidder1", "agent", "admin", "supervisor1"):
        client = clients.sign_in(login)
        assert client.get("/expert").status_code == 403, login
        assert client.get("/expert/declarations").status_code == 403, login


def test_an_invited_expert_sees_the_project_only_after_accepting(drawn: Drawn, clients: Clients) -> None:
    expert = sign_in(clients.new(), drawn.invited[0], PASSWORD)
    page = expert.get("/expert")
    assert page.status_code == 200
    assert chinese("Online evaluation room of the platform") in page.text
    assert drawn.reference not in page.text, "the project is not named before the expert accepts"
    invitation = int(re.findall(r'action="/expert/invitations/(\d+)"', page.text)[0])
    accepted = post_form(expert, "/expert", f"/expert/invitations/{invitation}", {"action": "accept"})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/expert?done=accepted"
    page = expert.get("/expert")
    assert drawn.reference in page.text and "示范市第一人民医院" in page.text
    assert "GP Implementing Regulations art. 9" not in page.text  # Chinese readers get Chinese
    assert chinese("Declare no conflict") in page.text
    declared = post_form(expert, "/expert", f"/expert/invitations/{invitation}", {"action": "declare"})
    assert declared.status_code == 303
    again = post_form(expert, "/expert", f"/expert/invitations/{invitation}", {"action": "accept"})
    assert again.status_code == 409
    choose_language(expert, "en")
    english_page = expert.get("/expert")
    assert english_page.status_code == 200 and english("Your committees") in english_page.text
    assert re.search(r"\d of 5 members declared", english_page.text), "the committee's state"


def test_a_recusal_needs_a_reason_and_calls_a_reserve(drawn: Drawn, clients: Clients) -> None:
    expert = sign_in(clients.new(), drawn.invited[1], PASSWORD)
    page = expert.get("/expert")
    invitation = int(re.findall(r'action="/expert/invitations/(\d+)"', page.text)[0])
    assert post_form(expert, "/expert", f"/expert/invitations/{invitation}", {"action": "accept"}).status_code == 303
    no_reason = post_form(expert, "/expert", f"/expert/invitations/{invitation}", {"action": "recuse", "reason": ""})
    assert no_reason.status_code == 422
    assert chinese("Say why you recuse yourself: the tie to a party, in a few words.") in no_reason.text
    recused = post_form(
        expert, "/expert", f"/expert/invitations/{invitation}", {"action": "recuse", "reason": "曾为采购人提供法律服务"}
    )
    assert recused.status_code == 303 and recused.headers["location"] == "/expert?done=recused"
    assert chinese("recused") in expert.get("/expert").text


def test_an_expert_keeps_its_unavailable_days_and_conflicts(drawn: Drawn, clients: Clients) -> None:
    expert = sign_in(clients.new(), drawn.invited[2], PASSWORD)
    bad = post_form(
        expert,
        "/expert/declarations",
        "/expert/declarations",
        {
            "unavailable": "2099-01-02\nnot-a-day",
            "conflicts.1.credit_code": "123",
            "conflicts.1.name": "某律师事务所",
            "conflicts.1.relation": "relative_employed",
        },
    )
    assert bad.status_code == 422
    assert chinese("Give a date such as 2026-07-01.") in bad.text
    assert "某律师事务所" in bad.text, "what was typed comes back"
    saved = post_form(
        expert,
        "/expert/declarations",
        "/expert/declarations",
        {
            "unavailable": "2099-01-02\n2099-01-03",
            "conflicts.0.credit_code": "91320505MA1XXXXXX1",
            "conflicts.0.name": "",
            "conflicts.2.credit_code": "",
        },
    )
    assert saved.status_code == 422, "a row with a code needs its name and tie"
    good = post_form(
        expert,
        "/expert/declarations",
        "/expert/declarations",
        {"unavailable": "2099-01-02, 2099-01-03", "conflicts.0.name": "", "conflicts.0.credit_code": ""},
    )
    assert good.status_code == 303, good.text
    page = expert.get("/expert/declarations")
    assert "2099-01-02\n2099-01-03" in page.text


# --- The committee --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["bidder1", "expert1", "admin", "custodian1"])
def test_the_committee_is_for_the_agency_and_supervisors(drawn: Drawn, clients: Clients, login: str) -> None:
    client = clients.sign_in(login)
    response = client.get(f"/tenders/{drawn.tender_id}/committee")
    assert response.status_code in (403, 404), response.status_code
    assert "text/html" in response.headers["content-type"]
    assert "committee-link" not in client.get(f"/tenders/{drawn.tender_id}").text


def test_the_agency_sees_seats_never_names(drawn: Drawn, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    path = f"/tenders/{drawn.tender_id}/committee"
    assert 'id="committee-link"' in agent.get(f"/tenders/{drawn.tender_id}").text
    page = agent.get(path)
    assert page.status_code == 200
    assert chinese("Expert %(seat)d", seat=1) in page.text and chinese("Expert %(seat)d", seat=5) in page.text
    assert chinese("%(minimum)d members or more, an odd number (Tendering and Bidding Law, art. 37).", minimum=5) in (
        page.text
    )
    supervision = clients.api("supervisor1").get(f"/api/v1/tenders/{drawn.tender_id}/committee/supervision")
    names = {c["name"] for r in supervision.json()["rounds"] for c in r["candidates"]}
    names |= {i["name"] for i in supervision.json()["invitations"]}
    assert names >= set(drawn.pool.values())
    choose_language(agent, "en")
    try:
        english_page = agent.get(path)
    finally:
        choose_language(agent, "zh-CN")
    assert english_page.status_code == 200 and "Expert 1" in english_page.text
    for shown in (page.text, english_page.text):
        assert not [name for name in names if name in shown], "the agency reads no expert's name"
        assert "/admin/experts/" not in shown


def test_a_second_draw_is_refused_while_the_committee_is_drawn(drawn: Drawn, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    path = f"/tenders/{drawn.tender_id}/committee"
    response = post_form(
        agent, path, f"{path}/draws", {"quotas.0.specialty": SPECIALTY, "quotas.0.seats": "5", "region_rule": "none"}
    )
    assert response.status_code == 409, response.status_code


def test_supervisors_read_names_exclusions_picks_and_the_replay(drawn: Drawn, clients: Clients) -> None:
    supervisor = clients.sign_in("supervisor1")
    assert 'id="committee-link"' in supervisor.get(f"/tenders/{drawn.tender_id}").text
    page = supervisor.get(f"/tenders/{drawn.tender_id}/committee")
    assert page.status_code == 200
    assert all(name in page.text for name in drawn.pool.values())
    assert chinese("The public record replays: the same experts are drawn from what the log holds.") in page.text
    assert chinese("Member") in page.text and chinese("Reserve") in page.text
    assert chinese("recused") in page.text or chinese("awaiting an answer") in page.text


def test_the_request_form_shows_its_problems_and_the_tender_state(server: Server, clients: Clients) -> None:
    tag = "".join(chr(0x6000 + random.randrange(900)) for _ in range(3))  # noqa: S311  # not a secret
    tender_id = published_tender(clients, server, "委员会表单" + tag)
    agent = clients.sign_in("agent")
    path = f"/tenders/{tender_id}/committee"
    page = agent.get(path)
    assert page.status_code == 200
    assert chinese("The committee is drawn once the bids are opened (the bidders are known).") in page.text
    server.sql("UPDATE tenders SET status = 'opened' WHERE id = $1", tender_id)
    page = agent.get(path)
    assert 'name="quotas.0.seats" type="number" min="1" max="99" value="5"' in page.text, "prefilled with the size"
    response = post_form(
        agent,
        path,
        f"{path}/draws",
        {
            "quotas.0.specialty": SPECIALTY,
            "quotas.0.seats": "2",
            "quotas.2.specialty": "Z99",
            "quotas.2.seats": "1",
            "region_rule": "exclude_purchaser_region",
        },
    )
    assert response.status_code == 422
    assert chinese(
        "The seats of the specialties add up to %(total)d; the committee has %(size)d.", total=3, size=5
    ) in (response.text)
    assert 'id="quotas.2.specialty-error"' in response.text, "the problem stays at its row"
    supervisor = clients.sign_in("supervisor1")
    assert supervisor.get(path).status_code == 200
    no_draw = post_form(supervisor, path, f"{path}/draws/1/secret", {"secret": "00" * 32})
    assert no_draw.status_code == 404
