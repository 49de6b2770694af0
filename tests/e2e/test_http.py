"""The running server over HTTP: sign-in, sessions, CSRF, the API and every kind of bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import BROWSER_HEADERS, DEMO_PASSWORD, Clients, Server, csrf_token

PROBLEM = "application/problem+json"


def test_health_reads_the_database(server: Server) -> None:
    body = httpx.get(f"{server.url}/health").json()
    assert body["status"] == "ok" and body["schema_version"] >= 2


def test_the_openapi_document_describes_the_api_only(server: Server) -> None:
    document = httpx.get(f"{server.url}/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/api/v1/me", "/api/v1/organisations", "/api/v1/users", "/health"} <= set(document["paths"])
    assert not any(path in document["paths"] for path in ("/sign-in", "/dashboard", "/admin/users"))


def test_every_response_carries_the_security_headers(server: Server) -> None:
    response = httpx.get(f"{server.url}/sign-in", headers=BROWSER_HEADERS)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.headers["x-request-id"]) == 16
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("login", "section"),
    [
        ("admin", "系统管理"),
        ("agent", "招标项目"),
        ("purchaser", "招标项目"),
        ("bidder1", "投标"),
        ("expert1", "评标"),
        ("custodian1", "开标密钥"),
        ("supervisor1", "最新变更"),
    ],
)
def test_each_demo_role_signs_in_to_its_dashboard(clients: Clients, login: str, section: str) -> None:
    dashboard = clients.sign_in(login).get("/dashboard")
    assert dashboard.status_code == 200
    assert f"<h2>{section}</h2>" in dashboard.text


def test_the_session_cookie_is_http_only_and_same_site(clients: Clients) -> None:
    client = clients.new()
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"_csrf_token": csrf_token(form.text), "login": "admin", "password": DEMO_PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_a_wrong_password_is_refused_clearly_and_opens_no_session(clients: Clients) -> None:
    client = clients.new()
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"_csrf_token": csrf_token(form.text), "login": "expert2", "password": "not the password"},
    )
    assert response.status_code == 401
    assert "账号或密码错误。" in response.text
    assert "session" not in client.cookies


def test_repeated_failures_pause_sign_in(server: Server, clients: Clients) -> None:
    result = server.create_user("e2e.locked", "a good long password")
    assert result.returncode == 0, result.stderr
    client = clients.new(**{"accept-language": "en"})
    token = csrf_token(client.get("/sign-in").text)
    statuses = [
        client.post("/sign-in", data={"_csrf_token": token, "login": "e2e.locked", "password": "wrong!"}).status_code
        for _ in range(5)
    ]
    locked = client.post(
        "/sign-in", data={"_csrf_token": token, "login": "e2e.locked", "password": "a good long password"}
    )
    assert statuses == [401] * 5
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 900
    assert "Too many failed sign-ins" in locked.text


@pytest.mark.parametrize("token", [None, "forged-token", "0" * 128])
def test_forms_without_a_valid_csrf_token_are_refused(clients: Clients, token: str | None) -> None:
    client = clients.new()
    client.get("/sign-in")
    data = {"login": "admin", "password": DEMO_PASSWORD, **({"_csrf_token": token} if token else {})}
    response = client.post("/sign-in", data=data)
    assert response.status_code == 403
    assert "表单已失效" in response.text
    assert "session" not in client.cookies


def test_a_csrf_failure_changes_nothing(server: Server, clients: Clients) -> None:
    client = clients.sign_in("admin")
    before = server.sql("SELECT count(*) FROM organisations")
    response = client.post(
        "/admin/organisations",
        data={"_csrf_token": "x" * 128, "kind": "agency", "name": "伪造", "region": "示范市"},
    )
    assert response.status_code == 403
    assert server.sql("SELECT count(*) FROM organisations") == before


def test_an_expired_session_leads_back_to_sign_in(server: Server, clients: Clients) -> None:
    client = clients.sign_in("expert3")
    assert client.get("/dashboard").status_code == 200
    server.sql(
        "UPDATE sessions SET expires_at = now() - interval '1 second'"
        " WHERE user_id = (SELECT id FROM users WHERE login = 'expert3')"
    )
    response = client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fdashboard"
    assert client.get("/api/v1/me", headers={"accept": "application/json"}).status_code == 401


def test_signing_out_ends_the_session_on_the_server(clients: Clients) -> None:
    client = clients.sign_in("expert4")
    cookie = client.cookies["session"]
    dashboard = client.get("/dashboard")
    response = client.post("/sign-out", data={"_csrf_token": csrf_token(dashboard.text)})
    assert response.status_code == 303
    # Even a copy of the old cookie no longer works.
    replaying = clients.new()
    replaying.cookies.set("session", cookie)
    replay = replaying.get("/dashboard")
    assert replay.status_code == 303


def test_an_unknown_route_is_a_404_page_or_problem(server: Server, clients: Clients) -> None:
    page = clients.new().get("/no/such/page")
    assert page.status_code == 404 and "页面不存在" in page.text and "<html" in page.text
    problem = clients.new(browser=False).get("/api/v1/nothing")
    assert problem.status_code == 404
    assert problem.headers["content-type"] == PROBLEM
    assert problem.json()["type"] == "about:blank"


def test_api_tokens_act_for_their_user_until_revoked(server: Server, clients: Clients) -> None:
    token = clients.token_for("bidder2")
    api = clients.new(token=token, browser=False)
    me = api.get("/api/v1/me").json()
    assert (me["login"], me["roles"]) == ("bidder2", ["bidder"])
    own = api.get(f"/api/v1/organisations/{me['organisation_id']}")
    assert own.status_code == 200 and own.json()["kind"] == "bidder"
    other = api.get(f"/api/v1/organisations/{me['organisation_id'] - 1}")
    assert other.status_code == 403
    token_id = server.sql("SELECT max(id) FROM api_tokens")
    client = clients.sign_in("bidder2")
    account = client.get("/account")
    client.post(f"/account/tokens/{token_id}/revoke", data={"_csrf_token": csrf_token(account.text)})
    refused = api.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_malformed_token_is_refused_not_ignored(server: Server) -> None:
    response = httpx.get(f"{server.url}/", headers={"authorization": "Bearer nonsense"})
    assert response.status_code == 401
    assert response.json()["type"].endswith("/problems/not-signed-in")


def test_a_bidder_calling_an_admin_route_gets_403(server: Server, clients: Clients) -> None:
    api = clients.new(token=clients.token_for("bidder3"), browser=False)
    response = api.post("/api/v1/organisations", json={"kind": "agency", "name": "x", "region": "y"})
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == f"{server.url}/problems/forbidden"


@pytest.fixture
def admin_api(clients: Clients) -> httpx.Client:
    return clients.new(token=clients.token_for("admin"), browser=False)


def test_a_malformed_credit_code_is_refused_field_by_field(server: Server, admin_api: httpx.Client) -> None:
    before = server.sql("SELECT count(*) FROM organisations")
    response = admin_api.post(
        "/api/v1/organisations",
        json={"kind": "bidder", "name": "错码公司", "region": "示范市", "credit_code": "9144030071526726XH"},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == f"{server.url}/problems/invalid-input"
    assert problem["errors"] == [
        {
            "pointer": "#/credit_code",
            "detail": "The check character (the last one) should be G: please check the code for a typing error.",
        }
    ]
    assert server.sql("SELECT count(*) FROM organisations") == before


def test_an_organisation_and_a_user_are_created_through_the_api(
    server: Server, clients: Clients, admin_api: httpx.Client
) -> None:
    created = admin_api.post(
        "/api/v1/organisations",
        json={
            "kind": "bidder",
            "name": "腾讯（测试）",
            "region": "深圳市",
            "credit_code": "9144030071526726XG",
        },
    )
    assert created.status_code == 201, created.text
    organisation = created.json()
    assert created.headers["location"] == f"/api/v1/organisations/{organisation['id']}"
    user = admin_api.post(
        "/api/v1/users",
        json={
            "login": "e2e.api.bidder",
            "display_name": "接口投标人",
            "password": "a good long password",
            "roles": ["bidder"],
            "organisation_id": organisation["id"],
        },
    )
    assert user.status_code == 201, user.text
    assert admin_api.get(user.headers["location"]).json()["login"] == "e2e.api.bidder"
    clients.sign_in("e2e.api.bidder", "a good long password")
    duplicate = admin_api.post(
        "/api/v1/users",
        json={
            "login": "E2E.API.Bidder",
            "display_name": "x",
            "password": "another long password",
            "roles": ["expert"],
        },
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["pointer"] == "#/login"
    assert server.sql("SELECT count(*) FROM users WHERE login = 'e2e.api.bidder'") == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"kind": "bidder", "name": "x", "region": "y", "unexpected": 1}',
        b'{"kind": "castle", "name": "x", "region": "y"}',
        b'{"kind": "agency", "name": 5, "region": "y"}',
    ],
)
def test_bodies_that_do_not_fit_the_schema_are_400(server: Server, admin_api: httpx.Client, body: bytes) -> None:
    before = server.sql("SELECT count(*) FROM organisations")
    response = admin_api.post("/api/v1/organisations", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert server.sql("SELECT count(*) FROM organisations") == before


def test_a_body_over_the_limit_is_refused(server: Server, admin_api: httpx.Client) -> None:
    body = b'{"name": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    response = admin_api.post("/api/v1/organisations", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "1048576" in response.json()["detail"]


def test_signing_in_over_an_open_session_ends_it(server: Server, clients: Clients) -> None:
    client = clients.sign_in("expert1")
    first = client.cookies["session"]
    assert client.get("/sign-in?next=/account").headers["location"] == "/account"  # already signed in
    response = client.post(
        "/sign-in",
        data={"_csrf_token": client.cookies["csrf"], "login": "expert2", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 303
    old = clients.new()
    old.cookies.set("session", first)
    assert old.get("/dashboard").status_code == 303
