"""Administration against the running server: the API's edits, disabling and password resets with each refusal, the
administrators' pages, a temporary password's session led to the password form, and the regions and English names
on the pages."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Clients, Server, csrf_token

PROBLEM = "application/problem+json"
PASSWORD = "a good long password"


def _unique(prefix: str) -> str:
    return f"{prefix}.{time.monotonic_ns()}"


@pytest.fixture
def admin_api(clients: Clients) -> httpx.Client:
    return clients.api("admin")


@pytest.fixture
def expert(server: Server) -> Iterator[tuple[str, int]]:
    """A person of this test's own (an expert, in no organisation), by login and id."""
    login = _unique("e2e.admin")
    assert server.create_user(login, PASSWORD).returncode == 0
    yield login, server.sql("SELECT id FROM users WHERE login = $1", login)


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, object] = response.json()
    assert str(problem["type"]).endswith(f"/problems/{code}")
    return problem


def nobody(clients: Clients) -> httpx.Client:
    """A program whose token is not (or no longer) one: 401. (Without any credential, an unsafe request to the
    API fails the CSRF check first, 403, as a browser's forged request would.)"""
    return clients.new(token="bid_" + "x" * 43, browser=False)


def _event_count(server: Server, subject: str) -> int:
    """The events of one subject (signing in and making tokens for the callers are events of their own)."""
    count: int = server.sql("SELECT count(*) FROM audit_events WHERE subject = $1", subject)
    return count


# --- PATCH /api/v1/users/{id} ------------------------------------------------------------------------------


