"""HTTP Digest access authentication (RFC 7616) as a client middleware.

Answers `WWW-Authenticate: Digest` challenges by retrying once with credentials; it
sends requests only through the handler it is given and never opens connections itself.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Final, Protocol, TypedDict, TypeVar

from multidict import MultiMapping, MutableMultiMapping
from yarl import URL

from . import hdrs
from .client_exceptions import ClientError
from .client_reqrep import ClientHandlerType, ClientRequest, ClientResponse
from .payload import BytesPayload, Payload

__all__ = (
    "CHALLENGE_FIELDS",
    "QUOTED_AUTH_FIELDS",
    "SUPPORTED_ALGORITHMS",
    "ClientHandlerType",
    "ClientRequest",
    "ClientResponse",
    "DigestAuthChallenge",
    "DigestAuthMiddleware",
    "DigestFunctions",
    "Payload",
    "escape_quotes",
    "parse_header_pairs",
    "unescape_quotes",
)


class DigestAuthChallenge(TypedDict, total=False):
    """The parameters of a Digest challenge this middleware reads (RFC 7616 section 3.3)."""

    realm: str
    nonce: str
    qop: str
    algorithm: str
    opaque: str
    domain: str
    stale: str


# The challenge parameters that matter; a Digest challenge with none of them is no
# challenge at all, and its 401 is handed back as it is (as aiohttp does).
CHALLENGE_FIELDS: Final = ("realm", "nonce", "qop", "algorithm", "opaque", "domain", "stale")
# Authorization parameters sent as quoted-strings (RFC 7616 section 3.4); the others
# (algorithm, qop, nc) are tokens.
QUOTED_AUTH_FIELDS: Final = frozenset(
    {"username", "realm", "nonce", "uri", "response", "opaque", "cnonce"}
)


class _DigestRequest(Protocol):
    """The parts of a client request the middleware reads and the header it writes."""

    @property
    def method(self) -> str: ...

    @property
    def url(self) -> URL: ...

    @property
    def headers(self) -> MutableMultiMapping[str]: ...

    @property
    def body(self) -> object: ...


class _DigestResponse(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> MultiMapping[str]: ...

    def release(self) -> object: ...


_RequestT = TypeVar("_RequestT", bound=_DigestRequest)
_ResponseT = TypeVar("_ResponseT", bound=_DigestResponse)

_HashFactory = Callable[[bytes], "hashlib._Hash"]

# RFC 7616 section 3.4.2 names MD5, SHA-256 and SHA-512-256 plus their "-sess" variants;
# servers in the wild also send SHA (SHA-1), SHA-512 and the undashed spellings.
DigestFunctions: Final[dict[str, _HashFactory]] = {
    "MD5": hashlib.md5,
    "MD5-SESS": hashlib.md5,
    "SHA": hashlib.sha1,
    "SHA-SESS": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA-256": hashlib.sha256,
    "SHA256-SESS": hashlib.sha256,
    "SHA-256-SESS": hashlib.sha256,
    "SHA512": hashlib.sha512,
    "SHA-512": hashlib.sha512,
    "SHA512-SESS": hashlib.sha512,
    "SHA-512-SESS": hashlib.sha512,
}
_HASHES: Final = DigestFunctions
SUPPORTED_ALGORITHMS: Final = tuple(sorted(DigestFunctions))
_SUPPORTED_ALGORITHMS: Final = ", ".join(SUPPORTED_ALGORITHMS)

_TOKEN_END: Final = frozenset(' \t,="')
_WHITESPACE: Final = frozenset(" \t")

_Challenge = dict[str, str]


def _new_cnonce() -> str:
    """A fresh client nonce (RFC 7616 section 3.4: unpredictable, quoted-string safe)."""
    return os.urandom(8).hex()


def escape_quotes(value: str) -> str:
    """Backslash-escape the backslashes and double quotes of `value` (RFC 9110 5.6.4)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


_QUOTED_PAIR: Final = re.compile(r'\\([\\"])')


def unescape_quotes(value: str) -> str:
    """Undo `escape_quotes`: a backslash before a backslash or a double quote is dropped."""
    return _QUOTED_PAIR.sub(r"\1", value)


def _quote(value: str) -> str:
    """Render `value` as an RFC 9110 section 5.6.4 quoted-string."""
    return '"' + escape_quotes(value) + '"'


def parse_header_pairs(header: str) -> dict[str, str]:
    """The parameters of the first challenge of a WWW-Authenticate value, names as given.

    A leading auth-scheme token is skipped; the next token without "=" (another
    challenge's scheme) ends the parameters. Quoted values are unescaped.
    """
    pairs: dict[str, str] = {}
    for index, (name, value) in enumerate(_tokens(header)):
        if value is None:
            if index == 0:
                continue
            break
        pairs[name] = value
    return pairs


