"""Tests for the WebSocket value types in airhttp.http_websocket."""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
from decimal import Decimal

import pytest

from airhttp.http_websocket import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WS_KEY,
    WebSocketError,
    WSCloseCode,
    WSHandshakeError,
    WSMessage,
    WSMsgType,
)


def test_msg_type_values_follow_rfc6455_opcodes() -> None:
    assert WSMsgType.CONTINUATION == 0
    assert WSMsgType.TEXT == 1
    assert WSMsgType.BINARY == 2
    assert WSMsgType.CLOSE == 8
    assert WSMsgType.PING == 9
    assert WSMsgType.PONG == 10
    assert (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR) == (256, 257, 258)


def test_lowercase_msg_type_names_are_aliases() -> None:
    assert WSMsgType.text is WSMsgType.TEXT
    assert WSMsgType.binary is WSMsgType.BINARY
    assert WSMsgType.closed is WSMsgType.CLOSED
    assert WSMsgType(1) is WSMsgType.TEXT
    assert len(list(WSMsgType)) == 9


def test_msg_type_and_close_code_match_aiohttp() -> None:
    aiohttp_ws = pytest.importorskip("aiohttp.http_websocket")
    ours = {name: int(member) for name, member in WSMsgType.__members__.items()}
    theirs = {name: int(member) for name, member in aiohttp_ws.WSMsgType.__members__.items()}
    assert ours == theirs
    ours = {name: int(member) for name, member in WSCloseCode.__members__.items()}
    theirs = {name: int(member) for name, member in aiohttp_ws.WSCloseCode.__members__.items()}
    assert ours == theirs
    assert aiohttp_ws.WS_KEY == WS_KEY
    assert tuple(aiohttp_ws.WS_CLOSED_MESSAGE) == tuple(WS_CLOSED_MESSAGE)
    assert tuple(aiohttp_ws.WS_CLOSING_MESSAGE) == tuple(WS_CLOSING_MESSAGE)


def test_close_codes_are_ints_usable_on_the_wire() -> None:
    assert WSCloseCode.OK == 1000
    assert WSCloseCode.MESSAGE_TOO_BIG == 1009
    assert WSCloseCode.OK.to_bytes(2, "big") == b"\x03\xe8"
    assert WSCloseCode(1011) is WSCloseCode.INTERNAL_ERROR


def test_ws_key_yields_the_rfc6455_sample_accept_value() -> None:
    # RFC 6455 section 1.3: key "dGhlIHNhbXBsZSBub25jZQ==" is answered with this accept.
    key = b"dGhlIHNhbXBsZSBub25jZQ=="
    accept = base64.b64encode(hashlib.sha1(key + WS_KEY).digest())
    assert accept == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_message_is_a_named_tuple_of_type_data_extra() -> None:
    message = WSMessage(WSMsgType.TEXT, "hi", None)
    assert message._fields == ("type", "data", "extra")
    assert message == (1, "hi", None)
    kind, data, extra = message
    assert (kind, data, extra) == (WSMsgType.TEXT, "hi", None)
    assert repr(message) == "WSMessage(type=<WSMsgType.TEXT: 1>, data='hi', extra=None)"
    assert pickle.loads(pickle.dumps(message)) == message


def test_message_json_decodes_text_and_binary_payloads() -> None:
    assert WSMessage(WSMsgType.TEXT, '{"a": [1, 2]}', None).json() == {"a": [1, 2]}
    assert WSMessage(WSMsgType.BINARY, b"[1]", None).json() == [1]
    with pytest.raises(json.JSONDecodeError):
        WSMessage(WSMsgType.TEXT, "not json", None).json()


def test_message_json_uses_the_given_loads() -> None:
    message = WSMessage(WSMsgType.TEXT, '{"price": 1.10}', None)
    decoded = message.json(loads=lambda raw: json.loads(raw, parse_float=Decimal))
    assert decoded == {"price": Decimal("1.10")}


def test_closed_and_closing_messages_carry_no_data() -> None:
    assert WSMessage(WSMsgType.CLOSED, None, None) == WS_CLOSED_MESSAGE
    assert WSMessage(WSMsgType.CLOSING, None, None) == WS_CLOSING_MESSAGE


def test_websocket_error_keeps_code_and_shows_message() -> None:
    error = WebSocketError(WSCloseCode.PROTOCOL_ERROR, "bad frame")
    assert error.code == 1002
    assert str(error) == "bad frame"
    assert error.args == (1002, "bad frame")
    assert repr(error) == "WebSocketError(<WSCloseCode.PROTOCOL_ERROR: 1002>, 'bad frame')"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, str(copy)) == (1002, "bad frame")


def test_handshake_error_is_a_plain_exception() -> None:
    assert issubclass(WSHandshakeError, Exception)
    assert not issubclass(WSHandshakeError, WebSocketError)
    assert str(WSHandshakeError("nope")) == "nope"
