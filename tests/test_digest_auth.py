"""Tests for the Digest auth middleware (RFC 7616) and for middleware chaining."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from airhttp import client_middleware_digest_auth as digest_module
from airhttp.client_exceptions import ClientError
from airhttp.client_middleware_digest_auth import DigestAuthMiddleware
from airhttp.client_middlewares import build_client_middlewares
from airhttp.payload import BytesPayload

# RFC 7616 section 3.9.1.
RFC_USER = "Mufasa"
RFC_PASSWORD = "Circle of Life"
RFC_REALM = "http-auth@example.org"
RFC_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC_URL = "http://www.example.org/dir/index.html"


class FakeStream:
    """A body whose bytes are not known up front."""


class FakeRequest:
    def __init__(self, url: str, method: str = "GET", body: object = b"") -> None:
        self.method = method
        self.url = URL(url)
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.body = body


class FakeResponse:
    def __init__(self, status: int, www_authenticate: str | list[str] | None = None) -> None:
        self.status = status
        headers: CIMultiDict[str] = CIMultiDict()
        values = [www_authenticate] if isinstance(www_authenticate, str) else www_authenticate
        for value in values or ():
            headers.add("WWW-Authenticate", value)
        self.headers = CIMultiDictProxy(headers)
        self.released = False

    def release(self) -> None:
        self.released = True


class ScriptedServer:
    """A handler answering each call with the next scripted response."""

    def __init__(self, *responses: FakeResponse) -> None:
        self.responses = list(responses)
        self.sent: list[str | None] = []

    async def __call__(self, request: FakeRequest) -> FakeResponse:
        self.sent.append(request.headers.get("Authorization"))
        return self.responses.pop(0)


def parse_authorization(header: str) -> dict[str, str]:
    assert header.startswith("Digest ")
    return dict(digest_module._parse_challenges(header)[0][1])


def expected_response(
    hash_name: str,
    *,
    user: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str = "",
    nc: str = "",
    cnonce: str = "",
    sess: bool = False,
    body: bytes = b"",
) -> str:
    """Reference computation written straight from RFC 7616 sections 3.4.1 to 3.4.3."""

    def h(text: str | bytes) -> str:
        data = text.encode() if isinstance(text, str) else text
        return hashlib.new(hash_name, data).hexdigest()

    ha1 = h(f"{user}:{realm}:{password}")
    if sess:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        a2 += ":" + h(body)
    if qop:
        return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{h(a2)}")
    return h(f"{ha1}:{nonce}:{h(a2)}")


@pytest.fixture
def fixed_cnonce(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(digest_module, "_new_cnonce", lambda: RFC_CNONCE)
    return RFC_CNONCE


# --- RFC 7616 worked example -----------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
async def test_rfc7616_example_produces_the_published_response(
    fixed_cnonce: str, algorithm: str, expected: str
) -> None:
    challenge = (
        f'Digest realm="{RFC_REALM}", qop="auth", algorithm={algorithm}, '
        f'nonce="{RFC_NONCE}", opaque="{RFC_OPAQUE}"'
    )
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200))
    response = await DigestAuthMiddleware(RFC_USER, RFC_PASSWORD)(FakeRequest(RFC_URL), server)
    assert response.status == 200
    assert server.sent[0] is None
    sent = server.sent[1]
    assert sent is not None
    fields = parse_authorization(sent)
    assert fields == {
        "username": RFC_USER,
        "realm": RFC_REALM,
        "nonce": RFC_NONCE,
        "uri": "/dir/index.html",
        "response": expected,
        "algorithm": algorithm,
        "opaque": RFC_OPAQUE,
        "qop": "auth",
        "nc": "00000001",
        "cnonce": RFC_CNONCE,
    }
    reference = expected_response(
        "md5" if algorithm == "MD5" else "sha256",
        user=RFC_USER,
        password=RFC_PASSWORD,
        realm=RFC_REALM,
        nonce=RFC_NONCE,
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce=RFC_CNONCE,
    )
    assert reference == expected


async def test_authorization_header_lists_fields_in_a_fixed_order(fixed_cnonce: str) -> None:
    challenge = 'Digest realm="r", nonce="n", qop="auth", opaque="op", algorithm=MD5'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200))
    await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/x"), server)
    sent = server.sent[1]
    assert sent is not None
    digest = expected_response(
        "md5", user="u", password="p", realm="r", nonce="n", method="GET", uri="/x",
        qop="auth", nc="00000001", cnonce=RFC_CNONCE,
    )  # fmt: skip
    assert sent == (
        f'Digest username="u", realm="r", nonce="n", uri="/x", response="{digest}", '
        f'algorithm=MD5, opaque="op", qop=auth, nc=00000001, cnonce="{RFC_CNONCE}"'
    )


# --- Algorithms and qop ----------------------------------------------------------------

ALGORITHMS = [
    ("MD5", "md5", False),
    ("MD5-sess", "md5", True),
    ("SHA", "sha1", False),
    ("SHA-SESS", "sha1", True),
    ("SHA-256", "sha256", False),
    ("SHA256", "sha256", False),
    ("SHA-256-sess", "sha256", True),
    ("SHA256-SESS", "sha256", True),
    ("SHA-512", "sha512", False),
    ("sha512", "sha512", False),
    ("SHA-512-SESS", "sha512", True),
    ("SHA512-sess", "sha512", True),
]


@pytest.mark.parametrize(("algorithm", "hash_name", "sess"), ALGORITHMS)
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
async def test_every_algorithm_and_qop_matches_the_reference(
    fixed_cnonce: str, algorithm: str, hash_name: str, sess: bool, qop: str
) -> None:
    challenge = f'Digest realm="r", nonce="n", qop="{qop}", algorithm="{algorithm}"'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200))
    request = FakeRequest("http://h/a?b=c", "POST", BytesPayload(b"payload"))
    await DigestAuthMiddleware("u", "p")(request, server)
    sent = server.sent[1]
    assert sent is not None
    fields = parse_authorization(sent)
    assert fields["algorithm"] == algorithm
    assert fields["qop"] == qop
    assert fields["response"] == expected_response(
        hash_name, user="u", password="p", realm="r", nonce="n", method="POST",
        uri="/a?b=c", qop=qop, nc="00000001", cnonce=RFC_CNONCE, sess=sess, body=b"payload",
    )  # fmt: skip


async def test_challenge_without_qop_uses_the_rfc2069_response() -> None:
    server = ScriptedServer(FakeResponse(401, 'Digest realm="r", nonce="n1"'), FakeResponse(200))
    await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/x", "POST"), server)
    sent = server.sent[1]
    assert sent is not None
    fields = parse_authorization(sent)
    assert "qop" not in fields and "nc" not in fields and "cnonce" not in fields
    assert fields["algorithm"] == "MD5"
    # Value observed from aiohttp for the same exchange.
    assert fields["response"] == "d8128b326712da1c54672cd36a706111"


async def test_auth_int_is_preferred_and_hashes_the_body(fixed_cnonce: str) -> None:
    challenge = 'Digest realm="r", nonce="n1", qop="auth,auth-int"'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200))
    request = FakeRequest("http://h/x", "POST", b"body")
    await DigestAuthMiddleware("u", "p")(request, server)
    sent = server.sent[1]
    assert sent is not None
    fields = parse_authorization(sent)
    assert fields["qop"] == "auth-int"
    assert fields["response"] == expected_response(
        "md5", user="u", password="p", realm="r", nonce="n1", method="POST", uri="/x",
        qop="auth-int", nc="00000001", cnonce=RFC_CNONCE, body=b"body",
    )  # fmt: skip


async def test_streamed_body_falls_back_to_qop_auth() -> None:
    challenge = 'Digest realm="r", nonce="n1", qop="auth-int, auth"'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200))
    await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/x", "POST", FakeStream()), server)
    sent = server.sent[1]
    assert sent is not None
    assert parse_authorization(sent)["qop"] == "auth"


async def test_cnonce_is_random_hex() -> None:
    challenge = 'Digest realm="r", nonce="n1", qop=auth'
    server = ScriptedServer(*(FakeResponse(401, challenge), FakeResponse(200)) * 2)
    await DigestAuthMiddleware("u", "p", preemptive=False)(FakeRequest("http://h/"), server)
    await DigestAuthMiddleware("u", "p", preemptive=False)(FakeRequest("http://h/"), server)
    cnonces = [parse_authorization(sent)["cnonce"] for sent in server.sent if sent]
    assert len(cnonces) == 2
    assert cnonces[0] != cnonces[1]
    assert all(len(c) == 16 and int(c, 16) >= 0 for c in cnonces)


# --- Flow ------------------------------------------------------------------------------


async def test_non_401_response_passes_through_untouched() -> None:
    response = FakeResponse(200)
    server = ScriptedServer(response)
    result = await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/"), server)
    assert result is response
    assert server.sent == [None]
    assert not response.released


async def test_401_without_digest_challenge_is_returned() -> None:
    response = FakeResponse(401, 'Basic realm="x"')
    server = ScriptedServer(response)
    assert await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/"), server) is response
    assert len(server.sent) == 1


async def test_challenged_response_is_released_before_the_retry() -> None:
    challenged = FakeResponse(401, 'Digest realm="r", nonce="n"')
    final = FakeResponse(200)
    server = ScriptedServer(challenged, final)
    assert await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/"), server) is final
    assert challenged.released
    assert not final.released


async def test_second_401_is_returned_without_a_third_attempt() -> None:
    second = FakeResponse(401, 'Digest realm="r", nonce="n2"')
    server = ScriptedServer(FakeResponse(401, 'Digest realm="r", nonce="n1"'), second)
    assert await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/"), server) is second
    assert len(server.sent) == 2
    assert not second.released


async def test_digest_challenge_is_found_among_several() -> None:
    for header in (
        ['Basic realm="x"', 'Digest realm="r", nonce="n"'],
        'Basic realm="x", Digest realm="r", nonce="n"',
        'Newauth realm="apps", type=1, title="Login", Digest realm="r", nonce="n"',
    ):
        server = ScriptedServer(FakeResponse(401, header), FakeResponse(200))
        await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/"), server)
        sent = server.sent[1]
        assert sent is not None
        assert parse_authorization(sent)["realm"] == "r"


async def test_quoted_values_are_unescaped_for_hashing_and_escaped_on_output(
    fixed_cnonce: str,
) -> None:
    challenge = 'Digest realm="a\\"b", nonce="n,1", qop="auth"'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200))
    await DigestAuthMiddleware('u"x', "p")(FakeRequest("http://h/x"), server)
    sent = server.sent[1]
    assert sent is not None
    assert 'username="u\\"x", realm="a\\"b", nonce="n,1"' in sent
    assert parse_authorization(sent)["response"] == expected_response(
        "md5", user='u"x', password="p", realm='a"b', nonce="n,1", method="GET", uri="/x",
        qop="auth", nc="00000001", cnonce=RFC_CNONCE,
    )  # fmt: skip


async def test_unquoted_tokens_and_empty_opaque_are_accepted() -> None:
    challenge = 'Digest  realm=r, nonce=n1, qop=auth , opaque=""'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200))
    await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/x"), server)
    sent = server.sent[1]
    assert sent is not None
    fields = parse_authorization(sent)
    assert (fields["realm"], fields["nonce"], fields["qop"]) == ("r", "n1", "auth")
    assert "opaque" not in fields


async def test_credentials_are_hashed_as_utf8() -> None:
    server = ScriptedServer(FakeResponse(401, 'Digest realm="r", nonce="n"'), FakeResponse(200))
    await DigestAuthMiddleware("\xe4", "\u20ac")(FakeRequest("http://h/x"), server)
    sent = server.sent[1]
    assert sent is not None
    # Value observed from aiohttp for the same exchange.
    assert parse_authorization(sent)["response"] == "5b6b68aa0c413f28e2f98eb7ffcb37ce"


async def test_uri_is_the_raw_path_and_query_without_fragment() -> None:
    server = ScriptedServer(FakeResponse(401, 'Digest realm="r", nonce="n"'), FakeResponse(200))
    await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/%20a?x=1#frag"), server)
    sent = server.sent[1]
    assert sent is not None
    assert parse_authorization(sent)["uri"] == "/%20a?x=1"


# --- Preemptive reuse and nonce counting -----------------------------------------------


async def test_preemptive_reuse_counts_nonce_uses() -> None:
    middleware = DigestAuthMiddleware("u", "p")
    challenge = 'Digest realm="r", nonce="n1", qop=auth'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200), FakeResponse(200))
    await middleware(FakeRequest("http://h/x"), server)
    await middleware(FakeRequest("http://h/y"), server)
    assert server.sent[0] is None
    counts = [parse_authorization(sent)["nc"] for sent in server.sent[1:] if sent]
    assert counts == ["00000001", "00000002"]


async def test_without_preemptive_every_request_waits_for_a_challenge() -> None:
    middleware = DigestAuthMiddleware("u", "p", preemptive=False)
    challenge = 'Digest realm="r", nonce="n1", qop=auth'
    server = ScriptedServer(*(FakeResponse(401, challenge), FakeResponse(200)) * 2)
    await middleware(FakeRequest("http://h/x"), server)
    await middleware(FakeRequest("http://h/x"), server)
    assert server.sent[0] is None
    assert server.sent[2] is None
    second = server.sent[3]
    assert second is not None
    assert parse_authorization(second)["nc"] == "00000002"


async def test_stale_nonce_is_replaced_and_counting_restarts() -> None:
    middleware = DigestAuthMiddleware("u", "p")
    server = ScriptedServer(
        FakeResponse(401, 'Digest realm="r", nonce="n1", qop=auth'),
        FakeResponse(200),
        FakeResponse(401, 'Digest realm="r", nonce="n2", qop=auth, stale=true'),
        FakeResponse(200),
        FakeResponse(200),
    )
    await middleware(FakeRequest("http://h/x"), server)
    await middleware(FakeRequest("http://h/x"), server)
    await middleware(FakeRequest("http://h/x"), server)
    fields = [parse_authorization(sent) for sent in server.sent if sent]
    assert [(f["nonce"], f["nc"]) for f in fields] == [
        ("n1", "00000001"),
        ("n1", "00000002"),
        ("n2", "00000001"),
        ("n2", "00000002"),
    ]


async def test_challenge_of_a_failed_retry_is_kept_for_the_next_request() -> None:
    middleware = DigestAuthMiddleware("u", "p")
    server = ScriptedServer(
        FakeResponse(401, 'Digest realm="r", nonce="n1"'),
        FakeResponse(401, 'Digest realm="r", nonce="n2"'),
        FakeResponse(200),
    )
    await middleware(FakeRequest("http://h/x"), server)
    await middleware(FakeRequest("http://h/y"), server)
    third = server.sent[2]
    assert third is not None
    assert parse_authorization(third)["nonce"] == "n2"


@pytest.mark.parametrize(
    ("url", "preemptive"),
    [
        ("http://h/a/x", True),
        ("http://h/a", True),
        ("http://h/b", True),
        ("http://other/c/d", True),
        ("http://h/ab", False),
        ("http://h/c", False),
        ("https://h/a/x", False),
        ("http://h:8080/a/x", False),
    ],
)
async def test_domain_parameter_defines_the_protection_space(url: str, preemptive: bool) -> None:
    middleware = DigestAuthMiddleware("u", "p")
    challenge = 'Digest realm="r", nonce="n", domain="/a /b http://other/c"'
    server = ScriptedServer(FakeResponse(401, challenge), FakeResponse(200), FakeResponse(200))
    await middleware(FakeRequest("http://h/a/first"), server)
    await middleware(FakeRequest(url), server)
    assert (server.sent[2] is not None) is preemptive


async def test_without_domain_the_whole_origin_is_protected() -> None:
    middleware = DigestAuthMiddleware("u", "p")
    server = ScriptedServer(
        FakeResponse(401, 'Digest realm="r", nonce="n"'),
        FakeResponse(200),
        FakeResponse(200),
        FakeResponse(200),
    )
    await middleware(FakeRequest("http://h/deep/path"), server)
    await middleware(FakeRequest("http://h/"), server)
    await middleware(FakeRequest("http://other/"), server)
    assert server.sent[2] is not None
    assert server.sent[3] is None


# --- Errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("challenge", "message"),
    [
        ('Digest nonce="n1"', "Malformed Digest auth challenge: Missing 'realm' parameter"),
        ('Digest realm="r"', "Malformed Digest auth challenge: Missing 'nonce' parameter"),
        (
            'Digest realm="r", nonce="n", algorithm=sha-512-256',
            "Digest auth error: Unsupported hash algorithm: SHA-512-256. Supported algorithms: "
            "MD5, MD5-SESS, SHA, SHA-256, SHA-256-SESS, SHA-512, SHA-512-SESS, SHA-SESS, "
            "SHA256, SHA256-SESS, SHA512, SHA512-SESS",
        ),
        (
            'Digest realm="r", nonce="n", qop="bogus"',
            "Digest auth error: Unsupported Quality of Protection (qop) value(s): bogus",
        ),
    ],
)
async def test_unusable_challenge_raises_client_error_and_releases(
    challenge: str, message: str
) -> None:
    response = FakeResponse(401, challenge)
    server = ScriptedServer(response)
    with pytest.raises(ClientError) as exc_info:
        await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/"), server)
    assert str(exc_info.value) == message
    assert response.released


@pytest.mark.parametrize(
    ("login", "password", "message"),
    [
        (None, "p", "None is not allowed as login value"),
        ("u", None, "None is not allowed as password value"),
        ("u:x", "p", 'A ":" is not allowed in username (RFC 1945#section-11.1)'),
    ],
)
def test_constructor_rejects_bad_credentials(
    login: str | None, password: str | None, message: str
) -> None:
    with pytest.raises(ValueError) as exc_info:
        DigestAuthMiddleware(login, password)  # type: ignore[arg-type]
    assert str(exc_info.value) == message


async def test_awaitable_release_is_awaited() -> None:
    released: list[bool] = []

    class AsyncReleaseResponse(FakeResponse):
        def release(self) -> Any:
            async def done() -> None:
                released.append(True)

            return done()

    server = ScriptedServer(
        AsyncReleaseResponse(401, 'Digest realm="r", nonce="n"'), FakeResponse(200)
    )
    await DigestAuthMiddleware("u", "p")(FakeRequest("http://h/"), server)
    assert released == [True]


# --- build_client_middlewares ----------------------------------------------------------

Handler = Callable[[FakeRequest], Awaitable[str]]


async def final_handler(request: FakeRequest) -> str:
    request.headers.add("X-Trail", "handler")
    return "response"


def tracing_middleware(name: str, log: list[str]) -> Callable[[FakeRequest, Handler], Any]:
    async def middleware(request: FakeRequest, handler: Handler) -> str:
        log.append(f"enter {name}")
        request.headers.add("X-Trail", name)
        result = await handler(request)
        log.append(f"exit {name}")
        return result

    return middleware


def test_empty_middleware_sequence_returns_the_handler_itself() -> None:
    assert build_client_middlewares(final_handler, ()) is final_handler  # type: ignore[arg-type]


async def test_first_middleware_is_outermost() -> None:
    log: list[str] = []
    chain = build_client_middlewares(
        final_handler,  # type: ignore[arg-type]
        [tracing_middleware("one", log), tracing_middleware("two", log)],
    )
    request = FakeRequest("http://h/")
    assert await chain(request) == "response"  # type: ignore[arg-type, comparison-overlap]
    assert log == ["enter one", "enter two", "exit two", "exit one"]
    assert request.headers.getall("X-Trail") == ["one", "two", "handler"]


async def test_middleware_can_short_circuit_or_call_the_handler_twice() -> None:
    calls: list[str] = []

    async def counting_handler(request: FakeRequest) -> str:
        calls.append("handler")
        return "response"

    async def twice(request: FakeRequest, handler: Handler) -> str:
        await handler(request)
        return await handler(request)

    async def short_circuit(request: FakeRequest, handler: Handler) -> str:
        return "cached"

    chain = build_client_middlewares(counting_handler, [twice])  # type: ignore[list-item, arg-type]
    assert await chain(FakeRequest("http://h/")) == "response"  # type: ignore[arg-type, comparison-overlap]
    assert calls == ["handler", "handler"]
    chain = build_client_middlewares(counting_handler, [short_circuit])  # type: ignore[list-item, arg-type]
    assert await chain(FakeRequest("http://h/")) == "cached"  # type: ignore[arg-type, comparison-overlap]
    assert calls == ["handler", "handler"]


async def test_digest_middleware_composes_with_others() -> None:
    log: list[str] = []
    server = ScriptedServer(FakeResponse(401, 'Digest realm="r", nonce="n"'), FakeResponse(200))
    chain = build_client_middlewares(
        server,  # type: ignore[arg-type]
        [tracing_middleware("outer", log), DigestAuthMiddleware("u", "p")],  # type: ignore[list-item]
    )
    response = await chain(FakeRequest("http://h/"))  # type: ignore[arg-type]
    assert response.status == 200
    assert log == ["enter outer", "exit outer"]
    assert server.sent[0] is None and server.sent[1] is not None