def _parse_challenges(header: str) -> list[tuple[str, _Challenge]]:
    """Split a WWW-Authenticate value into (scheme, params) pairs (RFC 9110 section 11.6.1).

    A token followed by `=` is a parameter of the current challenge; any other token
    starts a new challenge. Parameter names are lower-cased, quoted values unescaped.
    """
    challenges: list[tuple[str, _Challenge]] = []
    params: _Challenge | None = None
    for token, value in _tokens(header):
        if value is None:
            params = {}
            challenges.append((token.lower(), params))
        elif params is not None:
            params[token.lower()] = value
    return challenges


def _tokens(header: str) -> Iterator[tuple[str, str | None]]:
    """The `name=value` parameters and bare tokens (schemes) of a WWW-Authenticate value."""
    pos = 0
    end = len(header)
    while pos < end:
        while pos < end and (header[pos] in _WHITESPACE or header[pos] == ","):
            pos += 1
        start = pos
        while pos < end and header[pos] not in _TOKEN_END:
            pos += 1
        token = header[start:pos]
        while pos < end and header[pos] in _WHITESPACE:
            pos += 1
        if pos < end and header[pos] == "=" and token:
            pos += 1
            while pos < end and header[pos] in _WHITESPACE:
                pos += 1
            value, pos = _read_param_value(header, pos)
            yield token, value
        elif token:
            yield token, None
        elif pos < end:
            # A stray quote or "=" where a token was expected: skip it and resync.
            pos += 1


def _read_param_value(header: str, pos: int) -> tuple[str, int]:
    end = len(header)
    if pos < end and header[pos] == '"':
        pos += 1
        chars: list[str] = []
        while pos < end:
            char = header[pos]
            if char == "\\" and pos + 1 < end:
                chars.append(header[pos + 1])
                pos += 2
            elif char == '"':
                pos += 1
                break
            else:
                chars.append(char)
                pos += 1
        return "".join(chars), pos
    start = pos
    while pos < end and header[pos] not in _WHITESPACE and header[pos] != ",":
        pos += 1
    return header[start:pos], pos


def _request_body(request: _DigestRequest) -> bytes | None:
    """The request body as bytes for qop=auth-int, or None when it is a stream."""
    body = request.body
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, BytesPayload):
        # In-memory payloads (bytes, text, JSON) hold exactly the bytes they send.
        return bytes(body.buffer)
    return None


def _challenge_error(challenge: _Challenge) -> str | None:
    """Why `challenge` cannot be answered, or None when it can."""
    if "realm" not in challenge:
        return "Malformed Digest auth challenge: Missing 'realm' parameter"
    if "nonce" not in challenge:
        return "Malformed Digest auth challenge: Missing 'nonce' parameter"
    algorithm = challenge.get("algorithm", "MD5").upper()
    if algorithm not in _HASHES:
        return (
            f"Digest auth error: Unsupported hash algorithm: {algorithm}. "
            f"Supported algorithms: {_SUPPORTED_ALGORITHMS}"
        )
    qop = challenge.get("qop", "")
    if qop and not {"auth", "auth-int"} & _qop_options(qop):
        return f"Digest auth error: Unsupported Quality of Protection (qop) value(s): {qop}"
    return None


def _qop_options(qop: str) -> set[str]:
    return {option.strip().lower() for option in qop.split(",")}


