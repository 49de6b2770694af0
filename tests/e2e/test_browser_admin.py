"""An administrator in Chromium edits a person (English name and language; roles that cannot go together are
refused), disables them (their open session ends and signing in is refused), enables them again and resets their
password, which they must replace at once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bidding.i18n import load_translators
from tests.e2e.conftest import Server, watch_for_errors
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.browser

ZH = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")["zh-CN"]
PASSWORD = "a good long password"


def test_an_administrator_edits_disables_enables_and_resets_a_person(page: Any, browser: Any, server: Server) -> None:
    login = f"e2e.browser.edit.{time.monotonic_ns()}"
    centre = server.sql("SELECT id FROM organisations WHERE kind = 'platform' ORDER BY id LIMIT 1")
    # A supervisor: a custodian of this test's own would be named in every tender other tests draft.
    assert server.create_user(login, PASSWORD, role="supervisor", organisation=str(centre)).returncode == 0
    # The person is signed in elsewhere, in a browser of their own.
    theirs = browser.new_context(base_url=server.url, locale="en")
    other = theirs.new_page()
    errors: list[str] = []
    watch_for_errors(other, errors)
    try:
        sign_in(other, login, PASSWORD)

        sign_in(page, "admin")
        page.click(".main-nav a[href='/admin/users']")
        page.click(f"a.user-link:has-text('{login}')")
        page.wait_for_url("**/admin/users/*")
        page.fill("#display_name_en", "Edited Person")
        page.select_option("#language", "en")
        page.click("#edit-user button[type=submit]")
        page.wait_for_url("**?saved=details")
        assert page.locator(".notice").inner_text() == ZH.gettext("The changes were saved.")
        assert page.locator("#display_name_en").input_value() == "Edited Person"
        assert server.sql("SELECT display_name_en FROM users WHERE login = $1", login) == "Edited Person"

        # Administrator and supervisor at once is refused, next to the roles, and nothing changes.
        page.check("input[name=roles][value=admin]")
        page.click("#edit-user button[type=submit]")
        assert "不能同时" in page.locator("#roles .field-error").inner_text()
        roles = "SELECT array_agg(r.role) FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.login = $1"
        assert server.sql(roles, login) == ["supervisor"]

        page.goto(page.url.split("?")[0])
        page.click("#user-status button[type=submit]")
        page.wait_for_url("**?saved=disabled")
        assert page.locator(".page-head .tag.disabled").is_visible()

        # Their open session ends at their next request; signing in again is refused, saying why.
        other.goto("/account")
        other.wait_for_url("**/sign-in?next=%2Faccount")
        other.fill("#login", login)
        other.fill("#password", PASSWORD)
        other.click("form.form button[type=submit]")
        assert "This account is disabled." in other.locator(".error-summary").inner_text()

        page.click("#user-status button[type=submit]")
        page.wait_for_url("**?saved=enabled")
        assert page.locator(".page-head .tag.disabled").count() == 0

        page.click("#reset-password button[type=submit]")  # no password typed: the platform makes one up
        temporary = page.locator("#generated-password code").inner_text()
        assert len(temporary) == 19

        other.fill("#login", login)
        other.fill("#password", temporary)
        other.click("form.form button[type=submit]")
        other.wait_for_url("**/account?must=password#password")
        assert other.locator("#must-change-password").is_visible()
        other.goto("/dashboard")
        other.wait_for_url("**/account?must=password#password")
        other.fill("#current_password", temporary)
        other.fill("#new_password", "my own new password")
        other.fill("#repeat_password", "my own new password")
        other.click("form[action='/account/password'] button[type=submit]")
        other.wait_for_url("**/account?changed=password")
        other.goto("/dashboard")
        assert other.locator("h1").inner_text() == "Welcome, Edited Person"
    finally:
        theirs.close()
    assert errors == []
