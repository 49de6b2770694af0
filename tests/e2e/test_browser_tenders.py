"""Tenders in Chromium: an agency drafts one with the form's buttons, publishes it, a bidder finds it, registers,
downloads, asks; the agency answers and amends; the bidder is told. Any script error or CSP violation fails."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bidding.tenders.forms import TIMES
from tests.e2e.conftest import Clients, Server, run_ceremony, tender_json, watch_for_errors
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.7\n% e2e browser tender documents\n"


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


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def field(page: Any, name: str) -> Any:
    return page.locator(f'[name="{name}"]')


def fill_notice(page: Any, title: str) -> None:
    """The parts of the draft form that are not lots: texts, choices, times (the deadline 30 days out), custody."""
    now = dt.datetime.now(dt.UTC)
    deadline = (now + dt.timedelta(days=30)).replace(hour=1, minute=30)
    field(page, "title.zh").fill(title)
    field(page, "title.en").fill("Browser test tender")
    field(page, "description.zh").fill("浏览器测试：两个标段，综合评估法。")
    page.select_option("#category", "goods")
    page.select_option("#procedure", "open")
    page.select_option("#purchaser_id", label="示范市第一人民医院")
    page.fill("#region", "示范市")
    page.fill("#documents_from", _local(now + dt.timedelta(minutes=10)))
    page.fill("#questions_until", _local(deadline - dt.timedelta(days=10)))
    page.fill("#deadline", _local(deadline))
    page.fill("#evaluation_at", _local(deadline + dt.timedelta(hours=1)))
    for box in page.locator("input[name=custodian_ids]").all():
        box.check()
    page.fill("#custody_threshold", "2")
    page.fill("[id='contact.name']", "张伟")
    page.fill("[id='contact.telephone']", "0512-6888 1234")
    page.fill("[id='contact.email']", "zhang.wei@example.com")


def open_section(page: Any, name: str) -> None:
    """Unfold a section of the tender form (they are folded on the edit and amendment forms)."""
    section = page.locator(f"#section-{name}")
    if section.get_attribute("open") is None:
        section.locator("> summary").click()


def fill_criterion(row: Any, name: str, points: str, kind: str = "subjective") -> None:
    row.locator("[data-name='name.zh']").first.fill(name)
    row.locator("[data-name='points']").first.fill(points)
    row.locator("[data-name='kind']").first.select_option(kind)


def test_a_tender_from_draft_to_amendment_with_a_bidder_taking_part(
    open_page: Callable[..., Any], server: Server, clients: Clients
) -> None:
    word = "".join(chr(random.randrange(0x5000, 0x9000)) for _ in range(4))  # noqa: S311  # not a secret
    title = f"浏览器{word}设备采购"
    agent = open_page()
    sign_in(agent, "agent")
    agent.click("#own-tenders a[href='/tenders/new']")
    agent.wait_for_url("**/tenders/new")
    fill_notice(agent, title)

    # Lot 1: price by the lowest-price ratio, a technical criterion in two parts, service.
    lot = agent.locator("[data-row=lot]").nth(0)
    field(agent, "lots.0.title.zh").fill("医疗设备")
    field(agent, "lots.0.budget").fill("1200000")
    field(agent, "lots.0.bid_security").fill("20000")
    criteria = lot.locator("[data-row=criterion]")
    fill_criterion(criteria.nth(0), "价格", "30", "price")
    assert criteria.nth(0).locator("[data-formula]").is_visible()
    assert not criteria.nth(1).locator("[data-formula]").is_visible()
    field(agent, "lots.0.criteria.0.formula.type").select_option("lowest_price_ratio")
    fill_criterion(criteria.nth(1), "技术方案", "50")
    criteria.nth(1).locator("[data-add=child]").click()
    criteria.nth(1).locator("[data-add=child]").click()
    field(agent, "lots.0.criteria.1.children.0.name.zh").fill("设备性能")
    field(agent, "lots.0.criteria.1.children.0.points").fill("30")
    field(agent, "lots.0.criteria.1.children.1.name.zh").fill("安装方案")
    field(agent, "lots.0.criteria.1.children.1.points").fill("20")
    field(agent, "lots.0.criteria.1.children.1.kind").select_option("objective")
    # Removing a blank row renumbers the rows after it.
    criteria.nth(2).locator("[data-remove]").first.click()
    assert criteria.count() == 3 and field(agent, "lots.0.criteria.2.points").count() == 1
    fill_criterion(criteria.nth(2), "售后服务", "20")

    # Lot 2, added with its button: price against the average, with deductions, and quality.
    agent.click("[data-add=lot]")
    second = agent.locator("[data-row=lot]").nth(1)
    assert second.locator("legend [data-number]").first.inner_text() == "2"
    field(agent, "lots.1.title.zh").fill("运维服务")
    field(agent, "lots.1.budget").fill("300000")
    second.locator("[data-add=criterion]").click()
    added = second.locator("[data-row=criterion]").last
    fill_criterion(added, "价格", "60", "price")
    added.locator("[data-name='formula.type']").select_option("benchmark_deviation")
    added.locator("[data-name='formula.benchmark']").select_option("average")
    added.locator("[data-name='formula.deduct_above']").fill("1")
    added.locator("[data-name='formula.deduct_below']").fill("0.5")
    fill_criterion(second.locator("[data-row=criterion]").first, "服务质量", "40")
    agent.click("form[data-tender-form] button[type=submit]")
    agent.wait_for_url(re.compile(r".*/tenders/\d+\?done=saved"))
    tender_id = int(re.search(r"/tenders/(\d+)", agent.url).group(1))  # type: ignore[union-attr]  # the URL was just waited for
    assert agent.locator(".banner.preview").is_visible()
    assert agent.locator("h1").inner_text() == title
    assert agent.locator("#lot-2 .formula-text").inner_text().startswith("基准价偏差法")

    # The documents, then publication.
    agent.set_input_files("#file", files=[{"name": "招标文件.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    agent.click("form[enctype] button[type=submit]")
    agent.wait_for_url("**?done=uploaded#documents")
    # The custody ceremony first (its own page is tested in test_browser_ceremony.py).
    assert agent.locator("#ceremony-needed").is_visible()
    run_ceremony(clients.api("agent"), tender_id)
    agent.reload()
    assert agent.locator("#ceremony-needed").count() == 0
    agent.click(f"form[action='/tenders/{tender_id}/publish'] button")
    agent.wait_for_url("**?done=published#main")
    assert agent.locator(".banner.preview").count() == 0
    assert server.sql("SELECT status FROM tenders WHERE id = $1", tender_id) == "published"

    # A bidder finds it by a Chinese word, registers, downloads the document and asks a question.
    bidder = open_page()
    sign_in(bidder, "bidder1")
    bidder.click(".main-nav a[href='/tenders']")
    bidder.fill("#q", word)
    bidder.click("form[role=search] button[type=submit]")
    bidder.click(f"a[href='/tenders/{tender_id}']")
    bidder.wait_for_url(f"**/tenders/{tender_id}")
    countdown = bidder.locator(".timeline time.countdown")
    before = countdown.inner_text()
    assert re.fullmatch(r"(29|30) 天 \d\d:\d\d:\d\d", before), before
    # The countdown turns within a second or two; waited for (up to the default timeout), not timed.
    bidder.wait_for_timeout(1500)
    changed = "([element, before]) => element.textContent !== before"
    bidder.wait_for_function(changed, arg=[countdown.element_handle(), before])
    bidder.click(f"form[action='/tenders/{tender_id}/register'] button")
    bidder.wait_for_url("**?done=registered#bidding")
    with bidder.expect_download() as download:
        bidder.click("#documents a[download]")
    assert download.value.suggested_filename == "招标文件.pdf"
    with open(download.value.path(), "rb") as file:
        assert file.read() == PDF
    bidder.fill("#question", "安装是否包含在报价内？")
    bidder.click(f"form[action='/tenders/{tender_id}/questions'] button")
    bidder.wait_for_url("**?done=asked#questions")
    assert bidder.locator(".question.mine .tag.waiting").is_visible()

    # The agency answers and amends a lot's title.
    agent.goto(f"/tenders/{tender_id}")
    agent.locator(".answer-form textarea").fill("包含安装及调试。")
    agent.click(".answer-form button")
    # First the preview, as everyone will read it; only its own button publishes.
    agent.locator("#answer-preview", has_text="包含安装及调试。").wait_for()
    agent.click("#publish-previewed")
    agent.wait_for_url("**?done=answered#questions")
    agent.click(f"a[href='/tenders/{tender_id}/amend']")
    agent.wait_for_url(f"**/tenders/{tender_id}/amend")
    assert agent.locator("#section-lots").get_attribute("open") is None, "the amendment form opens folded"
    open_section(agent, "notice")
    assert agent.locator("#category").count() == 0 and agent.locator(".fixed-terms").is_visible()
    open_section(agent, "lots")
    field(agent, "lots.0.title.zh").fill("医疗设备及安装")
    agent.fill("#summary", "第 1 标段名称增加“及安装”。")
    agent.click("form[data-tender-form] button[type=submit]")
    agent.wait_for_url("**?done=amended#amendments")

    # The bidder is told on the dashboard, and reads the answer and the amendment.
    bidder.goto("/dashboard")
    notification = bidder.locator("#notifications a", has_text="已发布澄清/修改")
    assert notification.first.is_visible()
    assert bidder.locator("#notifications a", has_text="问题已获答复").first.is_visible()
    assert bidder.locator("#registered a", has_text=title).is_visible()
    notification.first.click()
    bidder.wait_for_url(f"**/tenders/{tender_id}#amendments")
    assert bidder.locator(".answer", has_text="包含安装及调试。").is_visible()
    changes = bidder.locator("#amendments .changes").inner_text()
    assert "第 1 标段：标段名称（中文）" in changes and "医疗设备及安装" in changes
    assert bidder.locator("#amendments .tag.substantive").first.is_visible()

    # In English, as the bidder chooses it (kept on the account, so put back after).
    try:
        bidder.click(".language-switch button[value=en]")
        bidder.wait_for_url(f"**/tenders/{tender_id}")
        assert bidder.locator("h2", has_text="Tender facts").is_visible()
        assert bidder.locator("h1").inner_text() == "Browser test tender"
        assert "CN¥1,500,000.00" in bidder.locator(".facts").first.inner_text()
        assert re.fullmatch(r"\d+ days \d\d:\d\d:\d\d", bidder.locator(".timeline time.countdown").inner_text())
    finally:
        server.sql("UPDATE users SET language = 'zh-CN' WHERE login = 'bidder1'")


def test_the_draft_form_works_without_its_script(open_page: Callable[..., Any], server: Server) -> None:
    page = open_page(java_script_enabled=False)
    sign_in(page, "agent")
    page.goto("/tenders/new")
    assert not page.locator("[data-add=lot]").is_visible()
    fill_notice(page, "无脚本" + "".join(chr(random.randrange(0x5000, 0x9000)) for _ in range(4)))  # noqa: S311
    field(page, "lots.0.title.zh").fill("唯一标段")
    field(page, "lots.0.budget").fill("500000")
    field(page, "lots.0.method").select_option("lowest_price")
    field(page, "lots.0.criteria.2.name.zh").fill("资格审查")
    field(page, "lots.0.criteria.2.kind").select_option("check")
    page.click("form[data-tender-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/tenders/\d+\?done=saved"))
    assert page.locator("#lot-1 .criteria-tree li").inner_text().startswith("资格审查")


def test_a_refused_draft_shows_each_error_at_its_field(open_page: Callable[..., Any], server: Server) -> None:
    page = open_page()
    sign_in(page, "agent")
    page.goto("/tenders/new")
    fill_notice(page, "")
    field(page, "title.en").fill("")
    field(page, "lots.0.title.zh").fill("标段")
    field(page, "lots.0.budget").fill("100000")
    fill_criterion(page.locator("[data-row=criterion]").nth(0), "价格", "40", "price")
    page.click("form[data-tender-form] button[type=submit]")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.locator("[id='title'] .field-error").is_visible()
    assert page.locator("[id='lots.0.criteria.0.formula'] .field-error").is_visible()
    assert page.locator("[id='lots.0.criteria'] > .field-error").is_visible()
    assert field(page, "lots.0.criteria.0.name.zh").input_value() == "价格"
    # The script still numbers the rows drawn again.
    page.click("[data-add=lot]")
    assert field(page, "lots.1.budget").count() == 1


def summary_lines(page: Any) -> dict[str, str]:
    """The lines of the form's error summary, each with the address it links to."""
    links = page.locator("#error-summary li a")
    return {link.inner_text(): link.get_attribute("href") for link in links.all()}