class DigestAuthMiddleware:
    """Client middleware answering Digest challenges; see RFC 7616.

    With `preemptive` (the default) the last challenge is reused for later requests
    inside its protection space (RFC 7616 section 3.6), saving the 401 round trip.
    """

    __slots__ = (
        "_challenge",
        "_last_nonce",
        "_login",
        "_login_bytes",
        "_nonce_count",
        "_password_bytes",
        "_preemptive",
        "_protection_space",
    )

    def __init__(self, login: str, password: str, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in username (RFC 1945#section-11.1)')
        self._login = login
        # RFC 7616 section 4: user name and password are hashed as UTF-8.
        self._login_bytes = login.encode("utf-8")
        self._password_bytes = password.encode("utf-8")
        self._preemptive = preemptive
        self._challenge: _Challenge | None = None
        self._protection_space: list[tuple[tuple[str, str | None, int | None], str]] = []
        self._last_nonce = ""
        self._nonce_count = 0

    async def __call__(
        self, request: _RequestT, handler: Callable[[_RequestT], Awaitable[_ResponseT]]
    ) -> _ResponseT:
        if self._preemptive and self._challenge is not None and self._in_space(request.url):
            request.headers[hdrs.AUTHORIZATION] = self._authorization(request, self._challenge)
        response = await handler(request)
        challenge = self._digest_challenge(response)
        if challenge is None or not any(field in challenge for field in CHALLENGE_FIELDS):
            return response
        error = _challenge_error(challenge)
        if error is not None:
            await _release(response)
            raise ClientError(error)
        self._remember(challenge, request.url)
        request.headers[hdrs.AUTHORIZATION] = self._authorization(request, challenge)
        await _release(response)
        response = await handler(request)
        # Only one retry: a second 401 means the credentials are wrong. Its challenge
        # is still kept, so a stale nonce does not poison the next request.
        challenge = self._digest_challenge(response)
        if challenge is not None and _challenge_error(challenge) is None:
            self._remember(challenge, request.url)
        return response

    @staticmethod
    def _digest_challenge(response: _DigestResponse) -> _Challenge | None:
        if response.status != 401:
            return None
        for value in response.headers.getall(hdrs.WWW_AUTHENTICATE, ()):
            for scheme, params in _parse_challenges(value):
                if scheme == "digest":
                    return params
        return None

    def _remember(self, challenge: _Challenge, url: URL) -> None:
        self._challenge = challenge
        origin = (url.scheme, url.host, url.port)
        space: list[tuple[tuple[str, str | None, int | None], str]] = []
        # RFC 7616 section 3.3: "domain" lists the URIs sharing these credentials;
        # without it the whole origin is the protection space.
        for uri in challenge.get("domain", "").split():
            target = URL(uri)
            if target.absolute:
                space.append(((target.scheme, target.host, target.port), target.raw_path))
            else:
                space.append((origin, target.raw_path or "/"))
        self._protection_space = space or [(origin, "/")]

    def _in_space(self, url: URL) -> bool:
        origin = (url.scheme, url.host, url.port)
        path = url.raw_path
        for space_origin, prefix in self._protection_space:
            if space_origin != origin:
                continue
            if (
                path == prefix
                or (prefix.endswith("/") and path.startswith(prefix))
                or path.startswith(prefix + "/")
            ):
                return True
        return False

    def _authorization(self, request: _DigestRequest, challenge: _Challenge) -> str:
        """The Authorization header value answering `challenge` (RFC 7616 section 3.4)."""
        realm = challenge["realm"]
        nonce = challenge["nonce"]
        algorithm = challenge.get("algorithm", "MD5")
        algorithm_key = algorithm.upper()
        hash_factory = _HASHES[algorithm_key]

        def hexdigest(data: bytes) -> bytes:
            return hash_factory(data).hexdigest().encode("ascii")

        qop = ""
        body: bytes | None = b""
        qop_param = challenge.get("qop", "")
        if qop_param:
            options = _qop_options(qop_param)
            body = _request_body(request)
            # auth-int also protects the body, so it wins whenever the body is known.
            if "auth-int" in options and (body is not None or "auth" not in options):
                qop = "auth-int"
            else:
                qop = "auth"

        uri = request.url.raw_path_qs
        nonce_bytes = nonce.encode("utf-8")
        cnonce = _new_cnonce() if qop or algorithm_key.endswith("-SESS") else ""
        cnonce_bytes = cnonce.encode("ascii")

        # RFC 7616 section 3.4.2 (A1) and 3.4.3 (A2).
        ha1 = hexdigest(b":".join((self._login_bytes, realm.encode("utf-8"), self._password_bytes)))
        if algorithm_key.endswith("-SESS"):
            ha1 = hexdigest(b":".join((ha1, nonce_bytes, cnonce_bytes)))
        a2 = f"{request.method}:{uri}".encode()
        if qop == "auth-int":
            a2 += b":" + hexdigest(body or b"")
        ha2 = hexdigest(a2)

        if qop:
            if nonce == self._last_nonce:
                self._nonce_count += 1
            else:
                self._last_nonce = nonce
                self._nonce_count = 1
            nc = f"{self._nonce_count:08x}"
            # RFC 7616 section 3.4.1: response = KD(H(A1), nonce:nc:cnonce:qop:H(A2)).
            digest = hexdigest(
                b":".join((ha1, nonce_bytes, nc.encode(), cnonce_bytes, qop.encode(), ha2))
            )
        else:
            # RFC 2069 compatibility: a challenge without qop gets KD(H(A1), nonce:H(A2)).
            digest = hexdigest(b":".join((ha1, nonce_bytes, ha2)))

        parts = [
            f"username={_quote(self._login)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f'response="{digest.decode("ascii")}"',
            f"algorithm={algorithm}",
        ]
        opaque = challenge.get("opaque")
        if opaque:
            parts.append(f"opaque={_quote(opaque)}")
        if qop:
            parts.append(f"qop={qop}")
            parts.append(f"nc={nc}")
        if cnonce:
            parts.append(f'cnonce="{cnonce}"')
        return "Digest " + ", ".join(parts)


async def _release(response: _DigestResponse) -> None:
    # ClientResponse.release() is synchronous today; awaiting a returned awaitable keeps
    # this working for response classes whose release is a coroutine.
    result = response.release()
    if inspect.isawaitable(result):
        await result
