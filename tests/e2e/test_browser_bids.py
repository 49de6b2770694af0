"""Sealed bids in Chromium, each person in a browser of their own: keys made on /keys, bids sealed and submitted on
the bid page (one replaced, one withdrawn, one too late), receipts downloaded and proven offline, and the opening in
the hall: the agency starts it, two custodians open their shares in their browsers and hand them in, and the
bidders watch the record appear over the hall's websocket. Any script error or CSP violation fails the test."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bidding.bids.model import bid_reference
from bidding.i18n import load_translators
from tests.e2e.conftest import Clients, Server, watch_for_errors
from tests.e2e.test_bids_pages import agency_staff, draft_tender, record_ceremony_and_publish
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.browser

ZH = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")["zh-CN"]
PASSPHRASE = "correct horse battery staple"
#: What each bidder enters on its price sheet: total, duration in days, bid security, remarks.
PRICES = {
    "bidder1": ("1250000.00", "120", "10000.00", "含税"),
    "bidder2": ("1199000.00", "150", "10000", "工期可提前"),
    "bidder3": ("1302000.50", "90", "", ""),
}
#: bidder2's replacement, at a lower price.
REPLACEMENT = ("1150000.00", "140", "10000", "替换报价")
#: Sealing, uploading and submitting, and making a key file (scrypt at age's work factor), take seconds each.
SLOW = 60_000

People = Callable[[str], Any]


@pytest.fixture
def people(browser: Any, server: Server) -> Iterator[tuple[People, list[str]]]:
    """Opens a browser of its own for a person, signed in through the sign-in form; all are watched for errors.

    The list returned with it collects the errors; a test takes out those it caused on purpose.
    """
    contexts: list[Any] = []
    errors: list[str] = []

    def person(login: str) -> Any:
        context = browser.new_context(base_url=server.url, locale="zh-CN", accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        watch_for_errors(page, errors)
        sign_in(page, login)
        return page

    yield person, errors
    for context in contexts:
        context.close()
    assert errors == []


def start_key_file(page: Any) -> None:
    """Start making a key file on /keys (scrypt takes seconds: several people's run side by side)."""
    page.click(".main-nav a[href='/keys']")
    page.wait_for_url("**/keys")
    page.fill("#key-passphrase", PASSPHRASE)
    page.fill("#key-passphrase-again", PASSPHRASE)
    page.click("#make-key-button")


def finish_key_file(page: Any, folder: Path, login: str) -> Path:
    """Save the key file made (in ``folder``, where the person chooses) and register its public halves."""
    page.locator("#key-made").wait_for(state="visible", timeout=SLOW)
    assert page.locator("#register-key").is_disabled()  # not before the file is saved
    with page.expect_download() as download:
        page.click("#key-file-link")
    name = page.input_value("#key-name")
    assert download.value.suggested_filename == f"{name}.key"
    path = folder / f"{login}.key"
    download.value.save_as(path)
    assert path.read_text().startswith("-----BEGIN AGE ENCRYPTED FILE-----")
    page.click("#register-key")
    page.wait_for_url("**/keys?done=registered*")
    current = page.locator("#registered-keys tbody tr").first
    assert current.get_attribute("data-key-name") == name
    assert current.locator(".tag.current").count() == 1
    return path


def save(page: Any, selector: str, target: Path) -> Path:
    with page.expect_download() as download:
        page.click(selector)
    download.value.save_as(target)
    return target


def prove_offline(proofs: list[tuple[Path, Path]], log_vkey: Path) -> None:
    """Check every (receipt, record) with ``bidding log proof`` as a bidder would, offline; all at once."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BIDDING_") and k != "DATABASE_URL"}
    checks = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bidding",
                "log",
                "proof",
                str(receipt),
                "--key",
                str(log_vkey),
                "--record",
                str(record),
            ],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for receipt, record in proofs
    ]
    for (receipt, _), check in zip(proofs, checks, strict=True):
        output, _ = check.communicate(timeout=60)
        assert check.returncode == 0, (receipt.name, output)


def fill_bid(page: Any, key_file: Path, total: str, days: str, security: str, remarks: str) -> None:
    page.select_option("#bid-lot", "1")
    page.fill("#bid-total", total)
    page.fill("#bid-duration", days)
    page.fill("#bid-security", security)
    page.fill("#bid-remarks", remarks)
    page.set_input_files(
        "#bid-documents",
        files=[
            {"name": "技术标.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 technical " * 200},
            {"name": "报价单.pdf", "mimeType": "application/pdf", "buffer": f"%PDF-1.7 {total}".encode()},
        ],
    )
    page.set_input_files("#bid-key-file", str(key_file))
    page.fill("#bid-passphrase", PASSPHRASE)


def submit_bid(page: Any) -> str:
    """Seal and submit the filled form; returns the result's heading (see :func:`bid_result`)."""
    page.click("#bid-submit")
    return bid_result(page)


def bid_result(page: Any) -> str:
    """The heading of the result of a submission under way, or a failure with the error the page shows."""
    page.wait_for_function(
        "() => !document.getElementById('bid-result').hidden || !document.getElementById('bid-error').hidden",
        timeout=SLOW,
    )
    assert page.locator("#bid-error").is_hidden(), page.locator("#bid-error").inner_text()
    assert page.input_value("#bid-passphrase") == ""
    assert page.eval_on_selector("#seal-progress", "bar => bar.value") == 100
    assert page.eval_on_selector("#upload-progress", "bar => bar.value") == 100
    heading: str = page.inner_text("#bid-result-heading")
    return heading


def seq_of_frozen(server: Server, tender_id: int) -> int:
    """The number of the hall message that listed the frozen bids."""
    seq: int = server.sql(
        "SELECT seq FROM room_events WHERE room = $1 AND kind = 'bids_frozen'", f"opening/{tender_id}"
    )
    return seq


def submitted_bid(page: Any) -> tuple[int, str]:
    """The id and the reference of the bid just submitted: its reference from the name of its receipt download, its id
    from its row in the list, which shows the same reference."""
    name = page.get_attribute("#receipt-download", "download")
    reference = name.removeprefix("bid-").removesuffix(".tlog-proof")
    row = page.locator("#my-bids tr", has=page.locator("code.bid-reference", has_text=reference))
    row.wait_for()
    bid_id = int(row.get_attribute("data-bid"))
    assert reference == bid_reference(bid_id)
    return bid_id, reference


def test_bidders_seal_in_the_browser_and_watch_custodians_open_the_bids_in_the_hall(
    server: Server, clients: Clients, people: tuple[People, list[str]], tmp_path: Path
) -> None:
    person, errors = people
    key_files: dict[str, Path] = {}
    custodians = {login: person(login) for login in ("custodian1", "custodian2", "custodian3")}
    for page in custodians.values():
        start_key_file(page)
    for login, page in custodians.items():
        key_files[login] = finish_key_file(page, tmp_path, login)

    # The agency drafts the tender, runs the ceremony offline for the custodians' new keys, and publishes.
    agent = clients.api(agency_staff(server))
    tender_id, reference = draft_tender(server, agent, "浏览器密封投标测试")
    recipient = record_ceremony_and_publish(agent, tender_id, tmp_path)
    log_vkey = tmp_path / "log.vkey"
    log_vkey.write_text(httpx.get(server.url + "/log/key").text)

    # A custodian checks before the deadline that its share opens with its key file, without handing it in.
    checker = custodians["custodian3"]
    checker.goto(f"/tenders/{tender_id}")
    checker.click("#opening-hall-link")
    checker.set_input_files("#share-key-file", str(key_files["custodian3"]))
    checker.fill("#share-passphrase", PASSPHRASE)
    assert checker.locator("#share-hand-in").is_hidden()  # not before the opening
    checker.click("#share-check")
    checked = ZH.gettext("Your share opens with this key file and matches the digest published for you.")
    checker.locator("#share-status", has_text=checked).wait_for(timeout=SLOW)
    assert checker.locator("#share-error").is_hidden()
    # The platform was told that the check passed (never the share), for the agency and the custodian's dashboard.
    assert server.sql(
        """SELECT s.checked_at IS NOT NULL AND s.share IS NULL FROM custody_shares s JOIN users u ON u.id = s.user_id
           WHERE s.tender_id = $1 AND u.login = 'custodian3'""",
        tender_id,
    )

    bids: dict[str, int] = {}
    references: dict[str, str] = {}
    proofs: list[tuple[Path, Path]] = []
    bidders = {login: person(login) for login in PRICES}
    for page in bidders.values():
        start_key_file(page)
    for login, page in bidders.items():
        key_files[login] = finish_key_file(page, tmp_path, login)
    # bidder1's first upload request reaches the platform, but its answer is lost on the way back: the page must
    # ask where the upload stands (HEAD) and carry on from there.
    lost: list[str] = []
    sent: list[str] = []

    def lose_first_answer(route: Any) -> None:
        sent.append(route.request.method)
        if route.request.method == "PATCH" and not lost:
            lost.append(route.fetch().headers["upload-offset"])
            route.abort("connectionreset")
        else:
            route.continue_()

    bidders["bidder1"].route("**/api/v1/uploads/*", lose_first_answer)
    for login, (total, days, security, remarks) in PRICES.items():
        page = bidders[login]
        page.goto(f"/tenders/{tender_id}")
        page.click(f"form[action='/tenders/{tender_id}/register'] button")
        page.click("#bid-page-link")
        page.wait_for_url(f"**/tenders/{tender_id}/bid")
        assert page.text_content("#opening-recipient") == recipient
        assert page.inner_text(".notice-meta code") == reference
        fill_bid(page, key_files[login], total, days, security, remarks)
        page.click("#bid-submit")  # the three seal side by side
    for login, page in bidders.items():
        bid_result(page)
        if login == "bidder1":
            # The bytes had arrived: the page asked where the upload stood and found it whole.
            assert int(lost[0]) > 0 and sent == ["PATCH", "HEAD"], (lost, sent)
            page.unroute("**/api/v1/uploads/*")
        bids[login], references[login] = submitted_bid(page)
        receipt = save(page, "#receipt-download", tmp_path / f"{login}.tlog-proof")
        record = save(page, "#record-download", tmp_path / f"{login}.record.json")
        proofs.append((receipt, record))
        assert page.locator(f"#my-bids tr[data-bid='{bids[login]}']").get_attribute("data-status") == "sealed"
    # The receipt and the record in the list are the same proof, fetched from the platform.
    listed_receipt = save(page, f"a[data-receipt='{bids[login]}']", tmp_path / "listed.tlog-proof")
    listed_record = save(page, f"a[data-record='{bids[login]}']", tmp_path / "listed.record.json")
    proofs.append((listed_receipt, listed_record))
    assert json.loads(listed_record.read_text()) == json.loads(record.read_text())

    # bidder2 replaces its bid: the form knows there is a sealed bid in lot 1 and sends it as the one replaced.
    bidder2 = bidders["bidder2"]
    assert bidder2.locator("#bid-replacing").is_visible()
    assert references["bidder2"] in bidder2.inner_text("#bid-replacing")
    fill_bid(bidder2, key_files["bidder2"], *REPLACEMENT)
    heading = submit_bid(bidder2)
    replaced, replaced_reference = bids["bidder2"], references["bidder2"]
    bids["bidder2"], references["bidder2"] = submitted_bid(bidder2)
    assert replaced_reference in heading and references["bidder2"] in heading
    # Ids are random: two bids in a row are not numbered one after the other.
    assert abs(bids["bidder2"] - replaced) > 1 and max(bids["bidder2"], replaced) > 2**40
    proofs.append(
        (
            save(bidder2, "#receipt-download", tmp_path / "bidder2-replacement.tlog-proof"),
            save(bidder2, "#record-download", tmp_path / "bidder2-replacement.record.json"),
        )
    )
    assert bidder2.locator(f"#my-bids tr[data-bid='{replaced}']").get_attribute("data-status") == "replaced"
    assert bidder2.locator(f"#my-bids tr[data-bid='{bids['bidder2']}']").get_attribute("data-status") == "sealed"

    # bidder3 withdraws its bid; the withdrawal has a receipt of its own.
    bidder3 = bidders["bidder3"]
    withdrawn = bids.pop("bidder3")
    row = bidder3.locator(f"#my-bids tr[data-bid='{withdrawn}']")
    row.locator("details.withdraw summary").click()
    # Withdrawal asks for a confirmation first: without the box ticked the browser sends nothing.
    row.locator("button[type=submit]").click()
    bidder3.wait_for_timeout(500)
    assert row.get_attribute("data-status") == "sealed"
    assert server.sql("SELECT status FROM bids WHERE id = $1", withdrawn) == "sealed"
    row.locator("input[name=confirm]").check()
    row.locator("button[type=submit]").click()
    bidder3.locator(f"#my-bids tr[data-bid='{withdrawn}'][data-status='withdrawn']").wait_for()
    expected_name = f"bid-{references['bidder3']}-withdrawal.tlog-proof"
    assert bidder3.get_attribute("#receipt-download", "download") == expected_name
    proofs.append(
        (
            save(bidder3, "#receipt-download", tmp_path / "bidder3-withdrawal.tlog-proof"),
            save(bidder3, "#record-download", tmp_path / "bidder3-withdrawal.record.json"),
        )
    )
    assert not bidder3.locator("#bid-replacing").is_visible()  # nothing sealed left to replace

    # Too late: the deadline passes (by the database's clock) while bidder3 still has the form open.
    server.sql("UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender_id)
    fill_bid(bidder3, key_files["bidder3"], "1000000.00", "60", "", "太迟")
    bidder3.click("#bid-submit")
    error = bidder3.locator("#bid-error")
    error.wait_for(state="visible", timeout=SLOW)
    assert ZH.gettext("The deadline has passed: bids are no longer accepted.") in error.inner_text()
    assert bidder3.locator("#bid-result").is_hidden()
    late = [e for e in errors if e.startswith("409 ") and e.endswith(f"/api/v1/tenders/{tender_id}/uploads")]
    assert len(late) == 1, errors  # the refusal the page showed, and nothing else
    errors.remove(late[0])
    # Every receipt downloaded from the bid page proves its bid offline, with the log's key and the record.
    prove_offline(proofs, log_vkey)

    # The opening: bidders watch, the agency starts it, two custodians hand in their shares.
    connections: list[Any] = []

    def through(socket: Any) -> None:
        connections.append(socket)
        socket.connect_to_server()

    bidders["bidder2"].route_web_socket(re.compile(r"/ws/tenders/\d+/opening"), through)
    for login in ("bidder1", "bidder2"):
        bidders[login].goto(f"/tenders/{tender_id}")
        bidders[login].click("#opening-hall-link")
        bidders[login].locator("#hall-connection.broken").wait_for(state="detached")
    staff = person(agency_staff(server))
    staff.goto(f"/tenders/{tender_id}/opening")
    assert staff.get_attribute("#hall-phase", "data-phase") == "not_started"
    staff.click("#hall-start")
    for page in (*[bidders[login] for login in ("bidder1", "bidder2")], staff):
        page.locator("#hall-bid-list li").nth(1).wait_for()
        assert page.locator("#hall-bid-list li").count() == 2
    assert staff.locator("#hall-start").is_hidden() and staff.locator("#hall-finish").is_visible()
    waiting = ZH.gettext(
        "The opening has started. Waiting for %(missing)s more shares of the opening key: %(count)s of %(needed)s "
        "handed in."
    ) % {"missing": 2, "count": 0, "needed": 2}
    for page in (bidders["bidder1"], staff):
        page.locator("#hall-phase", has_text=waiting).wait_for()
    # bidder2's connection drops: its page reconnects and asks only for what came after the last message it drew.
    connections[0].close()
    for _ in range(100):
        if len(connections) > 1:
            break
        bidders["bidder2"].wait_for_timeout(100)
    assert len(connections) == 2 and connections[1].url.endswith(f"?after={seq_of_frozen(server, tender_id)}")
    for login in ("custodian1", "custodian2"):
        custodian = custodians[login]
        custodian.goto(f"/tenders/{tender_id}/opening")
        custodian.set_input_files("#share-key-file", str(key_files[login]))
        custodian.fill("#share-passphrase", PASSPHRASE)
        custodian.locator("#share-hand-in").click()
        custodian.locator("#share-status", has_text=ZH.gettext("Your share is handed in.")).wait_for(timeout=SLOW)
        assert custodian.locator("#share-error").is_hidden()

    for page in (bidders["bidder1"], bidders["bidder2"], staff):
        page.locator("#hall-record-done").wait_for(state="visible", timeout=SLOW)
        assert page.locator("#hall-lines tr").count() == 2
        assert page.locator("#hall-key-rebuilt").is_visible()
    record = httpx.get(f"{server.url}/api/v1/tenders/{tender_id}/opening/record")
    finished = ZH.gettext("The opening is finished: its record is signed and logged, SHA-256 %(digest)s.") % {
        "digest": hashlib.sha256(record.content).hexdigest()
    }
    for page in (bidders["bidder1"], bidders["bidder2"], staff):
        page.locator("#hall-phase", has_text=finished).wait_for()
        assert page.get_attribute("#hall-phase", "data-phase") == "finished"
        # Nothing still says the bids are being decrypted.
        assert ZH.gettext("The opening key is rebuilt. Decrypting the bids and reading out each line…") not in (
            page.inner_text("#hall")
        )
    # The lines are numbered 1, 2 in the order they were read out: the order the bids were submitted.
    watcher = bidders["bidder1"]
    assert watcher.locator("#hall-lines tr td:first-child").all_inner_texts() == ["1", "2"]
    assert watcher.locator("#hall-lines tr").first.get_attribute("data-bid") == str(bids["bidder1"])
    # A page opened after the opening says so at once, before its script has replayed anything.
    late_page = bidders["bidder2"].context.new_page()
    late_page.route("**/static/js/hall.js", lambda route: route.abort())
    late_page.goto(f"/tenders/{tender_id}/opening")
    assert late_page.inner_text("#hall-phase") == finished
    late_page.close()
    # Started, two shares, the key, two lines, the record: each drawn once, the reconnected page's too.
    assert (
        bidders["bidder1"].locator("#hall-feed li").count() == bidders["bidder2"].locator("#hall-feed li").count() == 7
    )
    assert record.status_code == 200, record.text
    lines = json.loads(record.content)["lines"]
    # The record numbers its lines 1…n in the order read out, as the hall does: the ids themselves count nothing.
    assert [(line["position"], int(line["bid"])) for line in lines] == [(1, bids["bidder1"]), (2, bids["bidder2"])]
    entered = {bids["bidder1"]: PRICES["bidder1"], bids["bidder2"]: REPLACEMENT}
    assert {int(line["bid"]): (line["total"], line["duration_days"]) for line in lines} == {
        bid: (total, int(days)) for bid, (total, days, _, _) in entered.items()
    }
    assert {int(line["bid"]): line["remarks"] for line in lines} == {bid: sheet[3] for bid, sheet in entered.items()}
    assert all(line["outcome"] == "opened" for line in lines)
    assert watcher.inner_text("#hall-record-digest") == hashlib.sha256(record.content).hexdigest()
    shown = watcher.locator(f"#line-{bids['bidder2']}").inner_text()
    assert "CNY 1,150,000.00" in shown and REPLACEMENT[3] in shown

    # Each bidder answers its own line: bidder1 confirms, bidder2 objects, and the agency answers in the hall.
    watcher.locator(f"#line-{bids['bidder1']} button[data-action='confirm']").click()
    staff.locator(f"#line-{bids['bidder1']} .tag.current").wait_for()
    objector = bidders["bidder2"]
    assert objector.locator(f"#line-{bids['bidder1']} button").count() == 0  # only one's own line
    objector.locator(f"#line-{bids['bidder2']} details summary").click()
    objector.fill(f"#objection-{bids['bidder2']}", "工期应为140天，请核对。")
    objector.locator(f"#line-{bids['bidder2']} button[data-action='object']").click()
    staff.fill(f"#answer-{bids['bidder2']}", "已核对，唱标记录无误。")
    staff.locator(f"#line-{bids['bidder2']} button[data-action='answer']").click()
    watcher.locator(f"#line-{bids['bidder2']} .answer", has_text="已核对").wait_for()
    assert watcher.locator("#hall-feed li").count() >= 9