def test_the_error_summary_names_each_field_links_to_it_and_opens_its_section(
    open_page: Callable[..., Any], server: Server, clients: Clients
) -> None:
    page = open_page()
    sign_in(page, "agent")
    page.goto("/tenders/new")
    field(page, "title.zh").fill("摘要测试")
    field(page, "lots.0.title.zh").fill("第一标段")
    field(page, "lots.0.budget").fill("500000")
    page.click("[data-add=lot]")
    field(page, "lots.1.title.zh").fill("第二标段")
    field(page, "lots.1.budget").fill("一百万")
    page.fill("[id='contact.telephone']", "电话")
    # Nothing else filled: the browser lets the form go (its own messages name no field), the platform answers.
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click("form[data-tender-form] button[type=submit]")
    assert answer.value.status == 422
    lines = summary_lines(page)
    dates = ["招标文件获取时间", "提问截止时间", "投标截止时间", "评标开始时间"]
    for label, key in zip(dates, TIMES, strict=True):
        assert lines[f"{label}：请填写日期和时间。"] == f"#{key}"
    assert lines["采购人/招标人：请从选项中选择一项。"] == "#purchaser_id", "chosen from a list, not typed as a number"
    assert "请填写整数。" not in " ".join(lines)
    budget = [line for line in lines if line.startswith("第 2 标段 · 预算金额（元）：")]
    assert budget and lines[budget[0]] == "#lots.1.budget"
    assert (
        lines["联系电话：请填写电话号码，例如 0512-6888 1234 或 138 1234 5678，如有分机请一并填写。"]
        == "#contact.telephone"
    )
    for target in lines.values():
        assert page.locator(f"[id='{target[1:]}']").count() == 1, target
    # A line takes the person to its field, in a section that opened by itself.
    page.locator("#error-summary a", has_text="投标截止时间").click()
    assert page.evaluate("location.hash") == "#deadline" and page.locator("#deadline").is_visible()
    page.locator("#error-summary a", has_text="第 2 标段 · 预算金额").click()
    assert page.locator("[id='lots.1.budget']").is_visible()
    assert page.locator("[id='lots.1.budget-error']").is_visible()

    # On the edit form, folded, only the sections holding a problem open.
    api = clients.api("agent")
    draft = api.post("/api/v1/tenders", json=tender_json(server, "摘要测试草稿")).json()["id"]
    page.goto(f"/tenders/{draft}/edit")
    assert page.locator("details.form-section[open]").count() == 0
    open_section(page, "lots")
    field(page, "lots.0.bid_security").fill("-5")
    page.click("form[data-tender-form] button[type=submit]")
    lines = summary_lines(page)
    assert [line.split("：")[0] for line in lines] == ["第 1 标段 · 投标保证金（元）"], lines
    assert page.locator("#section-lots").get_attribute("open") is not None
    assert page.locator("#section-notice").get_attribute("open") is None
    assert page.locator("#section-timeline").get_attribute("open") is None
    page.locator("#error-summary a").click()
    assert page.locator("[id='lots.0.bid_security']").is_visible()


