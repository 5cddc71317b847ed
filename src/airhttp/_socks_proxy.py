"""SOCKS proxies: which proxy URLs are SOCKS, and the handshake over a connected socket.

Drives the sans-IO `_socks.SocksHandshake` over a socket the connector already connected
to the proxy, and maps its errors to client exceptions. Dialling, DNS, TLS and timeouts
stay in `connector`; the bytes of the protocol stay in `_socks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import TYPE_CHECKING, Final
from urllib.request import getproxies

from yarl import URL

from ._socks import SOCKS_SCHEMES, SocksError, SocksHandshake, SocksProtocolError, SocksRefused
from .client_exceptions import ClientSocksProxyError
from .helpers import BasicAuth, basicauth_from_netrc, netrc_from_env, strip_auth_from_url

if TYPE_CHECKING:
    from ._reqrep_types import ConnectionKey
    from ._socks import SocksVersion

__all__ = ("SocksTarget", "env_socks_proxy", "is_socks", "run_handshake", "socks_target")

_READ_SIZE: Final = 4096


def env_socks_proxy() -> tuple[URL, BasicAuth | None] | None:
    """ALL_PROXY, when it names a SOCKS proxy (airhttp; aiohttp reads no ALL_PROXY).

    curl's convention: the proxy for every scheme without a *_proxy of its own. Its
    credentials come from the URL or, as for the *_proxy variables, from .netrc.
    """
    value = getproxies().get("all")
    if not value:
        return None
    proxy, auth = strip_auth_from_url(URL(value))
    if proxy.scheme not in SOCKS_SCHEMES:
        return None
    if auth is None and proxy.host is not None:
        with contextlib.suppress(LookupError):
            auth = basicauth_from_netrc(netrc_from_env(), proxy.host)
    return proxy, auth


def is_socks(proxy: URL | None) -> bool:
    """True for socks4://, socks4a://, socks5:// and socks5h:// proxy URLs."""
    return proxy is not None and proxy.scheme in SOCKS_SCHEMES


class SocksTarget:
    """How to reach one origin through one SOCKS proxy: the protocol and its credentials."""

    __slots__ = ("password", "remote_dns", "username", "version")

    def __init__(
        self,
        version: SocksVersion,
        remote_dns: bool,
        username: str | None,
        password: str | None,
    ) -> None:
        self.version: SocksVersion = version
        self.remote_dns = remote_dns
        self.username = username
        self.password = password

    def handshake(self, host: str, port: int) -> SocksHandshake:
        """The handshake that asks the proxy for a tunnel to (host, port)."""
        return SocksHandshake(
            self.version,
            host,
            port,
            remote_dns=self.remote_dns,
            username=self.username,
            password=self.password if self.version == 5 else None,
        )


def socks_target(proxy: URL, proxy_auth: BasicAuth | None) -> SocksTarget:
    """The protocol of `proxy` and its credentials: `proxy_auth`, else the URL's own."""
    version, remote_dns = SOCKS_SCHEMES[proxy.scheme]
    if proxy_auth is not None:
        username: str | None = proxy_auth.login
        password: str | None = proxy_auth.password
    else:
        username, password = proxy.user, proxy.password
    if version == 5 and username is not None and password is None:
        password = ""  # RFC 1929 sends a (possibly empty) password with every username
    return SocksTarget(version, remote_dns, username, password)


async def run_handshake(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    handshake: SocksHandshake,
    key: ConnectionKey,
    proxy: URL,
) -> None:
    """Open the tunnel on `sock`, connected to the proxy; ClientSocksProxyError on failure.

    `key` and `proxy` name the error: the caller strips their credentials (error args
    reach logs and reprs).
    """
    try:
        while True:
            outgoing = handshake.data_to_send()
            if outgoing:
                await loop.sock_sendall(sock, outgoing)
            if handshake.done:
                break
            data = await loop.sock_recv(sock, _READ_SIZE)
            if not data:
                raise handshake.connection_closed()
            handshake.receive_data(data)
        if handshake.leftover:
            # Neither HTTP nor TLS lets the origin speak first: these bytes are not ours.
            raise SocksProtocolError(
                f"SOCKS{handshake.version} proxy sent {len(handshake.leftover)} byte(s) "
                "into the tunnel before the request"
            )
    except SocksError as exc:
        reply = exc.reply if isinstance(exc, SocksRefused) else None
        raise ClientSocksProxyError(key, proxy, str(exc), reply) from exc
    except OSError as exc:
        message = f"SOCKS proxy {_where(proxy)} failed during the handshake: {exc}"
        raise ClientSocksProxyError(key, proxy, message, None) from exc


def _where(proxy: URL) -> str:
    return f"{proxy.host}:{proxy.port}"
