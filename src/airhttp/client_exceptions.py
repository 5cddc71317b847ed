"""The public exception hierarchy of the client.

Every error a user can catch is defined here; lower layers raise these or have
their errors mapped to these at one boundary. No behaviour beyond formatting.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from typing import TYPE_CHECKING, Any

from multidict import MultiMapping
from yarl import URL

from .typedefs import StrOrURL as StrOrURL

if TYPE_CHECKING:
    from ._interfaces import ReceivedResponse
    from ._reqrep_types import ConnectionKey, Fingerprint, RequestInfo

# aiohttp's list (plus airhttp's ClientSocksProxyError): `from ...client_exceptions import *`
# brings the same names, and `client` re-exports these (TooManyRedirects, outside aiohttp's
# list, is re-exported there).
__all__ = (
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientResponseError",
    "ClientSSLError",
    "ClientSocksProxyError",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "RedirectClientError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "UploadAbortedError",
    "WSMessageTypeError",
    "WSServerHandshakeError",
)

# The ssl errors the connector maps, and the bases of the classes it maps them to.
ssl_errors: tuple[type[ssl.SSLError]] = (ssl.SSLError,)
cert_errors: tuple[type[ssl.CertificateError]] = (ssl.CertificateError,)


_CODE_DEPRECATED = "code property is deprecated, use status instead"


class ClientError(Exception):
    """Base class for every client error."""


class ClientResponseError(ClientError):
    """A response arrived, but it is an error or cannot be used."""

    def __init__(
        self,
        request_info: RequestInfo,
        history: tuple[ReceivedResponse, ...],
        *,
        code: int | None = None,
        status: int | None = None,
        message: str = "",
        headers: MultiMapping[str] | None = None,
    ) -> None:
        self.request_info = request_info
        if code is not None and status is not None:
            raise ValueError(
                "Both code and status arguments are provided; "
                "code is deprecated, use status instead"
            )
        if status is not None:
            self.status = status
        elif code is not None:
            self.status = code
        else:
            self.status = 0
        self.message = message
        self.headers = headers
        self.history = history
        self.args = (request_info, history)

    def __str__(self) -> str:
        return f"{self.status}, message={self.message!r}, url={str(self.request_info.real_url)!r}"

    def __repr__(self) -> str:
        args = f"{self.request_info!r}, {self.history!r}"
        if self.status != 0:
            args += f", status={self.status!r}"
        if self.message != "":
            args += f", message={self.message!r}"
        if self.headers is not None:
            args += f", headers={self.headers!r}"
        return f"{type(self).__name__}({args})"

    @property
    def code(self) -> int:
        """Deprecated alias of `status`."""
        warnings.warn(_CODE_DEPRECATED, DeprecationWarning, stacklevel=2)
        return self.status

    @code.setter
    def code(self, value: int) -> None:
        warnings.warn(_CODE_DEPRECATED, DeprecationWarning, stacklevel=2)
        self.status = value


class ContentTypeError(ClientResponseError):
    """The response's content type is not the one expected."""


class WSServerHandshakeError(ClientResponseError):
    """The server refused or broke the WebSocket handshake."""


class ClientHttpProxyError(ClientResponseError):
    """The proxy answered with an error status."""


class TooManyRedirects(ClientResponseError):
    """The redirect limit was reached."""


class ClientConnectionError(ClientError):
    """Base class for low-level connection problems."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The connection was reset while it was being used."""


class ClientOSError(ClientConnectionError, OSError):
    """A connection error that started as an OSError."""


class ClientConnectorError(ClientOSError):
    """Could not open a connection to the host."""

    def __init__(self, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror)
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        return self._os_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> ssl.SSLContext | bool | Fingerprint:
        return self._conn_key.ssl

    def __str__(self) -> str:
        ssl_part = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to host {self.host}:{self.port} ssl:{ssl_part} [{self.strerror}]"

    # OSError's own __reduce__ would lose the connection key.
    __reduce__ = BaseException.__reduce__


class ClientConnectorDNSError(ClientConnectorError):
    """The host name could not be resolved."""


class ClientProxyConnectionError(ClientConnectorError):
    """Could not open a connection to the proxy."""