def test_a_user_is_edited_through_the_api_and_each_refusal_changes_nothing(
    server: Server, clients: Clients, admin_api: httpx.Client, expert: tuple[str, int]
) -> None:
    login, user_id = expert
    edited = admin_api.patch(f"/api/v1/users/{user_id}", json={"display_name_en": "Wei Ming", "language": "en"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["display_name_en"], edited.json()["language"], edited.json()["roles"]) == (
        "Wei Ming",
        "en",
        ["expert"],
    )
    assert (
        server.sql("SELECT action FROM audit_events WHERE subject = $1 ORDER BY id DESC LIMIT 1", f"user:{user_id}")
        == "user.updated"
    )
    before = _event_count(server, f"user:{user_id}")
    _problem(nobody(clients).patch(f"/api/v1/users/{user_id}", json={}), 401, "not-signed-in")
    _problem(clients.api("bidder1").patch(f"/api/v1/users/{user_id}", json={"disabled": True}), 403, "forbidden")
    _problem(admin_api.patch("/api/v1/users/999999999", json={"display_name": "x"}), 404, "not-found")
    refused = _problem(
        admin_api.patch(
            f"/api/v1/users/{user_id}",
            json={"roles": ["bidder"], "display_name": ""},
            headers={"accept-language": "en"},
        ),
        422,
        "invalid-input",
    )
    assert {error["pointer"] for error in refused["errors"]} == {"#/roles", "#/display_name"}  # type: ignore[attr-defined]  # a problem's errors are a list of objects
    unknown = admin_api.patch(f"/api/v1/users/{user_id}", json={"login": "renamed"})
    assert unknown.status_code == 400, "a login cannot change, and unknown fields are refused"
    assert _event_count(server, f"user:{user_id}") == before
    assert server.sql("SELECT display_name_en FROM users WHERE id = $1", user_id) == "Wei Ming"


def test_the_last_active_administrator_cannot_disable_themselves_through_the_api(
    server: Server, clients: Clients
) -> None:
    login = _unique("e2e.admin.solo")
    centre = server.sql("SELECT id FROM organisations WHERE kind = 'platform' ORDER BY id LIMIT 1")
    assert server.create_user(login, PASSWORD, role="admin", organisation=str(centre)).returncode == 0
    solo = clients.api(login, PASSWORD)
    me = solo.get("/api/v1/me").json()["id"]
    # Every other administrator is disabled for the moment, so that this one is the last.
    others = server.sql(
        """WITH disabled AS (
               UPDATE users SET disabled_at = now()
               WHERE disabled_at IS NULL AND id <> $1 AND id IN (SELECT user_id FROM user_roles WHERE role = 'admin')
               RETURNING id)
           SELECT coalesce(array_agg(id), '{}') FROM disabled""",
        me,
    )
    try:
        for body in ({"disabled": True}, {"roles": ["custodian"]}):
            problem = _problem(
                solo.patch(f"/api/v1/users/{me}", json=body, headers={"accept-language": "en"}), 409, "conflict"
            )
            assert "without an active administrator" in str(problem["detail"])
        _problem(solo.patch(f"/api/v1/organisations/{centre}", json={"disabled": True}), 409, "conflict")
        assert server.sql("SELECT disabled_at FROM users WHERE id = $1", me) is None
    finally:
        server.sql("UPDATE users SET disabled_at = NULL WHERE id = ANY($1::bigint[])", others)
    assert solo.patch(f"/api/v1/users/{me}", json={"disabled": True}).status_code == 200
    assert solo.get("/api/v1/me").status_code == 401, "the token stops at the next request"


def test_a_disabled_users_session_and_token_stop_at_the_next_request(
    server: Server, clients: Clients, admin_api: httpx.Client, expert: tuple[str, int]
) -> None:
    login, user_id = expert
    browser = clients.sign_in(login, PASSWORD)
    program = clients.api(login, PASSWORD)
    assert admin_api.patch(f"/api/v1/users/{user_id}", json={"disabled": True}).json()["disabled_at"] is not None
    assert program.get("/api/v1/me").status_code == 401
    assert browser.get("/dashboard").headers["location"].startswith("/sign-in")
    form = clients.new(**{"accept-language": "en"})
    refused = form.post(
        "/sign-in", data={"_csrf_token": csrf_token(form.get("/sign-in").text), "login": login, "password": PASSWORD}
    )
    assert refused.status_code == 403 and "This account is disabled." in refused.text
    assert admin_api.patch(f"/api/v1/users/{user_id}", json={"disabled": False}).json()["disabled_at"] is None
    assert program.get("/api/v1/me").status_code == 200, "enabled again, the token works again"


# --- PATCH /api/v1/organisations/{id} ----------------------------------------------------------------------


def test_an_organisation_is_edited_through_the_api_and_each_refusal_changes_nothing(
    server: Server, clients: Clients, admin_api: httpx.Client
) -> None:
    created = admin_api.post(
        "/api/v1/organisations", json={"kind": "agency", "name": "接口测试代理", "region": "示范市"}
    ).json()
    path = f"/api/v1/organisations/{created['id']}"
    edited = admin_api.patch(path, json={"name_en": "API Test Agency", "region": "示范市高新区"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["name_en"], edited.json()["region"]) == ("API Test Agency", "示范市高新区")
    before = _event_count(server, f"organisation:{created['id']}")
    _problem(nobody(clients).patch(path, json={}), 401, "not-signed-in")
    _problem(clients.api("agent").patch(path, json={"name": "我们的"}), 403, "forbidden")
    _problem(admin_api.patch("/api/v1/organisations/999999999", json={"name": "x"}), 404, "not-found")
    taken = server.sql("SELECT credit_code FROM organisations WHERE credit_code IS NOT NULL ORDER BY id LIMIT 1")
    conflict = _problem(admin_api.patch(path, json={"credit_code": taken}), 409, "conflict")
    assert [error["pointer"] for error in conflict["errors"]] == ["#/credit_code"]  # type: ignore[attr-defined]  # a problem's errors are a list of objects
    invalid = _problem(admin_api.patch(path, json={"kind": "bidder"}), 422, "invalid-input")
    assert [error["pointer"] for error in invalid["errors"]] == ["#/credit_code"]  # type: ignore[attr-defined]  # a problem's errors are a list of objects
    hospital = server.sql("SELECT id FROM organisations WHERE name = '示范市第一人民医院'")
    fixed = _problem(
        admin_api.patch(f"/api/v1/organisations/{hospital}", json={"kind": "agency"}), 422, "invalid-input"
    )
    assert [error["pointer"] for error in fixed["errors"]] == ["#/kind"], "a purchaser of tenders keeps its kind"  # type: ignore[attr-defined]  # a problem's errors are a list of objects
    assert admin_api.patch(path, json={"colour": "red"}).status_code == 400
    assert _event_count(server, f"organisation:{created['id']}") == before


# --- POST /api/v1/users/{id}/password-reset ----------------------------------------------------------------


def test_a_password_reset_is_temporary_and_its_session_can_only_replace_it(
    server: Server, clients: Clients, admin_api: httpx.Client, expert: tuple[str, int]
) -> None:
    login, user_id = expert
    program = clients.api(login, PASSWORD)
    reset = admin_api.post(f"/api/v1/users/{user_id}/password-reset", json={})
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    assert len(temporary) == 19 and reset.json()["user"]["must_change_password"]
    assert program.get("/api/v1/me").status_code == 200, "tokens stay valid"

    client = clients.new()
    signed = client.post(
        "/sign-in",
        data={"_csrf_token": csrf_token(client.get("/sign-in").text), "login": login, "password": temporary},
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/account?must=password#password"
    for path in ("/dashboard", "/tenders", "/keys"):
        led = client.get(path)
        assert led.status_code == 303 and led.headers["location"] == "/account?must=password#password", path
    _problem(client.get("/api/v1/me", headers={"accept": "application/json"}), 403, "password-change-required")
    account = client.get("/account")
    assert account.status_code == 200 and 'id="must-change-password"' in account.text
    assert 'id="tokens"' not in account.text
    kept = client.post(
        "/account/password",
        data={
            "_csrf_token": csrf_token(account.text),
            "current_password": temporary,
            "new_password": temporary,
            "repeat_password": temporary,
        },
    )
    assert kept.status_code == 422
    changed = client.post(
        "/account/password",
        data={
            "_csrf_token": csrf_token(account.text),
            "current_password": temporary,
            "new_password": "my very own password",
            "repeat_password": "my very own password",
        },
    )
    assert changed.status_code == 303
    assert client.get("/dashboard").status_code == 200


def test_a_password_reset_with_a_given_password_and_its_refusals(
    server: Server, clients: Clients, admin_api: httpx.Client, expert: tuple[str, int]
) -> None:
    login, user_id = expert
    path = f"/api/v1/users/{user_id}/password-reset"
    chosen = admin_api.post(path, json={"password": "handed over in person"})
    assert chosen.status_code == 200 and chosen.json()["temporary_password"] is None
    client = clients.new()
    signed = client.post(
        "/sign-in",
        data={
            "_csrf_token": csrf_token(client.get("/sign-in").text),
            "login": login,
            "password": "handed over in person",
            "next": "/dashboard",
        },
    )
    assert signed.headers["location"] == "/account?must=password#password", "signed in, led to the password form"
    before = _event_count(server, f"user:{user_id}")
    _problem(nobody(clients).post(path, json={}), 401, "not-signed-in")
    _problem(clients.api("supervisor1").post(path, json={}), 403, "forbidden")
    _problem(admin_api.post("/api/v1/users/999999999/password-reset", json={}), 404, "not-found")
    short = _problem(admin_api.post(path, json={"password": "short"}), 422, "invalid-input")
    assert [error["pointer"] for error in short["errors"]] == ["#/password"]  # type: ignore[attr-defined]  # a problem's errors are a list of objects
    assert admin_api.post(path, json={"pasword": "typo in the field"}).status_code == 400
    assert _event_count(server, f"user:{user_id}") == before


def test_the_new_routes_are_in_the_openapi_document(server: Server) -> None:
    paths = httpx.get(f"{server.url}/api/openapi.json").json()["paths"]
    assert "patch" in paths["/api/v1/users/{user_id}"]
    assert "patch" in paths["/api/v1/organisations/{organisation_id}"]
    assert "post" in paths["/api/v1/users/{user_id}/password-reset"]


# --- The administrators' pages -----------------------------------------------------------------------------


def test_the_admin_pages_edit_a_user_and_show_what_cannot_be_saved(
    server: Server, clients: Clients, expert: tuple[str, int]
) -> None:
    login, user_id = expert
    client = clients.sign_in("admin")
    page = client.get(f"/admin/users/{user_id}")
    assert page.status_code == 200 and f"<code>{login}</code>" in page.text
    token = csrf_token(page.text)
    refused = client.post(f"/admin/users/{user_id}", data={"_csrf_token": token, "display_name": "", "roles": "bidder"})
    assert refused.status_code == 422 and 'class="error-summary"' in refused.text
    assert "“投标人”角色须隶属于相应类型的单位。" in refused.text
    saved = client.post(
        f"/admin/users/{user_id}",
        data={"_csrf_token": token, "display_name": "魏明", "display_name_en": "Wei Ming", "roles": "expert"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/admin/users/{user_id}?saved=details"
    generated = client.post(f"/admin/users/{user_id}/password-reset", data={"_csrf_token": token, "password": ""})
    assert generated.status_code == 200 and 'id="generated-password"' in generated.text
    assert generated.headers["cache-control"] == "no-store"
    status = client.post(f"/admin/users/{user_id}/status", data={"_csrf_token": token, "disabled": "maybe"})
    assert status.status_code == 422


def test_the_admin_pages_edit_and_disable_an_organisation_and_show_what_cannot_be_saved(
    server: Server, clients: Clients
) -> None:
    client = clients.sign_in("admin")
    listing = client.get("/admin/organisations")
    created = client.post(
        "/admin/organisations",
        data={"_csrf_token": csrf_token(listing.text), "kind": "agency", "name": "页面测试代理", "region": "示范市"},
    )
    assert created.status_code == 303
    path = created.headers["location"]
    organisation_id = int(path.rsplit("/", 1)[-1])
    login = _unique("e2e.admin.member")
    assert server.create_user(login, PASSWORD, role="agency_staff", organisation=str(organisation_id)).returncode == 0
    member = clients.sign_in(login, PASSWORD)
    token = csrf_token(client.get(path).text)
    fields = {"_csrf_token": token, "kind": "agency", "name": "页面测试代理", "region": "示范市"}

    wrong = client.post(path, data={**fields, "name": "", "credit_code": "91110000802100433A"})
    assert wrong.status_code == 422 and 'class="error-summary"' in wrong.text
    assert "校验码" in wrong.text and 'value="91110000802100433A"' in wrong.text, "what was typed comes back"
    kind = client.post(path, data={**fields, "kind": "bidder"})
    assert kind.status_code == 422 and "kind-error" in kind.text, "an agency's staff cannot sit in a bidder"
    taken = server.sql("SELECT credit_code FROM organisations WHERE credit_code IS NOT NULL ORDER BY id LIMIT 1")
    conflict = client.post(path, data={**fields, "credit_code": taken})
    assert conflict.status_code == 409 and "已注册。" in conflict.text, "next to the credit code"
    assert server.sql("SELECT count(*) FROM audit_events WHERE subject = $1", f"organisation:{organisation_id}") == 1

    saved = client.post(path, data={**fields, "name_en": "Page Test Agency", "region": "示范市东湖区"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?saved=details"
    shown = clients.sign_in("supervisor2").get(f"/supervision/organisations/{organisation_id}/events")
    assert "Timeline of Page Test Agency" in shown.text and "Donghu District, Demo City" in shown.text

    disabled = client.post(f"{path}/status", data={"_csrf_token": token, "disabled": "true"})
    assert disabled.status_code == 303 and disabled.headers["location"] == f"{path}?saved=disabled"
    assert member.get("/dashboard").headers["location"].startswith("/sign-in"), "its people's sessions end"
    assert 'class="tag disabled"' in client.get(path).text
    enabled = client.post(f"{path}/status", data={"_csrf_token": token, "disabled": "false"})
    assert enabled.headers["location"] == f"{path}?saved=enabled"
    clients.sign_in(login, PASSWORD)


def test_an_organisation_page_offers_the_regions_and_names_it_in_english(clients: Clients, server: Server) -> None:
    hospital = server.sql("SELECT id FROM organisations WHERE name = '示范市第一人民医院'")
    chinese = clients.sign_in("admin").get(f"/admin/organisations/{hospital}")
    assert '<option value="示范市滨江区" label="320506">' in chinese.text
    assert "<h1>示范市第一人民医院</h1>" in chinese.text
    english = clients.sign_in("supervisor2").get(f"/supervision/organisations/{hospital}/events")
    assert "Timeline of Demo City First People&#39;s Hospital" in english.text
    assert "Demo City" in english.text and "示范市</" not in english.text
    board = clients.new(**{"accept-language": "en"}).get("/tenders")
    assert "Mingcheng Tendering Agency Co., Ltd." in board.text
    assert '<option value="示范市滨江区">Binjiang District, Demo City</option>' in board.text


def test_the_draft_form_offers_the_platforms_regions(clients: Clients) -> None:
    form = clients.sign_in("agent").get("/tenders/new")
    assert form.status_code == 200
    assert 'list="region-list"' in form.text
    assert '<option value="示范市老城区" label="320507">' in form.text
