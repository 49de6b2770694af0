"""The tender pages over HTTP against the running server: who sees which page, search, forms, refusals, CSRF."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from markupsafe import escape

from bidding.i18n import N_, load_translators
from tests.e2e.conftest import Clients, Server, csrf_token, run_ceremony

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.7\n% e2e tender pages\n"
ENGLISH = {"accept-language": "en"}
TRANSLATORS = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")


def chinese(text: str, **params: object) -> str:
    """A sentence as a page shows it to the demo staff, who read Chinese: translated and HTML-escaped."""
    return str(escape(TRANSLATORS["zh-CN"].render(N_(text, **params))))


def chinese_word(length: int = 4) -> str:
    """Chinese characters no other tender is likely to have, so that a search finds only this test's tender."""
    return "".join(chr(random.randrange(0x5000, 0x9000)) for _ in range(length))  # noqa: S311  # not a secret


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def tender_fields(server: Server, title: str, **changes: str) -> dict[str, Any]:
    """The draft form filled in as the agency would: one lot scored on price and technique, deadline in 30 days."""
    now = dt.datetime.now(dt.UTC)
    deadline = now + dt.timedelta(days=30)
    purchaser = server.sql("SELECT id FROM organisations WHERE name = '示范市第一人民医院'")
    custodians = server.sql("SELECT array_agg(user_id ORDER BY user_id) FROM user_roles WHERE role = 'custodian'")
    fields: dict[str, Any] = {
        "title.zh": title,
        "title.en": "Pages test " + title,
        "description.zh": "页面测试的招标项目。",
        "category": "goods",
        "procedure": "open",
        "purchaser_id": str(purchaser),
        "region": "示范市",
        "documents_from": _local(now + dt.timedelta(minutes=5)),
        "questions_until": _local(deadline - dt.timedelta(days=10)),
        "deadline": _local(deadline),
        "evaluation_at": _local(deadline + dt.timedelta(hours=1)),
        "committee_size": "5",
        "custodian_ids": [str(c) for c in custodians],
        "custody_threshold": "2",
        "contact.name": "张伟",
        "contact.telephone": "0512-6888 1234",
        "contact.email": "zhang.wei@example.com",
        "lots.0.title.zh": "设备采购",
        "lots.0.budget": "880000",
        "lots.0.bid_security": "10000",
        "lots.0.method": "comprehensive",
        "lots.0.criteria.0.name.zh": "价格",
        "lots.0.criteria.0.points": "30",
        "lots.0.criteria.0.kind": "price",
        "lots.0.criteria.0.formula.type": "lowest_price_ratio",
        "lots.0.criteria.1.name.zh": "技术",
        "lots.0.criteria.1.points": "70",
        "lots.0.criteria.1.kind": "subjective",
    }
    return fields | changes