class ClientSocksProxyError(ClientConnectorError):
    """The SOCKS proxy refused the tunnel to the host, or broke the protocol (airhttp).

    `reply` is the proxy's reply code when it sent one (SOCKS5 0x01-0x08, SOCKS4
    0x5B-0x5D), else None; the message names the reply in words. A proxy that cannot be
    reached at all raises ClientProxyConnectionError instead.
    """

    def __init__(
        self, connection_key: ConnectionKey, proxy: URL, message: str, reply: int | None = None
    ) -> None:
        super().__init__(connection_key, OSError(None, message))
        self.proxy = proxy
        self.reply = reply
        self.args = (connection_key, proxy, message, reply)


class UnixClientConnectorError(ClientConnectorError):
    """Could not connect to the Unix socket."""

    def __init__(self, path: str, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._path = path
        super().__init__(connection_key, os_error)

    @property
    def path(self) -> str:
        return self._path

    def __str__(self) -> str:
        ssl_part = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to unix socket {self.path} ssl:{ssl_part} [{self.strerror}]"


class ServerConnectionError(ClientConnectionError):
    """The server broke the connection."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete."""

    def __init__(self, message: Any = None) -> None:
        if message is None:
            message = "Server disconnected"
        self.args = (message,)
        self.message = message


class ServerTimeoutError(ServerConnectionError, asyncio.TimeoutError):
    """A server operation timed out."""


class ConnectionTimeoutError(ServerTimeoutError):
    """The `connect` or `sock_connect` timeout passed."""


class SocketTimeoutError(ServerTimeoutError):
    """The `sock_read` timeout passed."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server certificate does not match the pinned fingerprint."""

    def __init__(self, expected: bytes, got: bytes, host: str, port: int) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        self.args = (expected, got, host, port)

    def __repr__(self) -> str:
        return (
            f"<{self.__class__.__name__} expected={self.expected!r} "
            f"got={self.got!r} host={self.host!r} port={self.port!r}>"
        )


class ClientPayloadError(ClientError):
    """The response body is broken: bad compression, chunking or length."""


class InvalidURL(ClientError, ValueError):
    """The URL is malformed, for example it has no host."""

    def __init__(self, url: str | URL, description: str | None = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> str | URL:
        return self._url

    @property
    def description(self) -> str | None:
        return self._description

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {self}>"

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)


class InvalidUrlClientError(InvalidURL):
    """The request URL is malformed."""


class RedirectClientError(ClientError):
    """Base class for errors about redirects."""


class NonHttpUrlClientError(ClientError):
    """The request URL is not http, https, ws or wss."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """The redirect target is malformed."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """The redirect target is not an HTTP URL."""


class ClientSSLError(ClientConnectorError):
    """TLS failed while connecting."""


ssl_error_bases: tuple[type[ClientSSLError], type[ssl.SSLError]] = (ClientSSLError, ssl.SSLError)
cert_errors_bases: tuple[type[ClientSSLError], type[ssl.CertificateError]] = (
    ClientSSLError,
    ssl.CertificateError,
)


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed."""


class ClientConnectorCertificateError(ClientSSLError, ssl.CertificateError):
    """The server certificate could not be verified."""

    def __init__(self, connection_key: ConnectionKey, certificate_error: Exception) -> None:
        if isinstance(certificate_error, OSError):
            # errno, strerror and os_error as for any other connect failure.
            ClientConnectorError.__init__(self, connection_key, certificate_error)
        else:
            self._conn_key = connection_key
            self._os_error = OSError(1, str(certificate_error))
        self._certificate_error = certificate_error
        self.args = (connection_key, certificate_error)

    @property
    def certificate_error(self) -> Exception:
        return self._certificate_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> bool:
        return self._conn_key.is_ssl

    def __str__(self) -> str:
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl} "
            f"[{self.certificate_error.__class__.__name__}: {self.certificate_error.args}]"
        )


class WSMessageTypeError(TypeError):
    """A WebSocket message was not of the type asked for."""


class UploadAbortedError(ClientError):
    """The request body was not sent to the end (aiohttp 3.14 upload tracking)."""
