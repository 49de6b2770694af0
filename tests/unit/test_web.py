from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.config.csrf import CSRFConfig

from bidding.errors import CSRFFailed
from bidding.web import BiddingCSRFMiddleware, client_ip, safe_next_path


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "/account"),
        ("/admin/users?created=x", "/admin/users?created=x"),
        (None, "/dashboard"),
        ("", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/", "/dashboard"),
        ("/\\evil.example/", "/dashboard"),
        ("account", "/dashboard"),
        ("/a\r\nSet-Cookie: x=y", "/dashboard"),
    ],
)
def test_only_paths_on_this_site_are_followed_after_a_form(target: str | None, expected: str) -> None:
    assert safe_next_path(target) == expected


def _scope(peer: str, forwarded: str | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 5000), "headers": headers}


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_ip(_scope("203.0.113.9", "198.51.100.1"), ()) == "203.0.113.9"  # type: ignore[arg-type]  # a minimal scope: only what client_ip reads


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    proxies = ("10.0.0.0/8",)
    assert client_ip(_scope("10.0.0.2", "198.51.100.1"), proxies) == "198.51.100.1"  # type: ignore[arg-type]  # a minimal scope: only what client_ip reads
    assert client_ip(_scope("203.0.113.9", "198.51.100.1"), proxies) == "203.0.113.9"  # type: ignore[arg-type]  # a minimal scope: only what client_ip reads


def test_a_spoofed_forwarded_for_entry_is_skipped() -> None:
    # The client sent "1.2.3.4" itself; the trusted proxy appended the real address after it.
    scope = _scope("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.3")
    assert client_ip(scope, ("10.0.0.0/8",)) == "198.51.100.1"  # type: ignore[arg-type]  # a minimal scope: only what client_ip reads


def test_garbage_in_forwarded_for_falls_back_to_the_peer() -> None:
    assert client_ip(_scope("10.0.0.2", "not-an-ip"), ("10.0.0.0/8",)) == "10.0.0.2"  # type: ignore[arg-type]  # a minimal scope: only what client_ip reads


@given(st.text())
def test_no_target_ever_leads_off_the_site(target: str) -> None:
    path = safe_next_path(target)
    assert path.startswith("/") and not path.startswith(("//", "/\\"))
    assert not urlsplit(path).netloc and not urlsplit(path).scheme


async def test_an_api_request_without_its_csrf_header_is_refused_before_its_body_is_read() -> None:
    """A form body posted to the API by a browser is never read: the document upload there takes any size."""

    async def application(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the request went on")

    async def receive() -> dict[str, object]:
        raise AssertionError("the body was read")

    async def send(message: object) -> None:
        raise AssertionError("something was sent")

    middleware = BiddingCSRFMiddleware(application, CSRFConfig(secret="s" * 32, header_name="x-csrf-token"))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/tenders/1/documents",
        "headers": [(b"content-type", b"multipart/form-data; boundary=x"), (b"cookie", b"session=abc")],
    }
    with pytest.raises(CSRFFailed):
        await middleware(scope, receive, send)  # type: ignore[arg-type]  # a minimal scope and channels: only what the middleware reads
