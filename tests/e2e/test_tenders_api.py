"""The tenders API and the open data, over HTTP against the running server, as a program uses them."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx

from tests.e2e.conftest import Clients, Server, run_ceremony, tender_json
from tests.ocds import assert_valid

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.7\n% e2e tender documents\n"
#: BIDDING_MAX_DOCUMENT_SIZE of the e2e server.
MAX_DOCUMENT = 1024 * 1024


def _digest(data: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


def _published(agent: httpx.Client, server: Server, title: str, **fields: Any) -> dict[str, Any]:
    created = agent.post("/api/v1/tenders", json=tender_json(server, title) | fields)
    assert created.status_code == 201, created.text
    tender_id = created.json()["id"]
    assert created.headers["location"] == f"/api/v1/tenders/{tender_id}"
    uploaded = agent.post(
        f"/api/v1/tenders/{tender_id}/documents",
        params={"name": "招标文件.pdf"},
        content=PDF,
        headers={"content-type": "application/pdf", "repr-digest": _digest(PDF)},
    )
    assert uploaded.status_code == 201, uploaded.text
    run_ceremony(agent, tender_id)
    published = agent.post(f"/api/v1/tenders/{tender_id}/publish")
    assert published.status_code == 200, published.text
    body: dict[str, Any] = published.json()
    return body


def test_a_tender_goes_from_draft_to_amended_through_the_api(server: Server, clients: Clients) -> None:
    agent, bidder, other = clients.api("agent"), clients.api("bidder1"), clients.api("bidder2")
    tender = _published(agent, server, "接口测试综合楼电梯采购")
    tender_id = tender["id"]
    assert tender["status"] == "published" and tender["version"] == 1 and tender["budget"] == "16300000.50"
    assert tender["ocid"] == f"ocds-bidding-{tender_id}"
    [document] = tender["documents"]
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest() and document["size"] == len(PDF)

    # A bidder finds it in Chinese, registers, downloads, asks.
    found = bidder.get("/api/v1/tenders", params={"q": "电梯采购", "status": "open"}).json()
    assert tender_id in [item["id"] for item in found["items"]]
    assert bidder.get(document["url"]).status_code == 403
    assert bidder.post(f"/api/v1/tenders/{tender_id}/registration").json() == {"registered": True, "new": True}
    assert bidder.post(f"/api/v1/tenders/{tender_id}/registration").json() == {"registered": True, "new": False}
    downloaded = bidder.get(document["url"])
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["content-type"] == "application/pdf"
    assert "attachment" in downloaded.headers["content-disposition"]
    assert server.sql("SELECT count(*) FROM document_downloads WHERE document_id = $1", document["id"]) == 1
    asked = bidder.post(f"/api/v1/tenders/{tender_id}/questions", json={"question": "可否分批供货？"})
    assert asked.status_code == 201 and asked.json()["pseudonym"] == "A"
    question_id = asked.json()["id"]
    assert other.get(f"/api/v1/tenders/{tender_id}").json()["questions"] == []

    # The agency answers and amends; the bidder sees both and is notified.
    answered = agent.post(f"/api/v1/tenders/{tender_id}/questions/{question_id}/answer", json={"answer": "不可以。"})
    assert answered.status_code == 204
    amended_body = tender_json(server, "接口测试综合楼电梯采购（更正）")
    for field in ("documents_from", "questions_until", "deadline", "evaluation_at"):
        amended_body[field] = tender[field]
    amended_body["reference"] = tender["reference"]
    amendment = agent.post(
        f"/api/v1/tenders/{tender_id}/amendments",
        json={"tender": amended_body, "summary": "更正项目名称", "substantive": False},
    )
    assert amendment.status_code == 201, amendment.text
    assert set(amendment.json()["changes"]) == {"title.zh", "title.en"}
    seen = other.get(f"/api/v1/tenders/{tender_id}").json()
    assert seen["version"] == 2 and seen["title"]["zh"].endswith("（更正）")
    assert [(q["pseudonym"], q["answer"], q["mine"]) for q in seen["questions"]] == [("A", "不可以。", False)]
    assert [a["summary"] for a in seen["amendments"]] == ["更正项目名称"]
    kinds = [n["kind"] for n in bidder.get("/api/v1/notifications").json() if n["tender_id"] == tender_id]
    assert kinds == ["tender.amended", "tender.answered"]
    assert [r["organisation_name"] for r in agent.get(f"/api/v1/tenders/{tender_id}/registrations").json()] == [
        "华建工程集团有限公司"
    ]
    assert bidder.get(f"/api/v1/tenders/{tender_id}/registrations").status_code == 404

    # The open data follows.
    record = httpx.get(f"{server.url}/ocds/records/{tender['ocid']}").json()
    assert_valid("record-package", record)
    assert [r["tag"] for r in record["records"][0]["releases"]] == [["tender"], ["tenderAmendment"]]


def test_an_answer_is_corrected_through_the_api_and_both_are_in_the_tender(server: Server, clients: Clients) -> None:
    agent, bidder = clients.api("agent"), clients.api("bidder2")
    tender_id = _published(agent, server, "接口测试答复更正")["id"]
    assert bidder.post(f"/api/v1/tenders/{tender_id}/registration").status_code == 200
    question_id = bidder.post(f"/api/v1/tenders/{tender_id}/questions", json={"question": "保证金形式？"}).json()["id"]
    corrections = f"/api/v1/tenders/{tender_id}/questions/{question_id}/answer/corrections"
    early = agent.post(corrections, json={"answer": "电子保函。"})
    assert early.status_code == 409 and early.headers["content-type"].startswith(PROBLEM)
    assert (
        agent.post(f"/api/v1/tenders/{tender_id}/questions/{question_id}/answer", json={"answer": "现金。"}).status_code
        == 204
    )
    assert agent.post(corrections, json={"answer": "长" * 5001}).status_code == 422
    assert agent.post(corrections, json={"answer": "现金。"}).status_code == 422  # says nothing new
    assert bidder.post(corrections, json={"answer": "电子保函。"}).status_code == 403
    corrected = agent.post(corrections, json={"answer": "现金或电子保函。"})
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["answer"] == "现金或电子保函。" and corrected.json()["corrected_at"]
    [question] = clients.new().get(f"/api/v1/tenders/{tender_id}").json()["questions"]
    assert question["answer"] == "现金。"  # the original stays as published
    assert [c["answer"] for c in question["corrections"]] == ["现金或电子保函。"]
    kinds = [n["kind"] for n in bidder.get("/api/v1/notifications").json() if n["tender_id"] == tender_id]
    assert kinds == ["tender.answer_corrected", "tender.answered"]
    assert (
        server.sql(
            "SELECT count(*) FROM audit_events WHERE subject = $1 AND action = 'tender.answer_corrected'",
            f"tender:{tender_id}",
        )
        == 1
    )


def test_the_release_feed_is_valid_page_after_page(server: Server, clients: Clients) -> None:
    agent = clients.api("agent")
    for n in range(3):
        _published(agent, server, f"接口测试数据源第{n}批")
    url: str | None = f"{server.url}/ocds/releases?limit=2"
    seen = []
    while url:
        response = httpx.get(url)
        assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
        package = response.json()
        assert_valid("release-package", package)
        seen += [release["id"] for release in package["releases"]]
        url = package.get("links", {}).get("next")
    assert len(seen) == len(set(seen)) >= 3
    assert httpx.get(f"{server.url}/ocds/releases?cursor=x").status_code == 422


def test_bad_requests_get_problems_and_change_nothing(server: Server, clients: Clients) -> None:
    agent, bidder = clients.api("agent"), clients.api("bidder3")
    before = server.sql("SELECT count(*) FROM tenders")
    bad = tender_json(server, "坏的项目")
    bad["lots"][0]["budget"] = "100.001"
    bad["lots"][0]["criteria"][0]["points"] = "30"
    refused = agent.post("/api/v1/tenders", json=bad)
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    pointers = {error["pointer"] for error in refused.json()["errors"]}
    assert pointers == {"#/lots/0/budget", "#/lots/0/criteria"}
    assert bidder.post("/api/v1/tenders", json=tender_json(server, "投标人不能起草")).status_code == 403
    assert server.sql("SELECT count(*) FROM tenders") == before

    tender_id = agent.post("/api/v1/tenders", json=tender_json(server, "接口测试坏文件")).json()["id"]
    mismatched = agent.post(
        f"/api/v1/tenders/{tender_id}/documents",
        params={"name": "a.pdf"},
        content=PDF,
        headers={"repr-digest": _digest(b"something else")},
    )
    assert mismatched.status_code == 422
    # The e2e server allows documents of 1 MiB: refused when announced, and when streamed without a length.
    too_large = agent.post(
        f"/api/v1/tenders/{tender_id}/documents", params={"name": "a.pdf"}, content=b"x" * (MAX_DOCUMENT + 1)
    )
    assert too_large.status_code == 413 and "1 MiB" in too_large.json()["detail"]

    def stream() -> Iterator[bytes]:
        for _ in range(17):
            yield b"x" * 65536

    assert (
        agent.post(f"/api/v1/tenders/{tender_id}/documents", params={"name": "a.pdf"}, content=stream()).status_code
        == 413
    )
    wrong_kind = agent.post(f"/api/v1/tenders/{tender_id}/documents", params={"name": "a.exe"}, content=PDF)
    assert wrong_kind.status_code == 422
    assert server.sql("SELECT count(*) FROM tender_documents WHERE tender_id = $1", tender_id) == 0
    refused_publish = agent.post(f"/api/v1/tenders/{tender_id}/publish")
    assert refused_publish.status_code == 409 and "招标文件" in refused_publish.json()["detail"]
    assert agent.get("/api/v1/tenders", params={"budget_min": "x"}).status_code == 422
    assert clients.api("agent").get("/api/v1/tenders/999999").status_code == 404


def test_the_openapi_document_describes_the_tenders_api(server: Server) -> None:
    paths = httpx.get(f"{server.url}/api/openapi.json").json()["paths"]
    assert {"/api/v1/tenders", "/api/v1/tenders/{tender_id}", "/ocds/releases", "/ocds/records/{ocid}"} <= set(paths)


def test_the_contact_goes_in_and_out_through_the_api_and_into_the_open_data(server: Server, clients: Clients) -> None:
    agent = clients.api("agent")
    bad = tender_json(server, "接口联系人错误")
    bad["contact"] = {"name": "张伟", "telephone": "phone", "email": "zhang@example"}
    refused = agent.post("/api/v1/tenders", json=bad)
    assert refused.status_code == 422
    assert {error["pointer"] for error in refused.json()["errors"]} == {"#/contact/telephone", "#/contact/email"}

    body = tender_json(server, "接口联系人")
    body["purchaser_contact"] = {"name": "王强", "telephone": "0512-6778 2201"}
    tender = _published(agent, server, "接口联系人", purchaser_contact=body["purchaser_contact"])
    assert tender["contact"] == {"name": "张伟", "telephone": "0512-6888 1234", "email": "zhang.wei@example.com"}
    assert tender["purchaser_contact"] == {"name": "王强", "telephone": "0512-6778 2201", "email": ""}

    record = httpx.get(f"{server.url}/ocds/records/{tender['ocid']}").json()
    assert_valid("record-package", record)
    parties = {party["roles"][0]: party for party in record["records"][0]["compiledRelease"]["parties"]}
    assert parties["procuringEntity"]["contactPoint"] == tender["contact"]
    assert parties["buyer"]["contactPoint"] == {"name": "王强", "telephone": "0512-6778 2201"}

    # An amendment may change the contact, never take it away.
    amended = {**body, "contact": {"name": "李娜", "telephone": "0512-6818 3370", "email": "li.na@example.com"}}
    for field in ("documents_from", "questions_until", "deadline", "evaluation_at", "reference"):
        amended[field] = tender[field]
    amendment = agent.post(
        f"/api/v1/tenders/{tender['id']}/amendments", json={"tender": amended, "summary": "更换联系人"}
    )
    assert amendment.status_code == 201, amendment.text
    assert set(amendment.json()["changes"]) == {"contact.name", "contact.telephone", "contact.email"}
    removed = {**amended, "contact": {"name": "", "telephone": "", "email": ""}}
    refused = agent.post(
        f"/api/v1/tenders/{tender['id']}/amendments", json={"tender": removed, "summary": "删除联系人"}
    )
    assert refused.status_code == 422
    assert agent.get(f"/api/v1/tenders/{tender['id']}").json()["contact"]["name"] == "李娜"