def create_draft(agent: httpx.Client, server: Server, title: str, **changes: str) -> int:
    form = agent.get("/tenders/new")
    response = agent.post(
        "/tenders/new", data={"_csrf_token": csrf_token(form.text), **tender_fields(server, title, **changes)}
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/tenders/(\d+)\?done=saved", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def upload(agent: httpx.Client, tender_id: int, name: str = "招标文件.pdf", **fields: str) -> httpx.Response:
    notice = agent.get(f"/tenders/{tender_id}")
    return agent.post(
        f"/tenders/{tender_id}/documents",
        data={"_csrf_token": csrf_token(notice.text), **fields},
        files={"file": (name, PDF, "application/pdf")},
    )


def publish(agent: httpx.Client, tender_id: int) -> httpx.Response:
    notice = agent.get(f"/tenders/{tender_id}")
    return agent.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": csrf_token(notice.text)})


def published_tender(clients: Clients, server: Server, title: str) -> int:
    agent = clients.sign_in("agent")
    tender_id = create_draft(agent, server, title)
    assert upload(agent, tender_id).status_code == 303
    run_ceremony(clients.api("agent"), tender_id)
    response = publish(agent, tender_id)
    assert response.status_code == 303, response.text
    return tender_id


def test_a_published_notice_is_public_and_offers_each_person_their_actions(server: Server, clients: Clients) -> None:
    title = "页面公开" + chinese_word()
    tender_id = published_tender(clients, server, title)
    anonymous = clients.new(**ENGLISH)
    notice = anonymous.get(f"/tenders/{tender_id}")
    assert notice.status_code == 200 and title in notice.text
    assert "Sign in as a bidder to register" in notice.text and "/register" not in notice.text
    assert f'href="/tenders/{tender_id}/documents/' not in notice.text
    assert "data-countdown" in notice.text and "Preview" not in notice.text
    bidder = clients.sign_in("bidder2")
    page = bidder.get(f"/tenders/{tender_id}")
    assert f'action="/tenders/{tender_id}/register"' in page.text and "/publish" not in page.text
    agent = clients.sign_in("agent")
    page = agent.get(f"/tenders/{tender_id}")
    assert f'href="/tenders/{tender_id}/amend"' in page.text and f'action="/tenders/{tender_id}/cancel"' in page.text
    assert f'href="/tenders/{tender_id}/documents/' in page.text


def test_a_draft_is_a_preview_for_its_own_people_and_absent_for_others(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    tender_id = create_draft(agent, server, "页面草稿" + chinese_word())
    for login in ("agent", "purchaser", "supervisor1"):
        page = (agent if login == "agent" else clients.sign_in(login)).get(f"/tenders/{tender_id}")
        assert page.status_code == 200, login
        assert 'class="banner preview"' in page.text
    assert f'action="/tenders/{tender_id}/publish"' in agent.get(f"/tenders/{tender_id}").text
    for client in (clients.new(), clients.sign_in("bidder1"), clients.sign_in("admin")):
        assert client.get(f"/tenders/{tender_id}").status_code == 404


def test_the_forms_are_for_the_staff_running_the_tender(server: Server, clients: Clients) -> None:
    anonymous = clients.new()
    refused = anonymous.get("/tenders/new")
    assert refused.status_code == 303 and refused.headers["location"] == "/sign-in?next=%2Ftenders%2Fnew"
    bidder, purchaser, agent = clients.sign_in("bidder1"), clients.sign_in("purchaser"), clients.sign_in("agent")
    assert bidder.get("/tenders/new").status_code == 403
    assert agent.get("/tenders/new").status_code == 200
    draft = create_draft(agent, server, "页面权限" + chinese_word())
    assert agent.get(f"/tenders/{draft}/edit").status_code == 200
    # The purchaser sees the draft but does not run it.
    assert purchaser.get(f"/tenders/{draft}/edit").status_code == 403
    assert bidder.get(f"/tenders/{draft}/edit").status_code == 403
    assert agent.get(f"/tenders/{draft}/amend").status_code == 403
    published = published_tender(clients, server, "页面权限" + chinese_word())
    moved = agent.get(f"/tenders/{published}/edit")
    assert moved.status_code == 303 and moved.headers["location"] == f"/tenders/{published}/amend"
    amend = agent.get(f"/tenders/{published}/amend")
    assert amend.status_code == 200 and 'name="summary"' in amend.text and 'name="category"' not in amend.text
    assert purchaser.get(f"/tenders/{published}/amend").status_code == 403


def test_a_purchaser_drafts_for_itself_only(server: Server, clients: Clients) -> None:
    purchaser = clients.sign_in("purchaser")
    form = purchaser.get("/tenders/new")
    hospital = server.sql("SELECT id FROM organisations WHERE name = '示范市第一人民医院'")
    assert f'<input type="hidden" name="purchaser_id" value="{hospital}">' in form.text
    assert 'name="purchaser_id" data-name' not in form.text and '<select id="purchaser_id"' not in form.text


def test_search_in_chinese_and_english_finds_the_tender(server: Server, clients: Clients) -> None:
    word = chinese_word()
    tender_id = published_tender(clients, server, f"示范医院{word}采购")
    anonymous = clients.new()
    found = anonymous.get("/tenders", params={"q": word})
    assert found.status_code == 200
    assert f'href="/tenders/{tender_id}"' in found.text
    assert found.text.count('class="tender-card"') == 1
    found = anonymous.get("/tenders", params={"q": word[:2], "status": "open", "category": "goods"})
    assert f'href="/tenders/{tender_id}"' in found.text
    missed = anonymous.get("/tenders", params={"q": word, "category": "works"})
    assert missed.status_code == 200 and 'class="tender-card"' not in missed.text and 'class="empty"' in missed.text
    english = anonymous.get("/tenders", params={"q": f"pages test 示范医院{word}"}, headers=ENGLISH)
    assert f'href="/tenders/{tender_id}"' in english.text and "CN¥880,000.00" in english.text


def test_the_next_page_link_carries_the_filters(server: Server, clients: Clients) -> None:
    word = chinese_word()
    first, second = (published_tender(clients, server, f"翻页{word}{n}") for n in ("一", "二"))
    anonymous = clients.new()
    page = anonymous.get("/tenders", params={"q": word, "region": "示范市"})
    assert page.text.index(f'href="/tenders/{second}"') < page.text.index(f'href="/tenders/{first}"')
    assert 'rel="next"' not in page.text
    # Twenty a page: page through everything published, newest first, until this test's first tender shows.
    page = anonymous.get("/tenders", params={"region": "示范市"})
    for _ in range(50):
        if f'href="/tenders/{first}"' in page.text:
            break
        found = re.search(r'href="(/tenders\?[^"]*cursor=[^"]+)" rel="next"', page.text)
        assert found, "the list ended before the tender appeared"
        link = found.group(1).replace("&amp;", "&")
        assert "region=%E7%A4%BA%E8%8C%83%E5%B8%82" in link
        page = anonymous.get(link)
    assert f'href="/tenders/{first}"' in page.text


@pytest.mark.parametrize(
    ("query", "field", "text"),
    [
        ({"budget_min": "lots"}, "budget_min", "Give an amount such as 500000, with at most two decimals."),
        ({"deadline_to": "31/12/2026"}, "deadline_to", "Give a date such as 2026-07-01."),
        ({"category": "spaceships"}, "category", "Choose a category from the list."),
        ({"status": "draft"}, "status", "Choose a status from the list."),
        ({"cursor": "not-a-cursor!"}, "cursor", "This is not a cursor this search gave."),
    ],
)
def test_bad_filters_are_shown_on_the_search_form(
    clients: Clients, query: dict[str, str], field: str, text: str
) -> None:
    page = clients.new(**ENGLISH).get("/tenders", params=query)
    assert page.status_code == 422
    assert text in page.text and 'class="error-summary"' in page.text
    assert 'class="tender-card"' not in page.text
    if field != "cursor":
        assert f'id="{field}-error"' in page.text


def test_a_bad_draft_is_refused_listing_every_error_and_nothing_is_saved(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    before = server.sql("SELECT count(*) FROM tenders")
    fields = tender_fields(
        server,
        "",
        **{
            "title.en": "",
            "region": "保留的地区",
            "lots.0.budget": "12.345",
            "lots.0.criteria.1.points": "60",
            "lots.1.title.zh": "第二标段",
        },
    )
    form = agent.get("/tenders/new")
    response = agent.post("/tenders/new", data={"_csrf_token": csrf_token(form.text), **fields})
    assert response.status_code == 422
    for field, text in [
        ("title", chinese("Give the text in Chinese, English or both.")),
        ("lots.0.budget", chinese("Amounts have at most two decimals (fen).")),
        ("lots.0.criteria", chinese("The criteria add up to %(sum)s points; they must add up to 100.", sum="90")),
        ("lots.1.budget", chinese("Give an amount greater than zero, such as 1250000.00.")),
    ]:
        assert text in response.text, field
        assert f'<a href="#{field}">' in response.text and f'id="{field}-error"' in response.text
    assert 'value="保留的地区"' in response.text and 'value="第二标段"' in response.text
    assert server.sql("SELECT count(*) FROM tenders") == before
    # A value that is not a number is named at its field, with the problems of the rest.
    response = agent.post(
        "/tenders/new", data={"_csrf_token": csrf_token(form.text), **fields, "committee_size": "five"}
    )
    assert response.status_code == 422
    assert 'id="committee_size-error"' in response.text and 'id="lots.0.budget-error"' in response.text


def test_a_taken_reference_is_shown_at_its_field(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    reference = f"PAGES-{random.randrange(10**8)}"  # noqa: S311  # not a secret
    create_draft(agent, server, "页面编号" + chinese_word(), reference=reference)
    form = agent.get("/tenders/new")
    fields = tender_fields(server, "页面编号" + chinese_word(), reference=reference)
    response = agent.post("/tenders/new", data={"_csrf_token": csrf_token(form.text), **fields})
    assert response.status_code == 409 and 'id="reference-error"' in response.text


def test_a_draft_is_edited_through_its_form(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    tender_id = create_draft(agent, server, "页面编辑" + chinese_word())
    form = agent.get(f"/tenders/{tender_id}/edit")
    assert 'value="设备采购"' in form.text
    fields = tender_fields(server, "页面编辑后" + chinese_word(), **{"lots.0.title.zh": "改过的标段"})
    response = agent.post(f"/tenders/{tender_id}/edit", data={"_csrf_token": csrf_token(form.text), **fields})
    assert response.status_code == 303
    assert "改过的标段" in agent.get(f"/tenders/{tender_id}").text


def test_publishing_without_documents_shows_the_reason_on_the_notice(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    tender_id = create_draft(agent, server, "页面发布" + chinese_word())
    response = publish(agent, tender_id)
    assert response.status_code == 409
    assert chinese("Upload the tender documents before publishing.") in response.text
    assert upload(agent, tender_id).status_code == 303
    notice = agent.get(f"/tenders/{tender_id}").text
    assert 'id="ceremony-needed"' in notice
    response = publish(agent, tender_id)
    assert response.status_code == 409
    reason = chinese("Run the custody ceremony before publishing: it makes the key the bids are sealed to.")
    assert reason in response.text
    assert server.sql("SELECT status FROM tenders WHERE id = $1", tender_id) == "draft"


def test_an_upload_without_a_file_or_summary_is_refused_at_the_form(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    tender_id = published_tender(clients, server, "页面上传" + chinese_word())
    notice = agent.get(f"/tenders/{tender_id}")
    response = agent.post(f"/tenders/{tender_id}/documents", data={"_csrf_token": csrf_token(notice.text)})
    assert response.status_code == 422 and chinese("Choose the file to upload.") in response.text
    response = upload(agent, tender_id, "补充文件.pdf")
    assert response.status_code == 422 and 'id="summary-error"' in response.text
    response = upload(agent, tender_id, "notes.exe", summary="补充")
    assert response.status_code == 422 and 'id="file-error"' in response.text
    assert server.sql("SELECT count(*) FROM tender_documents WHERE tender_id = $1", tender_id) == 1
    response = upload(agent, tender_id, "补充文件.pdf", summary="补充技术参数", substantive="yes")
    assert response.status_code == 303
    notice = agent.get(f"/tenders/{tender_id}")
    assert "补充技术参数" in notice.text and chinese("Substantive") in notice.text


def test_a_bidder_registers_asks_and_reads_the_answer(server: Server, clients: Clients) -> None:
    tender_id = published_tender(clients, server, "页面问答" + chinese_word())
    bidder, agent = clients.sign_in("bidder3"), clients.sign_in("agent")
    notice = bidder.get(f"/tenders/{tender_id}")
    assert f'action="/tenders/{tender_id}/questions"' not in notice.text
    response = bidder.post(f"/tenders/{tender_id}/register", data={"_csrf_token": csrf_token(notice.text)})
    assert response.status_code == 303 and response.headers["location"].endswith("?done=registered#bidding")
    notice = bidder.get(f"/tenders/{tender_id}")
    document_link = re.search(rf'href="(/tenders/{tender_id}/documents/\d+)"', notice.text)
    assert document_link and bidder.get(document_link.group(1)).content == PDF
    empty = bidder.post(f"/tenders/{tender_id}/questions", data={"_csrf_token": csrf_token(notice.text)})
    assert empty.status_code == 422 and 'id="question-error"' in empty.text
    asked = bidder.post(
        f"/tenders/{tender_id}/questions", data={"_csrf_token": csrf_token(notice.text), "question": "交货期多久？"}
    )
    assert asked.status_code == 303
    notice = agent.get(f"/tenders/{tender_id}")
    question_id = server.sql("SELECT max(id) FROM tender_questions WHERE tender_id = $1", tender_id)
    answered = agent.post(
        f"/tenders/{tender_id}/questions/{question_id}/answer",
        data={"_csrf_token": csrf_token(notice.text), "answer": "合同签订后三十日内。", "confirmed": "yes"},
    )
    assert answered.status_code == 303
    public = clients.new().get(f"/tenders/{tender_id}")
    assert "交货期多久？" in public.text and "合同签订后三十日内。" in public.text and "bidder3" not in public.text


def _answered_question(server: Server, clients: Clients, title: str) -> tuple[int, int, httpx.Client]:
    """A published tender with bidder1 registered and one question of its, unanswered: tender, question, agent."""
    tender_id = published_tender(clients, server, title + chinese_word())
    bidder = clients.api("bidder1")
    assert bidder.post(f"/api/v1/tenders/{tender_id}/registration").status_code == 200
    asked = bidder.post(f"/api/v1/tenders/{tender_id}/questions", json={"question": "现场踏勘何时集合？"})
    assert asked.status_code == 201, asked.text
    return tender_id, asked.json()["id"], clients.sign_in("agent")


def test_an_answer_is_published_only_from_its_preview(server: Server, clients: Clients) -> None:
    tender_id, question_id, agent = _answered_question(server, clients, "页面答复预览")
    action = f"/tenders/{tender_id}/questions/{question_id}/answer"
    notice = agent.get(f"/tenders/{tender_id}")
    assert f'action="{action}"' in notice.text and chinese("Preview the answer") in notice.text
    preview = agent.post(action, data={"_csrf_token": csrf_token(notice.text), "answer": " 上午九点，东门集合。 "})
    assert preview.status_code == 200 and 'id="answer-preview"' in preview.text
    assert (
        chinese(
            "Once published, the answer is shown to everyone on the notice, under the asker's pseudonym, and every "
            "registered bidder is notified. It cannot be taken back: a mistake can only be put right by a correction, "
            "published beside it."
        )
        in preview.text
    )
    assert (
        'name="answer" value="上午九点，东门集合。"' in preview.text and 'name="confirmed" value="yes"' in preview.text
    )
    # Previewing publishes nothing, and a text the publication would refuse is refused at the preview already.
    assert server.sql("SELECT answer FROM tender_questions WHERE id = $1", question_id) is None
    too_long = agent.post(action, data={"_csrf_token": csrf_token(notice.text), "answer": "长" * 5001})
    assert too_long.status_code == 422 and "error-summary" in too_long.text
    published = agent.post(
        action, data={"_csrf_token": csrf_token(preview.text), "answer": "上午九点，东门集合。", "confirmed": "yes"}
    )
    assert published.status_code == 303 and published.headers["location"].endswith("?done=answered#questions")
    assert server.sql("SELECT answer FROM tender_questions WHERE id = $1", question_id) == "上午九点，东门集合。"
    again = agent.post(action, data={"_csrf_token": csrf_token(preview.text), "answer": "再答一次"})
    refusal = chinese("This question is answered already: publish a correction of the answer to change it.")
    assert again.status_code == 409 and refusal in again.text


def test_a_correction_is_previewed_published_as_such_and_keeps_the_original(server: Server, clients: Clients) -> None:
    tender_id, question_id, agent = _answered_question(server, clients, "页面答复更正")
    api = clients.api("agent")
    answer_url = f"/api/v1/tenders/{tender_id}/questions/{question_id}/answer"
    assert api.post(answer_url, json={"answer": "上午九点，东门集合。"}).status_code == 204
    action = f"/tenders/{tender_id}/questions/{question_id}/answer/corrections"
    notice = agent.get(f"/tenders/{tender_id}")
    assert f'action="{action}"' in notice.text and chinese("Correct this answer") in notice.text
    token = csrf_token(notice.text)
    same = agent.post(action, data={"_csrf_token": token, "answer": "上午九点，东门集合。"})
    assert (
        same.status_code == 422 and chinese("The correction says what the answer in force says already.") in same.text
    )
    preview = agent.post(action, data={"_csrf_token": token, "answer": "上午九点，北门集合（东门施工封闭）。"})
    assert preview.status_code == 200 and chinese("Answer in force now") in preview.text
    assert "上午九点，东门集合。" in preview.text
    # The rule for what a correction cannot do, with its basis, where the agency meets it.
    rule = chinese(
        "A correction puts right what an answer says. If the tender's requirements change, amend the tender "
        "instead: a substantive change less than %(days)s days before the deadline moves the deadline out "
        "(Tendering Law, art. 23).",
        days=15,
    )
    assert rule in preview.text and "第二十三条" in rule
    assert server.sql("SELECT count(*) FROM tender_answer_corrections WHERE question_id = $1", question_id) == 0
    done = agent.post(
        action,
        data={
            "_csrf_token": csrf_token(preview.text),
            "answer": "上午九点，北门集合（东门施工封闭）。",
            "confirmed": "yes",
        },
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=corrected#questions")

    public = clients.new().get(f"/tenders/{tender_id}").text
    original, corrected = public.index("上午九点，东门集合。"), public.index("上午九点，北门集合（东门施工封闭）。")
    assert original < corrected and public.count('class="answer correction"') == 1
    assert chinese("Correction") in public[original:corrected] and chinese("Corrected below") in public
    kinds = server.sql(
        """SELECT array_agg(kind ORDER BY n.id) FROM notifications AS n JOIN users AS u ON u.id = n.user_id
           WHERE u.login = 'bidder1' AND n.tender_id = $1""",
        tender_id,
    )
    assert kinds == ["tender.answered", "tender.answer_corrected"]
    events = server.sql(
        "SELECT array_agg(action ORDER BY id) FROM audit_events WHERE subject = $1 AND action LIKE '%answer%'",
        f"tender:{tender_id}",
    )
    assert events == ["tender.question_answered", "tender.answer_corrected"]
    dashboard = clients.sign_in("bidder1").get("/dashboard").text
    reference = server.sql("SELECT reference FROM tenders WHERE id = $1", tender_id)
    assert chinese("An answer about tender %(reference)s was corrected.", reference=reference) in dashboard


def test_a_tender_is_cancelled_with_a_reason(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    tender_id = published_tender(clients, server, "页面取消" + chinese_word())
    notice = agent.get(f"/tenders/{tender_id}")
    refused = agent.post(f"/tenders/{tender_id}/cancel", data={"_csrf_token": csrf_token(notice.text), "reason": " "})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    done = agent.post(
        f"/tenders/{tender_id}/cancel", data={"_csrf_token": csrf_token(notice.text), "reason": "采购需求变更。"}
    )
    assert done.status_code == 303
    public = clients.new().get(f"/tenders/{tender_id}")
    assert 'class="banner cancelled"' in public.text and "采购需求变更。" in public.text


@pytest.mark.parametrize(
    ("login", "path", "data"),
    [
        ("agent", "/tenders/new", {"region": "伪造"}),
        ("agent", "/tenders/{id}/publish", {}),
        ("agent", "/tenders/{id}/cancel", {"reason": "伪造"}),
        ("bidder1", "/tenders/{id}/register", {}),
        ("bidder1", "/tenders/{id}/questions", {"question": "伪造"}),
    ],
)
def test_the_forms_need_a_csrf_token(
    server: Server, clients: Clients, login: str, path: str, data: dict[str, str]
) -> None:
    tender_id = server.sql("SELECT max(id) FROM tenders WHERE status = 'published'") or 1
    client = clients.sign_in(login)
    before = server.sql("SELECT count(*) FROM audit_events")
    for token in (None, "x" * 128):
        body = data | ({"_csrf_token": token} if token else {})
        response = client.post(path.format(id=tender_id), data=body)
        assert response.status_code == 403 and chinese("This form has expired") in response.text
    upload = client.post(
        f"/tenders/{tender_id}/documents", data={"summary": "伪造"}, files={"file": ("a.pdf", PDF, "application/pdf")}
    )
    assert upload.status_code == 403
    assert server.sql("SELECT count(*) FROM audit_events") == before


def test_a_document_over_the_limit_is_refused_and_nothing_is_kept(server: Server, clients: Clients) -> None:
    limit = int(server.environment.get("BIDDING_MAX_DOCUMENT_SIZE", "0"))
    if not 0 < limit <= 4 * 1024 * 1024:
        pytest.skip("the server's document limit is too large to upload over it here")
    agent = clients.sign_in("agent")
    tender_id = create_draft(agent, server, "页面超限" + chinese_word())
    token = csrf_token(agent.get(f"/tenders/{tender_id}").text)
    # Just over the document limit: the form fits the body limit, and the upload stops at the document's.
    response = agent.post(
        f"/tenders/{tender_id}/documents",
        data={"_csrf_token": token},
        files={"file": ("大文件.pdf", b"%PDF" + b"0" * limit, "application/pdf")},
    )
    assert response.status_code == 413 and 'id="upload"' in response.text
    assert chinese("A tender document can have at most %(size)s.", size=f"{limit // 1024**2} MiB") in response.text
    # Far over it: refused from the length announced, before the form is read, on the error page.
    response = agent.post(
        f"/tenders/{tender_id}/documents",
        data={"_csrf_token": token},
        files={"file": ("更大的文件.pdf", b"%PDF" + b"0" * (2 * limit), "application/pdf")},
    )
    assert response.status_code == 413 and 'class="panel error-page"' in response.text
    assert server.sql("SELECT count(*) FROM tender_documents WHERE tender_id = $1", tender_id) == 0


def test_actions_by_the_wrong_people_are_refused_and_change_nothing(server: Server, clients: Clients) -> None:
    agent = clients.sign_in("agent")
    draft = create_draft(agent, server, "页面越权" + chinese_word())
    assert upload(agent, draft).status_code == 303
    bidder, purchaser, anonymous = clients.sign_in("bidder1"), clients.sign_in("purchaser"), clients.new()
    before = server.sql("SELECT count(*) FROM audit_events")
    token = csrf_token(bidder.get("/tenders").text)
    refused = bidder.post(f"/tenders/{draft}/publish", data={"_csrf_token": token})
    assert refused.status_code == 403 and chinese("This form has expired") not in refused.text
    # A draft does not exist for bidders, even to register for.
    assert bidder.post(f"/tenders/{draft}/register", data={"_csrf_token": token}).status_code == 404
    # The purchaser sees the draft, but only the agency running it publishes it.
    token = csrf_token(purchaser.get(f"/tenders/{draft}").text)
    assert purchaser.post(f"/tenders/{draft}/publish", data={"_csrf_token": token}).status_code == 403
    token = csrf_token(anonymous.get("/tenders").text)
    refused = anonymous.post(f"/tenders/{draft}/register", data={"_csrf_token": token})
    assert refused.status_code == 401 and 'class="panel error-page"' in refused.text
    token = csrf_token(agent.get(f"/tenders/{draft}").text)
    assert agent.post(f"/tenders/{draft}/register", data={"_csrf_token": token}).status_code == 403
    assert server.sql("SELECT count(*) FROM audit_events") == before
    assert server.sql("SELECT status FROM tenders WHERE id = $1", draft) == "draft"


def test_the_contact_is_checked_on_the_form_needed_to_publish_and_shown_on_the_notice(
    server: Server, clients: Clients
) -> None:
    agent = clients.sign_in("agent")
    form = agent.get("/tenders/new")
    for name in ("contact.name", "contact.telephone", "contact.email", "purchaser_contact.name"):
        assert f'name="{name}"' in form.text
    assert "第五条" in form.text, "the form says the rule's basis"
    bad = tender_fields(
        server, "页面联系人" + chinese_word(), **{"contact.telephone": "123", "contact.email": "zhang@"}
    )
    refused = agent.post("/tenders/new", data={"_csrf_token": csrf_token(form.text), **bad})
    assert refused.status_code == 422
    assert 'id="contact.telephone-error"' in refused.text and 'id="contact.email-error"' in refused.text
    assert 'href="#contact.telephone"' in refused.text and "联系电话：" in refused.text

    # A draft may wait for its contact; publishing may not.
    title = "页面联系人" + chinese_word()
    tender_id = create_draft(agent, server, title, **{"contact.name": "", "contact.telephone": "", "contact.email": ""})
    assert upload(agent, tender_id).status_code == 303
    run_ceremony(clients.api("agent"), tender_id)
    not_yet = publish(agent, tender_id)
    reason = "Give the notice's contact person, with a telephone number and an e-mail address, before publishing: "
    assert not_yet.status_code == 409 and chinese(reason + "edit the draft.") in not_yet.text
    edit = agent.get(f"/tenders/{tender_id}/edit")
    fields = tender_fields(server, title) | {
        "purchaser_contact.name": "王强",
        "purchaser_contact.telephone": "0512-6778 2201",
    }
    edited = agent.post(f"/tenders/{tender_id}/edit", data={"_csrf_token": csrf_token(edit.text), **fields})
    assert edited.status_code == 303, edited.text
    assert publish(agent, tender_id).status_code == 303
    notice = clients.new().get(f"/tenders/{tender_id}")
    assert 'href="tel:0512-68881234"' in notice.text and 'href="mailto:zhang.wei@example.com"' in notice.text
    assert "王强" in notice.text and "张伟" in notice.text
