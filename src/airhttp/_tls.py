"""TLS for the connectors: default contexts, certificate names and pins, and the handshake errors.

Opens no sockets and resolves nothing: the connector dials, this module only configures and checks.
The optional `truststore` package is imported only for a connector that asks for the OS trust store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Final, NamedTuple

from .client_exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ServerFingerprintMismatch,
)

if TYPE_CHECKING:
    from ._reqrep_types import ConnectionKey, Fingerprint
    from .client_proto import ResponseHandler

__all__ = (
    "HAS_SSL_SHUTDOWN_TIMEOUT",
    "HAS_TLS_IN_TLS",
    "NO_TLS_IN_TLS",
    "TRUSTSTORE_MISSING",
    "Endpoint",
    "VerifiedContext",
    "check_pin",
    "is_timeout",
    "H2_ALPN",
    "make_ssl_context",
    "tls_errors",
    "tls_name",
)

# asyncio only accepts a TLS shutdown grace period from 3.11 on.
HAS_SSL_SHUTDOWN_TIMEOUT: Final = sys.version_info >= (3, 11)
# asyncio can start TLS over a TLS transport (an https target via an https proxy)
# from 3.11 on; before, start_tls refuses such a transport.
HAS_TLS_IN_TLS: Final = sys.version_info >= (3, 11)
NO_TLS_IN_TLS: Final = "An https target through an https proxy needs Python 3.11 or newer"
# What a connector with http2=True offers in the TLS handshake (RFC 9113 3.2).
H2_ALPN: Final = ("h2", "http/1.1")
TRUSTSTORE_MISSING: Final = (
    "os_trust_store=True needs the truststore package: pip install 'airhttp[truststore]'"
)


@functools.lru_cache(maxsize=4)
def make_ssl_context(verified: bool, http2: bool = False) -> ssl.SSLContext:
    """The connector's default contexts, built once per process (loading CAs is slow).

    With `http2`, ALPN offers h2 before http/1.1 (a context of its own: one that offers
    h2 must only be used by a connector that can speak it)."""
    if verified:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.options |= ssl.OP_NO_COMPRESSION
    context.set_alpn_protocols(H2_ALPN if http2 else ("http/1.1",))
    return context


def _os_trust_store_factory() -> Callable[[], ssl.SSLContext]:
    """How to build a context that verifies with the OS store; raises if truststore is missing."""
    try:
        import truststore
    except ImportError as exc:
        raise RuntimeError(TRUSTSTORE_MISSING) from exc

    def build() -> ssl.SSLContext:
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.set_alpn_protocols(("http/1.1",))
        return context

    return build


class VerifiedContext:
    """The context one connector verifies with when `ssl` is left at True.

    That is airhttp's default context (shared by the process), or, with `os_trust_store`, a
    context of the `truststore` package that asks the operating system's certificate store.
    The package is imported here, at the connector's construction, so that a missing extra
    fails there; the context itself is built on the first TLS connection and then reused.
    """

    __slots__ = ("_build", "_contexts")

    def __init__(self, os_trust_store: bool) -> None:
        self._build = _os_trust_store_factory() if os_trust_store else None
        self._contexts: dict[bool, ssl.SSLContext] = {}

    def get(self, http2: bool = False) -> ssl.SSLContext:
        if self._build is None:
            return make_ssl_context(True, http2)
        context = self._contexts.get(http2)
        if context is None:
            context = self._contexts[http2] = self._build()
            if http2:
                context.set_alpn_protocols(H2_ALPN)
        return context


def tls_name(host: str) -> str:
    """The name a certificate must carry for `host`."""
    # A trailing dot is legal in DNS but never in a certificate name.
    return host.rstrip(".")


class Endpoint(NamedTuple):
    """Where a new connection is dialled (the target, or the proxy in front of it)."""

    key: ConnectionKey  # named by the errors raised while connecting
    host: str
    port: int
    sslcontext: ssl.SSLContext | None
    server_hostname: str | None
    fingerprint: Fingerprint | None
    refused: type[ClientConnectorError]  # raised when no socket can be opened
    http2: bool = False  # the connection may speak HTTP/2 (offered by ALPN, or h2c)


def is_timeout(exc: OSError) -> bool:
    """An asyncio timeout, as opposed to a kernel ETIMEDOUT (which carries an errno)."""
    return exc.errno is None and isinstance(exc, asyncio.TimeoutError)


@contextlib.contextmanager
def tls_errors(endpoint: Endpoint) -> Iterator[None]:
    """Map what a TLS handshake raises to the connector errors naming `endpoint`."""
    try:
        yield
    except ssl.CertificateError as exc:
        raise ClientConnectorCertificateError(endpoint.key, exc) from exc
    except ssl.SSLError as exc:
        raise ClientConnectorSSLError(endpoint.key, exc) from exc
    except OSError as exc:
        if is_timeout(exc):
            raise
        raise endpoint.refused(endpoint.key, exc) from exc


def check_pin(endpoint: Endpoint, proto: ResponseHandler) -> None:
    """Abort `proto` and raise unless the peer's certificate matches the endpoint's pin."""
    fingerprint = endpoint.fingerprint
    if fingerprint is None:
        return
    transport = proto.transport
    assert transport is not None
    sslobj = transport.get_extra_info("ssl_object")
    got = fingerprint.digest(sslobj.getpeercert(binary_form=True))
    if got != fingerprint.fingerprint:
        proto.abort()
        host, port, *_ = transport.get_extra_info("peername")
        raise ServerFingerprintMismatch(fingerprint.fingerprint, got, host, port)
