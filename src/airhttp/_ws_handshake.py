"""The WebSocket opening handshake (RFC 6455 section 4.1), as plain values: no I/O.

`request_headers` builds what the upgrade request adds; `check_response` judges the
server's answer and returns what was agreed (subprotocol, permessage-deflate), or
raises `WSHandshakeError` with the reason. The connection layer does the sending.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from typing import Final, NamedTuple

from multidict import CIMultiDict, MultiMapping

from . import hdrs
from ._ws_deflate import DeflateParams, extension_offer, negotiate
from .http_websocket import WS_KEY, WSHandshakeError

__all__ = ("HandshakeOutcome", "accept_value", "check_response", "make_key", "request_headers")

_SWITCHING_PROTOCOLS: Final = 101
_VERSION: Final = "13"


class HandshakeOutcome(NamedTuple):
    """What the server agreed to: the subprotocol (None: none of ours) and compression."""

    protocol: str | None
    deflate: DeflateParams | None


def make_key() -> str:
    """A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 section 4.1)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_value(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 section 4.2.2)."""
    digest = hashlib.sha1(key.encode("ascii") + WS_KEY).digest()
    return base64.b64encode(digest).decode("ascii")


def request_headers(
    headers: CIMultiDict[str],
    key: str,
    protocols: Sequence[str],
    origin: str | None,
    compress: int,
) -> CIMultiDict[str]:
    """Add the upgrade headers to the caller's `headers` (theirs win, except the key)."""
    headers.setdefault(hdrs.UPGRADE, "websocket")
    headers.setdefault(hdrs.CONNECTION, "Upgrade")
    headers.setdefault(hdrs.SEC_WEBSOCKET_VERSION, _VERSION)
    headers[hdrs.SEC_WEBSOCKET_KEY] = key
    if protocols:
        headers[hdrs.SEC_WEBSOCKET_PROTOCOL] = ",".join(protocols)
    if origin is not None:
        headers[hdrs.ORIGIN] = origin
    if compress:
        headers[hdrs.SEC_WEBSOCKET_EXTENSIONS] = extension_offer(compress)
    return headers


def check_response(
    status: int,
    headers: MultiMapping[str],
    key: str,
    protocols: Sequence[str],
    compress: int,
) -> HandshakeOutcome:
    """Validate the server's answer to the upgrade request made with `key`."""
    if status != _SWITCHING_PROTOCOLS:
        raise WSHandshakeError("Invalid response status")
    if headers.get(hdrs.UPGRADE, "").lower() != "websocket":
        raise WSHandshakeError("Invalid upgrade header")
    # RFC 6455 section 4.1: Connection is a token list that must contain "Upgrade".
    tokens = headers.get(hdrs.CONNECTION, "").lower().split(",")
    if "upgrade" not in (token.strip() for token in tokens):
        raise WSHandshakeError("Invalid connection header")
    if headers.get(hdrs.SEC_WEBSOCKET_ACCEPT, "") != accept_value(key):
        raise WSHandshakeError("Invalid challenge response")

    protocol = None
    if protocols and hdrs.SEC_WEBSOCKET_PROTOCOL in headers:
        # The first of the server's names that we offered; one we did not offer is not
        # an error (as with aiohttp), the socket simply has no subprotocol then.
        for name in headers[hdrs.SEC_WEBSOCKET_PROTOCOL].split(","):
            if name.strip() in protocols:
                protocol = name.strip()
                break

    deflate = None
    if compress:
        extensions = ", ".join(headers.getall(hdrs.SEC_WEBSOCKET_EXTENSIONS, ()))
        if extensions:
            deflate = negotiate(extensions, compress)
    return HandshakeOutcome(protocol, deflate)
