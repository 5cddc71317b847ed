"""Small value types shared by requests, responses and the connector.

Pool keys, request descriptions, certificate pins; values only, no I/O and no
knowledge of sessions.
"""

from __future__ import annotations

import hashlib
import ssl
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from multidict import CIMultiDictProxy
from yarl import URL

if TYPE_CHECKING:
    from .helpers import BasicAuth

__all__ = ("ConnectionKey", "ContentDisposition", "Fingerprint", "RequestInfo")


class ConnectionKey(NamedTuple):
    """What makes two requests able to share a pooled connection."""

    host: str
    port: int | None
    is_ssl: bool
    ssl: ssl.SSLContext | bool | Fingerprint
    proxy: URL | None
    proxy_auth: BasicAuth | None
    proxy_headers_hash: int | None
    server_hostname: str | None = None


class _RequestInfoBase(NamedTuple):
    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class RequestInfo(_RequestInfoBase):
    """The request a response answers: URL, method, headers, real URL."""

    __slots__ = ()

    def __new__(
        cls,
        url: URL,
        method: str,
        headers: CIMultiDictProxy[str],
        real_url: URL | None = None,
    ) -> RequestInfo:
        return tuple.__new__(cls, (url, method, headers, url if real_url is None else real_url))


class ContentDisposition(NamedTuple):
    """A parsed Content-Disposition header."""

    type: str | None
    parameters: MappingProxyType[str, str]
    filename: str | None


# RFC 5246 era digests are refused: a pin must be a SHA-256 digest.
_INSECURE_DIGEST_LENGTHS = {16: "md5", 20: "sha1"}


class Fingerprint:
    """Pins the server certificate by its SHA-256 digest."""

    __slots__ = ("_fingerprint", "_hashfunc")

    def __init__(self, fingerprint: bytes) -> None:
        digestlen = len(fingerprint)
        if digestlen in _INSECURE_DIGEST_LENGTHS:
            raise ValueError("md5 and sha1 are insecure and not supported. Use sha256.")
        if digestlen != 32:
            raise ValueError("fingerprint has invalid length")
        self._hashfunc = hashlib.sha256
        self._fingerprint = fingerprint

    @property
    def fingerprint(self) -> bytes:
        return self._fingerprint

    def digest(self, der_certificate: bytes) -> bytes:
        """The digest of a DER-encoded certificate, to compare with `fingerprint`."""
        return self._hashfunc(der_certificate).digest()

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Fingerprint) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return f"<Fingerprint {self._fingerprint.hex()}>"
