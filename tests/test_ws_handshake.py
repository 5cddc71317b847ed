"""The WebSocket opening handshake as plain values: request headers and answer checks."""

from __future__ import annotations

import base64

import pytest
from multidict import CIMultiDict

from airhttp._ws_deflate import DeflateParams
from airhttp._ws_handshake import accept_value, check_response, make_key, request_headers
from airhttp.http_websocket import WSHandshakeError

# RFC 6455 section 1.3 works this exact example through.
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def answer(key: str = RFC_KEY, **extra: str) -> CIMultiDict[str]:
    headers = CIMultiDict(
        {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept_value(key)}
    )
    for name, value in extra.items():
        headers[name.replace("_", "-")] = value
    return headers


def test_accept_value_matches_the_rfc_example() -> None:
    assert accept_value(RFC_KEY) == RFC_ACCEPT


def test_make_key_is_16_random_bytes_in_base64() -> None:
    keys = {make_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert len(key) == 24
        assert len(base64.b64decode(key)) == 16


def test_request_headers_minimal_in_order() -> None:
    headers = request_headers(CIMultiDict(), RFC_KEY, (), None, 0)
    assert list(headers.items()) == [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", RFC_KEY),
    ]


def test_request_headers_with_protocols_origin_and_compression() -> None:
    headers = request_headers(CIMultiDict(), RFC_KEY, ("chat", "superchat"), "http://o.example", 15)
    assert headers["Sec-WebSocket-Protocol"] == "chat,superchat"
    assert headers["Origin"] == "http://o.example"
    assert headers["Sec-WebSocket-Extensions"] == "permessage-deflate; client_max_window_bits"


def test_user_headers_come_first_and_win_except_the_key() -> None:
    user = CIMultiDict({"X-A": "1", "Connection": "keep-alive, Upgrade", "Sec-WebSocket-Key": "x"})
    headers = request_headers(user, RFC_KEY, (), None, 0)
    assert list(headers.keys())[:3] == ["X-A", "Connection", "Sec-WebSocket-Key"]
    assert headers["Connection"] == "keep-alive, Upgrade"
    assert headers["Sec-WebSocket-Key"] == RFC_KEY


def test_a_good_answer_agrees_on_nothing_extra() -> None:
    assert check_response(101, answer(), RFC_KEY, (), 0) == (None, None)


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (200, answer(), "Invalid response status"),
        (404, answer(), "Invalid response status"),
        (101, CIMultiDict({"Connection": "Upgrade"}), "Invalid upgrade header"),
        (101, answer(Upgrade="foo"), "Invalid upgrade header"),
        (101, CIMultiDict({"Upgrade": "websocket"}), "Invalid connection header"),
        (101, answer(Connection="keep-alive"), "Invalid connection header"),
        (101, answer(Connection="upgrades"), "Invalid connection header"),
        (101, answer(Sec_WebSocket_Accept="AAAA"), "Invalid challenge response"),
        (
            101,
            CIMultiDict({"Upgrade": "websocket", "Connection": "Upgrade"}),
            "Invalid challenge response",
        ),
    ],
)
def test_bad_answers_are_refused_with_the_reason(
    status: int, headers: CIMultiDict[str], message: str
) -> None:
    with pytest.raises(WSHandshakeError) as info:
        check_response(status, headers, RFC_KEY, (), 0)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "connection", ["upgrade", "UPGRADE", "keep-alive, Upgrade", "Upgrade , keep-alive"]
)
def test_connection_is_a_case_insensitive_token_list(connection: str) -> None:
    headers = answer(Connection=connection, Upgrade="WebSocket")
    assert check_response(101, headers, RFC_KEY, (), 0).protocol is None


@pytest.mark.parametrize(
    ("offered", "chosen", "expected"),
    [
        (("a",), "b", None),
        ((), "b", None),
        (("a", "c"), "a", "a"),
        (("a", "c"), "c", "c"),
        (("a", "c"), "a, c", "a"),
        (("a", "c"), "x, c", "c"),
    ],
)
def test_subprotocol_is_the_first_of_ours_the_server_named(
    offered: tuple[str, ...], chosen: str, expected: str | None
) -> None:
    headers = answer(Sec_WebSocket_Protocol=chosen)
    assert check_response(101, headers, RFC_KEY, offered, 0).protocol == expected


def test_no_subprotocol_header_means_none() -> None:
    assert check_response(101, answer(), RFC_KEY, ("a",), 0).protocol is None


def test_compression_is_only_agreed_when_offered() -> None:
    headers = answer(Sec_WebSocket_Extensions="permessage-deflate")
    assert check_response(101, headers, RFC_KEY, (), 0).deflate is None
    assert check_response(101, headers, RFC_KEY, (), 15).deflate == DeflateParams()


def test_compression_declined_by_the_server() -> None:
    assert check_response(101, answer(), RFC_KEY, (), 15).deflate is None
