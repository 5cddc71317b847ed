"""permessage-deflate (RFC 7692): the client's offer, the server's answer, message (de)compression.

Bytes and header values in, bytes and parameters out: no sockets, no frames, no asyncio here.
Also aiohttp's public `ws_ext_gen` / `ws_ext_parse`, which read the header by aiohttp's rules.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import zlib
from typing import Final

from .http_websocket import WebSocketError, WSCloseCode, WSHandshakeError

__all__ = (
    "EXTENSION_NAME",
    "MAX_WINDOW_BITS",
    "MIN_OFFER_BITS",
    "MIN_WINDOW_BITS",
    "DeflateParams",
    "PerMessageDeflate",
    "extension_offer",
    "negotiate",
    "ws_ext_gen",
    "ws_ext_parse",
)

EXTENSION_NAME: Final = "permessage-deflate"
# RFC 7692 section 7.1.2.1: a window is 2**8 to 2**15 bytes.
MIN_WINDOW_BITS: Final = 8
MAX_WINDOW_BITS: Final = 15
# zlib refuses raw deflate with wbits=8 (ValueError), so we offer and override from 9 up.
MIN_OFFER_BITS: Final = 9

# RFC 7692 section 7.2.1: the four octets of the empty stored block a sync flush ends
# with are left off the wire; section 7.2.2 has the receiver append them again.
_TAIL: Final = b"\x00\x00\xff\xff"

# RFC 7692 section 7.1.2.1: "a decimal integer value without leading zeroes between 8 to
# 15"; matching exact strings also refuses "+9", " 9" and non-ASCII digits.
_WINDOW_VALUES: Final = {str(bits): bits for bits in range(MIN_WINDOW_BITS, MAX_WINDOW_BITS + 1)}
_CLIENT_WINDOW: Final = "client_max_window_bits"
_SERVER_WINDOW: Final = "server_max_window_bits"
_CLIENT_NO_TAKEOVER: Final = "client_no_context_takeover"
_SERVER_NO_TAKEOVER: Final = "server_no_context_takeover"
_RESPONSE_PARAMS: Final = frozenset(
    (_CLIENT_WINDOW, _SERVER_WINDOW, _CLIENT_NO_TAKEOVER, _SERVER_NO_TAKEOVER)
)

# RFC 6455 section 9.1 grammar: extension *( ";" param [ "=" (token | quoted-string) ] ),
# comma-separated; optional whitespace around separators (RFC 9110 section 5.6.3).
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED: Final = r'"(?:[^"\\]|\\.)*"'
_OWS: Final = r"[ \t]*"


class _Grammar:
    """The compiled patterns; built on the first negotiation, not at import (cold start)."""

    def __init__(self) -> None:
        # RFC 9110 section 5.6.1: empty list elements (", ,") are skipped.
        self.extension = re.compile(rf"[ \t,]*({_TOKEN})")
        self.param = re.compile(
            rf"{_OWS};{_OWS}({_TOKEN})(?:{_OWS}={_OWS}(?:({_TOKEN})|({_QUOTED})))?"
        )
        self.extension_end = re.compile(rf"{_OWS}(?:,|\Z)")
        self.nothing_left = re.compile(r"[ \t,]*\Z")
        self.token = re.compile(_TOKEN)
        self.escape = re.compile(r"\\(.)")

    # aiohttp's reading for `ws_ext_parse` (see there), not RFC 6455's: the name is found
    # anywhere, case-sensitively, and what follows it up to the next comma must be known
    # parameters: ";", any Unicode whitespace, a flag, or a window size with maybe "="
    # and digits. Compiled on ws_ext_parse's first call: ws_connect never needs them.

    @functools.cached_property
    def compat_offer(self) -> re.Pattern[str]:
        return re.compile(rf"{re.escape(EXTENSION_NAME)}([^,]*)")

    @functools.cached_property
    def compat_param(self) -> re.Pattern[str]:
        return re.compile(
            rf";\s*(?:({_CLIENT_NO_TAKEOVER}|{_SERVER_NO_TAKEOVER})"
            rf"|({_CLIENT_WINDOW}|{_SERVER_WINDOW})(?:=(\d+))?)"
        )


@functools.cache
def _grammar() -> _Grammar:
    return _Grammar()


_Params = list[tuple[str, str | None]]


@dataclasses.dataclass(frozen=True, slots=True)
class DeflateParams:
    """What the handshake settled (RFC 7692 section 7.1).

    "client" settings bind what we send, "server" settings what the server sends us.
    """

    client_max_window_bits: int = MAX_WINDOW_BITS
    server_max_window_bits: int = MAX_WINDOW_BITS
    client_no_context_takeover: bool = False
    server_no_context_takeover: bool = False


def _check_offer_bits(compress: int) -> None:
    # aiohttp's wording, so code that matches on it keeps working; "<" first, as aiohttp,
    # so a None or str argument fails with aiohttp's TypeError text too.
    if compress < MIN_OFFER_BITS or compress > MAX_WINDOW_BITS:
        raise ValueError("Compress wbits must between 9 and 15, zlib does not support wbits=8")


def extension_offer(compress: int = MAX_WINDOW_BITS) -> str:
    """The Sec-WebSocket-Extensions value that offers permessage-deflate to a server.

    As aiohttp's offer: the bare client_max_window_bits (RFC 7692 section 7.1.2.2: "tell
    me a window and I will keep to it"), and below 15 bits a server_max_window_bits
    asking the server to keep its window to `compress` bits. 8 is refused: zlib cannot
    make raw deflate with a 256-byte window. The server may still answer
    client_max_window_bits=8; `PerMessageDeflate` honours that (see there).
    """
    return ws_ext_gen(compress)


def ws_ext_gen(
    compress: int = MAX_WINDOW_BITS, isserver: bool = False, server_notakeover: bool = False
) -> str:
    """aiohttp's Sec-WebSocket-Extensions value for permessage-deflate with a `compress`-bit window.

    A client's offer (`isserver` false) starts with the bare client_max_window_bits (see
    `extension_offer`); a server's answer has none. Below 15 bits server_max_window_bits
    names `compress`; `server_notakeover` adds server_no_context_takeover. `compress`
    outside 9..15 raises ValueError.
    """
    _check_offer_bits(compress)
    params = [EXTENSION_NAME]
    if not isserver:
        params.append(_CLIENT_WINDOW)
    if compress < MAX_WINDOW_BITS:
        params.append(f"{_SERVER_WINDOW}={compress}")
    if server_notakeover:
        params.append(_SERVER_NO_TAKEOVER)
    return "; ".join(params)


def ws_ext_parse(extstr: str | None, isserver: bool = False) -> tuple[int, bool]:
    """aiohttp's reading of a Sec-WebSocket-Extensions value: (window bits, no takeover).

    The client (`isserver` false) reads a server's answer for client_max_window_bits and
    client_no_context_takeover; a server reads a client's offers for the server_ ones.
    (0, False) means no permessage-deflate. The first usable permessage-deflate wins; a
    client raises `WSHandshakeError` on the first unusable one (unknown or malformed
    parameters, a window outside 9..15), where a server skips it and reads the next.
    Without a window parameter, or with a bare one, the window is 15 bits; of repeated
    parameters the last value counts. `negotiate` is the RFC 7692 check ws_connect uses.
    """
    if not extstr:
        return 0, False
    window, no_takeover = (
        (_SERVER_WINDOW, _SERVER_NO_TAKEOVER) if isserver else (_CLIENT_WINDOW, _CLIENT_NO_TAKEOVER)
    )
    for offer in _grammar().compat_offer.finditer(extstr):
        rest = offer.group(1)
        given = _compat_params(rest)
        if given is None:
            if isserver:
                continue
            raise WSHandshakeError(f"Extension for deflate not supported{rest}")
        value = given.get(window)
        # int() as aiohttp: "09" and non-ASCII decimal digits count; too many raise ValueError.
        bits = MAX_WINDOW_BITS if value is None else int(value)
        if not MIN_OFFER_BITS <= bits <= MAX_WINDOW_BITS:
            if isserver:
                continue
            raise WSHandshakeError("Invalid window size")
        return bits, no_takeover in given
    return 0, False


def _compat_params(rest: str) -> dict[str, str | None] | None:
    """The parameters after one permessage-deflate by aiohttp's rules, None if malformed.

    Each name maps to its last value given (None: given only bare).
    """
    param_pattern = _grammar().compat_param
    given: dict[str, str | None] = {}
    pos = 0
    while (param := param_pattern.match(rest, pos)) is not None:
        flag, window, value = param.groups()
        name = flag or window
        if value is not None or name not in given:
            given[name] = value
        pos = param.end()
    # aiohttp's match ends in "$", which also matches before one final newline.
    return given if rest[pos:] in ("", "\n") else None


def negotiate(header_value: str, compress: int) -> DeflateParams | None:
    """The server's Sec-WebSocket-Extensions answer to `extension_offer(compress)`.

    Returns None when the server accepted no permessage-deflate (the connection is then
    not compressed). Several header lines are to be joined with "," first. Raises
    `WSHandshakeError` for parameters RFC 7692 section 7 tells a client to fail on.
    As aiohttp does, other extension names are ignored (they cannot change framing: a
    frame with RSV bits we did not agree to still fails) and only the first
    permessage-deflate counts.
    """
    _check_offer_bits(compress)
    for name, params in _parse_extensions(header_value):
        if name.lower() == EXTENSION_NAME:
            return _accepted_params(params, compress)
    return None


def _parse_extensions(value: str) -> list[tuple[str, _Params]]:
    """Split a Sec-WebSocket-Extensions value into (extension, [(param, value)]) pairs."""
    grammar = _grammar()
    extensions: list[tuple[str, _Params]] = []
    pos = 0
    while not grammar.nothing_left.match(value, pos):
        start = grammar.extension.match(value, pos)
        if start is None:
            raise _malformed(value)
        pos = start.end()
        params: _Params = []
        while (param := grammar.param.match(value, pos)) is not None:
            name, token, quoted = param.groups()
            if quoted is not None:
                # RFC 6455 section 9.1: a quoted value must still be a token once unescaped.
                token = grammar.escape.sub(r"\1", quoted[1:-1])
                if not grammar.token.fullmatch(token):
                    raise _malformed(value)
            params.append((name, token))
            pos = param.end()
        end = grammar.extension_end.match(value, pos)
        if end is None:
            raise _malformed(value)
        pos = end.end()
        extensions.append((start.group(1), params))
    return extensions


def _malformed(value: str) -> WSHandshakeError:
    return WSHandshakeError(f"Malformed Sec-WebSocket-Extensions header: {value!r}")


def _accepted_params(params: _Params, compress: int) -> DeflateParams:
    given: dict[str, str | None] = {}
    for name, value in params:
        key = name.lower()
        # RFC 7692 section 7: fail on a parameter not defined for a response, or repeated.
        if key not in _RESPONSE_PARAMS:
            shown = name if value is None else f"{name}={value}"
            raise WSHandshakeError(f"Extension for deflate not supported; {shown}")
        if key in given:
            raise WSHandshakeError(f"permessage-deflate parameter {key!r} given twice")
        given[key] = value
    # RFC 7692 section 7.1.2.2: our offer is the bare parameter, so any window goes, and
    # without one in the answer we use the largest.
    client_bits = _window_bits(given, _CLIENT_WINDOW, MAX_WINDOW_BITS)
    # RFC 7692 section 7.1.2.1: a server may limit its own window unasked, but never
    # beyond what we asked for.
    server_bits = _window_bits(given, _SERVER_WINDOW, compress)
    if server_bits > compress:
        raise WSHandshakeError("Invalid window size")
    return DeflateParams(
        client_max_window_bits=client_bits,
        server_max_window_bits=server_bits,
        # RFC 7692 section 7.1.1: either flag may come back even though we did not ask.
        client_no_context_takeover=_flag(given, _CLIENT_NO_TAKEOVER),
        server_no_context_takeover=_flag(given, _SERVER_NO_TAKEOVER),
    )


def _window_bits(given: dict[str, str | None], key: str, default: int) -> int:
    if key not in given:
        return default
    value = given[key]
    if value is None:
        # RFC 7692 section 7.1.2: only an offer may carry client_max_window_bits without a
        # value; aiohttp reads it in an answer as "no limit", and so do we.
        if key == _CLIENT_WINDOW:
            return default
        raise WSHandshakeError(f"permessage-deflate parameter {key!r} needs a value")
    bits = _WINDOW_VALUES.get(value)
    if bits is None:
        # aiohttp's wording for the same failure.
        raise WSHandshakeError("Invalid window size")
    return bits


def _flag(given: dict[str, str | None], key: str) -> bool:
    if key not in given:
        return False
    # RFC 7692 section 7.1.1: the no_context_takeover parameters have no value.
    if given[key] is not None:
        raise WSHandshakeError(f"permessage-deflate parameter {key!r} takes no value")
    return True


def _check_params(params: DeflateParams) -> None:
    for name in (_CLIENT_WINDOW, _SERVER_WINDOW):
        bits = getattr(params, name)
        if not MIN_WINDOW_BITS <= bits <= MAX_WINDOW_BITS:
            raise ValueError(f"{name} must be from 8 to 15, not {bits!r}")


def _corrupt(exc: zlib.error) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, f"Invalid compressed message: {exc}")


class PerMessageDeflate:
    """One connection's permessage-deflate state: our compressor and the server's inflater.

    With context takeover (the default) a message's LZ77 window continues from the
    previous message's, so messages must be compressed in the order they are sent and
    decompressed in the order they arrive. After a `WebSocketError` the object is spent,
    as is the connection.

    Window sizes, with zlib's limits:
    - A client window of 8 bits (the server may answer client_max_window_bits=8): zlib
      has no raw 256-byte window, and nothing documented keeps wbits=9 within 256 bytes
      (zlib 1.2.13 happens to stop at 250). The compressor runs wbits=9 with strategy
      Z_RLE, which zlib documents as limiting match distances to one, so every reference
      lies inside any window; runs still shrink, other repeats only get Huffman coding.
    - The inflater gets at least 9 bits: a larger window decodes everything a smaller one
      does, and this forgives a server whose compressor rounds 8 up to 9 as zlib does.
    """

    __slots__ = ("_compressor", "_fed", "_inflater", "_level", "_produced", "params")

    def __init__(self, params: DeflateParams, *, level: int = zlib.Z_BEST_SPEED) -> None:
        _check_params(params)
        if level != zlib.Z_DEFAULT_COMPRESSION and not 0 <= level <= 9:
            raise ValueError(f"Compression level must be from 0 to 9 or -1, not {level!r}")
        self.params = params
        self._level = level
        # Made on first use: a connection that never sends keeps no compressor memory.
        self._compressor: zlib._Compress | None = None
        self._inflater: zlib._Decompress | None = None
        # The current incoming message: inflated bytes so far, and whether any input came.
        self._produced = 0
        self._fed = False

    # --- sending ---------------------------------------------------------------------

    def compress(self, payload: bytes) -> bytes:
        """One whole outgoing message, compressed as RFC 7692 section 7.2.1 puts it on the wire.

        Send it as the payload of a data message whose first frame has RSV1 set.
        """
        compressor = self._compressor
        if compressor is None:
            compressor = self._new_compressor(self.params.client_max_window_bits)
            self._compressor = compressor
        data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if self.params.client_no_context_takeover:
            # RFC 7692 section 7.1.1.2: the server forgets our window after every message.
            self._compressor = None
        # A sync flush always ends in the empty stored block's 00 00 ff ff (section 7.2.1).
        return data[:-4]

    def compress_once(self, payload: bytes, wbits: int) -> bytes:
        """Like `compress`, with a fresh compressor of at most `wbits` (9..15) for this message.

        The window is capped at the negotiated client window. The server's inflater now
        holds a message our shared compressor never saw, so that compressor's references
        would land on the wrong bytes: the next `compress` starts from an empty window.
        """
        _check_offer_bits(wbits)
        compressor = self._new_compressor(min(wbits, self.params.client_max_window_bits))
        data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        self._compressor = None
        return data[:-4]

    def _new_compressor(self, bits: int) -> zlib._Compress:
        if bits == MIN_WINDOW_BITS:
            # See the class docstring: distance-one matches fit a 256-byte window.
            return zlib.compressobj(
                self._level, zlib.DEFLATED, -MIN_OFFER_BITS, zlib.DEF_MEM_LEVEL, zlib.Z_RLE
            )
        return zlib.compressobj(self._level, zlib.DEFLATED, -bits)

    # --- receiving -------------------------------------------------------------------

    def decompress(self, payload: bytes, limit: int) -> bytes:
        """One whole incoming compressed message, inflated; `limit` as for `decompress_chunk`."""
        head = self.decompress_chunk(payload, limit)
        return head + self.decompress_end(limit)

    def decompress_chunk(self, chunk: bytes, limit: int) -> bytes:
        """Inflate the next piece of the current message's payload; return what it yields.

        `limit` caps the whole message's inflated size (0: no cap). Output is asked of
        zlib with a bound of what is left plus one byte, so a compression bomb never
        inflates more than `limit` + 1 bytes before `WebSocketError` 1009 is raised.
        Deflate data zlib rejects raises `WebSocketError` 1002.
        """
        inflater = self._inflater
        if inflater is None:
            bits = max(self.params.server_max_window_bits, MIN_OFFER_BITS)
            inflater = self._inflater = zlib.decompressobj(-bits)
        if chunk:
            self._fed = True
        if inflater.eof:
            # RFC 7692 section 7.2.3.4: a block with BFINAL set may end the data early;
            # what follows it in the message is padding.
            return b""
        if not limit:
            try:
                return inflater.decompress(chunk)
            except zlib.error as exc:
                raise _corrupt(exc) from None
        room = limit - self._produced
        try:
            # Fewer than room + 1 bytes back means all input was used and nothing is
            # pending; exactly room + 1 means the message is too big. No other case.
            out = inflater.decompress(chunk, room + 1)
        except zlib.error as exc:
            raise _corrupt(exc) from None
        if len(out) > room:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG,
                f"Decompressed message exceeds size limit {limit}",
            )
        self._produced += len(out)
        return out

    def decompress_end(self, limit: int) -> bytes:
        """End the current message: inflate the tail RFC 7692 section 7.2.2 appends, return
        the last output, and reset for the next message."""
        # A message with no payload at all changes no window; an empty message it is.
        out = self.decompress_chunk(_TAIL, limit) if self._fed else b""
        self._produced = 0
        self._fed = False
        inflater = self._inflater
        # RFC 7692 section 7.1.1.1: without takeover the server compresses every message
        # from an empty window; after a BFINAL block zlib accepts no more data either.
        if self.params.server_no_context_takeover or (inflater is not None and inflater.eof):
            self._inflater = None
        return out
