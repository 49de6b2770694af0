"""People using the pages in Chromium: signing in as each role, administering, switching language."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, Server

pytestmark = pytest.mark.browser


def sign_in(page: Any, login: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/sign-in")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/dashboard")


def fill_new_user(page: Any, login: str, *, role: str) -> None:
    """Fill and send the administrator's form for a new user (password "a good long password")."""
    page.fill("#login", login)
    page.fill("#display_name", login.title())
    page.fill("#password", "a good long password")
    page.check(f"input[name=roles][value={role}]")
    page.click("form.form button[type=submit]")


@pytest.mark.parametrize(
    ("login", "heading", "nav"),
    [
        ("admin", "系统管理", ["单位管理", "用户管理"]),
        ("agent", "招标项目", []),
        ("bidder1", "投标", []),
        ("expert2", "评标", []),
        ("custodian2", "开标密钥", []),
        ("supervisor2", "Latest changes", ["Audit trail"]),
    ],
)
def test_each_role_signs_in_and_sees_its_dashboard(page: Any, login: str, heading: str, nav: list[str]) -> None:
    sign_in(page, login)
    assert page.locator("h2", has_text=heading).is_visible()
    for link in nav:
        assert page.locator(".main-nav a", has_text=link).is_visible()
    page.click(".main-nav button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/"))
    assert page.locator(".main-nav a[href='/sign-in']").is_visible()


def test_a_wrong_password_is_shown_on_the_form(page: Any) -> None:
    page.goto("/sign-in")
    page.fill("#login", "custodian3")
    page.fill("#password", "not the password")
    page.click("form.form button[type=submit]")
    assert page.locator(".error-summary").inner_text() == "账号或密码错误。"
    assert page.input_value("#login") == "custodian3"


def test_signing_in_returns_to_the_page_asked_for(page: Any) -> None:
    page.goto("/account")
    page.wait_for_url("**/sign-in?next=%2Faccount")
    page.fill("#login", "expert5")
    page.fill("#password", DEMO_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account")
    assert page.locator("h1").inner_text() == "Your account"  # expert5 chose English


def test_an_administrator_registers_an_organisation_and_a_person(page: Any, server: Server) -> None:
    sign_in(page, "admin")
    page.click(".main-nav a[href='/admin/organisations']")
    page.select_option("#kind", "bidder")
    page.fill("#name", "浏览器测试有限公司")
    page.fill("#region", "示范市")
    page.fill("#credit_code", "91110000802100433A")  # one character off
    page.click("form.form button[type=submit]")
    assert "校验码（最后一位）应为 B" in page.locator(".error-summary").inner_text()
    assert page.input_value("#name") == "浏览器测试有限公司"
    page.fill("#credit_code", "9111 0000 8021 0043 3b")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/admin/organisations/*")
    assert page.locator("h1").inner_text() == "浏览器测试有限公司"
    assert page.locator("dd code").inner_text() == "91110000802100433B"

    page.click("text=添加人员")
    fill_new_user(page, "e2e.browser.bidder", role="bidder")
    page.wait_for_url("**/admin/users?created=e2e.browser.bidder")
    assert page.locator("td code", has_text="e2e.browser.bidder").is_visible()

    page.click(".main-nav button[type=submit]")
    sign_in(page, "e2e.browser.bidder", "a good long password")
    assert page.locator("dd", has_text="浏览器测试有限公司").is_visible()


def test_a_person_with_a_role_that_does_not_fit_is_refused(page: Any, server: Server) -> None:
    users = server.sql("SELECT count(*) FROM users")
    sign_in(page, "admin")
    page.goto("/admin/users")
    fill_new_user(page, "e2e.misfit", role="bidder")
    assert "“投标人”角色须隶属于相应类型的单位。" in page.locator(".error-summary").inner_text()
    assert page.input_value("#password") == ""
    assert server.sql("SELECT count(*) FROM users") == users


def test_the_language_switch_works_before_and_after_signing_in(page: Any, server: Server) -> None:
    page.goto("/")
    assert page.locator("h1").inner_text() == "公共资源电子招标投标交易平台"
    page.click(".language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Public Resource Electronic Bidding Platform"
    assert page.locator("html").get_attribute("lang") == "en"
    sign_in(page, "expert4")
    # The account's own language (Chinese) wins once signed in; switching stores the choice on the account.
    assert page.locator(".main-nav a[href='/dashboard']").inner_text() == "工作台"
    page.click(".language-switch button[value=en]")
    page.wait_for_url("**/dashboard")
    assert page.locator(".main-nav a[href='/dashboard']").inner_text() == "Dashboard"
    assert server.sql("SELECT language FROM users WHERE login = 'expert4'") == "en"
    server.sql("UPDATE users SET language = 'zh-CN' WHERE login = 'expert4'")


def test_a_person_changes_their_password(page: Any, server: Server) -> None:
    result = server.create_user("e2e.changer", "the first long password")
    assert result.returncode == 0, result.stderr
    sign_in(page, "e2e.changer", "the first long password")
    page.goto("/account")
    page.fill("#current_password", "the first long password")
    page.fill("#new_password", "the second long password")
    page.fill("#repeat_password", "the second long password!")
    page.click("form[action='/account/password'] button")
    assert "两次输入的新密码不一致。" in page.locator(".error-summary").inner_text()
    page.fill("#current_password", "the first long password")
    page.fill("#new_password", "the second long password")
    page.fill("#repeat_password", "the second long password")
    page.click("form[action='/account/password'] button")
    page.wait_for_url("**/account?changed=password")
    assert page.locator(".notice").is_visible()
    page.click(".main-nav button[type=submit]")
    sign_in(page, "e2e.changer", "the second long password")


def test_an_api_token_is_shown_once(page: Any) -> None:
    sign_in(page, "bidder1")
    page.goto("/account")
    page.fill("#name", "offline sealing tool")
    page.click("form[action='/account/tokens'] button")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("bid_") and len(token) == 47
    page.goto("/account")
    assert page.locator("#new-token").count() == 0
    assert page.locator("td", has_text="offline sealing tool").first.is_visible()


@pytest.mark.parametrize("path", ["/", "/dashboard", "/admin/users", "/account"])
def test_pages_fit_a_phone_screen(browser: Any, server: Server, path: str) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, "admin")
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
    finally:
        context.close()