@pytest.mark.parametrize("path", ["/tenders", "/tenders/new", "/dashboard"])
def test_tender_pages_fit_a_phone_screen(browser: Any, server: Server, path: str) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, "agent")
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
        if path == "/tenders":
            page.click(".tender-card h2 a >> nth=0")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    finally:
        context.close()


def test_a_draft_is_edited_and_a_published_tender_cancelled_on_their_pages(
    open_page: Callable[..., Any], server: Server, clients: Clients
) -> None:
    api = clients.api("agent")
    draft = api.post("/api/v1/tenders", json=tender_json(server, "浏览器编辑草稿")).json()["id"]
    published = api.post("/api/v1/tenders", json=tender_json(server, "浏览器终止项目")).json()["id"]
    api.post(f"/api/v1/tenders/{published}/documents", params={"name": "招标文件.pdf"}, content=PDF)
    run_ceremony(api, published)
    assert api.post(f"/api/v1/tenders/{published}/publish").status_code == 200

    agent = open_page()
    sign_in(agent, "agent")
    agent.goto(f"/tenders/{draft}")
    agent.click(f"a[href='/tenders/{draft}/edit']")
    agent.wait_for_url(f"**/tenders/{draft}/edit")
    assert field(agent, "title.zh").input_value() == "浏览器编辑草稿"
    assert field(agent, "lots.1.budget").input_value() == "3800000.50"
    open_section(agent, "notice")
    field(agent, "region").fill("示范市高新区")
    agent.click("form[data-tender-form] button[type=submit]")
    agent.wait_for_url(f"**/tenders/{draft}?done=saved")
    assert agent.locator(".banner.preview").is_visible()
    assert server.sql("SELECT region FROM tenders WHERE id = $1", draft) == "示范市高新区"

    agent.goto(f"/tenders/{published}")
    agent.click(".danger-zone summary")
    agent.click(".danger-zone button[type=submit]")  # no reason: the browser asks for one
    assert server.sql("SELECT status FROM tenders WHERE id = $1", published) == "published"
    agent.fill(".danger-zone #reason", "采购需求变更")
    agent.click(".danger-zone button[type=submit]")
    agent.wait_for_url(f"**/tenders/{published}?done=cancelled#main")
    assert agent.locator(".banner.cancelled", has_text="采购需求变更").is_visible()

    # The public sees the cancellation, and not the draft.
    visitor = open_page()
    visitor.goto(f"/tenders/{published}")
    assert visitor.locator(".banner.cancelled", has_text="采购需求变更").is_visible()
    assert visitor.goto(f"/tenders/{draft}").status == 404
