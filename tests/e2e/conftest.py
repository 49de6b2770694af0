"""End-to-end tests: the real ``bidding serve`` process on a free port, driven over HTTP and in Chromium.

The server runs on its own database of the session's PostgreSQL, seeded with the demo data as ``make run``
seeds it. Tests that need someone of their own create them with ``bidding create-user``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from crypto import custody
from crypto.age import HybridRecipient, parse_recipient
from tests.conftest import PostgresServer, run_sync
from tests.samples import sample_tender

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "demo-password"
BROWSER_HEADERS = {"accept": "text/html,application/xhtml+xml"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests run without coverage's tracer: the server they drive is a process of its own, which is not
    measured, and the tracer made the test process (the fuzzer's generation above all) three times slower. What
    coverage gates, the cryptography and the models, is covered by the unit and integration tests."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.no_cover)


@pytest.fixture(scope="session", autouse=True)
def small_password_hashes() -> Iterator[None]:
    """Every server and command these tests start hashes passwords with OWASP's minimum Argon2id parameters
    (``BIDDING_PASSWORD_HASHING``): they hash or check some five hundred passwords, a sixth of their processor time
    with the default, RFC 9106's second option (covered by the unit and integration tests)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BIDDING_PASSWORD_HASHING", "owasp-minimum")
        yield


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: How long a starting server may take to answer: seeding the demo (key files under scrypt, Argon2 passwords, an
#: opening) takes a minute or more when the machine's cores are shared by several test processes.
START_TIMEOUT = 300.0


def wait_until_live(url: str, process: subprocess.Popen[Any], log: Path, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[Any], stop_signal: signal.Signals = signal.SIGINT) -> int:
    """Stop a server as Ctrl-C (or, with SIGTERM, a service manager) does, and return its exit status."""
    process.send_signal(stop_signal)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@dataclass
class Server:
    url: str
    database_url: str
    environment: dict[str, str]
    #: What the server process wrote (its log, tracebacks included), when a fixture started it.
    log: Path | None = None

    def bidding(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a ``bidding`` command against the server's database."""
        return subprocess.run(
            [sys.executable, "-m", "bidding", *args],
            env=self.environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def create_user(
        self, login: str, password: str, *, role: str = "expert", organisation: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Create a user with ``bidding create-user``, the password given on standard input."""
        where = ["--organisation", organisation] if organisation else []
        return self.bidding(
            "create-user", "--login", login, "--name", login.title(), "--role", role, *where, "--password-stdin",
            stdin=password + "\n",
        )  # fmt: skip

    def sql(self, query: str, *args: Any) -> Any:
        """Run one statement on the server's database (to age a session, to count rows)."""
        return sql(self.database_url, query, *args)


def sql(database_url: str, query: str, *args: Any) -> Any:
    """The first value of one statement on a database, on a connection of its own."""

    async def run() -> Any:
        connection = await asyncpg.connect(database_url)
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()

    return run_sync(run)


@contextlib.contextmanager
def running_server(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[Server]:
    """``bidding serve --seed-demo`` on a database and data folder of its own, stopped cleanly at the end."""
    database_url = postgres.create_database(name)
    data_dir = tmp_path_factory.mktemp(f"{name}-data")
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BIDDING_DATA_DIR": str(data_dir),
        "BIDDING_SECRET_KEY": "e2e-secret-" + "k" * 40,
        "BIDDING_MAX_DOCUMENT_SIZE": str(1024 * 1024),
        **settings,
    }
    port = free_port()
    log = data_dir / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bidding", "serve", "--port", str(port), "--seed-demo"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_live(url, process, log)
        yield Server(url, database_url, environment, log)
    finally:
        status = stop(process)
    assert status == 0, log.read_text()


@pytest.fixture(scope="session")
def server(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(postgres, tmp_path_factory, "bidding_e2e") as started:
        yield started


def csrf_token(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def _path_pattern(path: str) -> re.Pattern[str]:
    """A path template as a pattern: each ``{name}`` one segment, but the tile path's, which spans several."""
    segment = ".+" if path.startswith("/log/tile/") else "[^/]+"
    return re.compile("^" + segment.join(re.escape(part) for part in re.split(r"\{\w+\}", path)) + "$")


class Documented:
    """The statuses the server's OpenAPI document gives each operation, to hold every test's API calls to it."""

    def __init__(self, server_url: str) -> None:
        document = httpx.get(f"{server_url}/api/openapi.json", timeout=30).json()
        self.operations: list[tuple[str, re.Pattern[str], str, set[int]]] = []
        for path, item in document["paths"].items():
            pattern = _path_pattern(path)
            for method, operation in item.items():
                self.operations.append(
                    (method.upper(), pattern, path, {int(status) for status in operation["responses"]})
                )
        # ``/api/v1/tenders/mine`` before ``/api/v1/tenders/{tender_id}``: fixed paths match first.
        self.operations.sort(key=lambda operation: operation[2].count("{"))

    def check(self, response: httpx.Response) -> None:
        """Fail if an answer of the API has a status its operation does not document."""
        request = response.request
        if not request.url.path.startswith(("/api/", "/ocds/", "/log/", "/health")):
            return
        for method, pattern, path, statuses in self.operations:
            if method == request.method and pattern.match(request.url.path):
                assert response.status_code in statuses, (
                    f"{method} {path} answered {response.status_code}, documented: {sorted(statuses)}"
                )
                return


@functools.cache
def documented(server_url: str) -> Documented:
    return Documented(server_url)


class Clients:
    """HTTP clients for one test, closed when it ends.

    Every answer of the API they get is checked against the OpenAPI document: a status it does not list for the
    operation fails the test that met it.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self._open: list[httpx.Client] = []

    def new(self, *, token: str | None = None, browser: bool = True, **headers: str) -> httpx.Client:
        """A client that talks like a browser (accepting HTML) or, with ``browser=False``, like a program."""
        all_headers = {**(BROWSER_HEADERS if browser else {}), **headers}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        client = httpx.Client(
            base_url=self.server.url,
            headers=all_headers,
            timeout=10,
            event_hooks={"response": [documented(self.server.url).check]},
        )
        self._open.append(client)
        return client

    def sign_in(self, login: str, password: str = DEMO_PASSWORD) -> httpx.Client:
        return sign_in(self.new(), login, password)

    def api(self, login: str, password: str = DEMO_PASSWORD) -> httpx.Client:
        """A program acting for ``login`` with an API token, made on the account page as a person would."""
        return self.new(token=self.token_for(login, password), browser=False)

    def token_for(self, login: str, password: str = DEMO_PASSWORD) -> str:
        client = self.sign_in(login, password)
        account = client.get("/account")
        page = client.post("/account/tokens", data={"_csrf_token": csrf_token(account.text), "name": "e2e"})
        assert page.status_code == 200
        found = re.search(r'id="new-token">(bid_[A-Za-z0-9_-]+)<', page.text)
        assert found, page.text
        return found.group(1)

    def close(self) -> None:
        for client in self._open:
            client.close()


@pytest.fixture
def clients(server: Server) -> Iterator[Clients]:
    opened = Clients(server)
    yield opened
    opened.close()


def sign_in(client: httpx.Client, login: str, password: str = DEMO_PASSWORD) -> httpx.Client:
    """Sign ``client`` in through the sign-in form, as a browser does it."""
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={
            "_csrf_token": csrf_token(form.text),
            "login": login,
            "password": password,
            "next": "/dashboard",
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard"
    return client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium driven by Playwright; missing Chromium fails under CI and skips elsewhere.

    Module-scoped: the synchronous Playwright API keeps an event loop running on the test thread while it is
    open, which would stop the asynchronous tests that come after it.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}; CI must install the Debian package 'chromium'")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def tender_json(server: Server, title: str, **changes: object) -> dict[str, Any]:
    """A valid tender of the demo hospital with the demo custodians, as the API takes it."""
    purchaser = server.sql("SELECT id FROM organisations WHERE name = '示范市第一人民医院'")
    custodians = server.sql("SELECT array_agg(user_id ORDER BY user_id) FROM user_roles WHERE role = 'custodian'")
    tender = sample_tender(dt.datetime.now(dt.UTC), purchaser_id=purchaser, custodian_ids=list(custodians), **changes)
    body: dict[str, Any] = msgspec.to_builtins(tender)
    body["title"] = {"zh": title, "en": "E2E " + title}
    return body


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A Chromium page on the server in Chinese, failing its test if a script error or CSP violation occurs."""
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    watch_for_errors(page, errors)
    yield page
    context.close()
    assert errors == []


def watch_for_errors(page: Any, errors: list[str]) -> None:
    """Collect a page's script errors, console errors (content-security-policy violations among them) and failed
    loads of anything but documents: a document answered with 401 or 422 on purpose is reported as a console
    error too, so those are checked by status in the tests instead."""
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )


def ceremony_file(request: dict[str, Any]) -> bytes:
    """What ``bidding custody ceremony`` writes for a custody request (``GET /api/v1/tenders/ID/custody``)."""
    custodians = []
    for custodian in request["custodians"]:
        recipient = parse_recipient(custodian["recipient"])
        assert isinstance(recipient, HybridRecipient)
        custodians.append((custodian["login"], recipient))
    made, _ = custody.split_opening_key(request["tender"], custodians, request["threshold"])
    return custody.encode_ceremony(made)


def run_ceremony(agent: httpx.Client, tender_id: int) -> str:
    """Record a custody ceremony for a draft, for its custodians' current keys, as the agent (an API client) does
    before publishing; returns the opening recipient."""
    request = agent.get(f"/api/v1/tenders/{tender_id}/custody")
    assert request.status_code == 200, request.text
    recorded = agent.put(f"/api/v1/tenders/{tender_id}/custody", content=ceremony_file(request.json()))
    assert recorded.status_code == 200, recorded.text
    recipient: str = recorded.json()["recipient"]
    return recipient
