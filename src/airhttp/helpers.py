"""Small public helpers of the client: credentials, proxy settings, dates, future plumbing.

Pure functions and value types; nothing here opens connections or holds per-session state.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import logging
import netrc
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from email.utils import parsedate
from math import ceil
from pathlib import Path
from typing import Any, Final, NamedTuple
from urllib.request import getproxies, proxy_bypass

import attrs
from propcache.api import under_cached_property as reify
from yarl import URL

from . import hdrs
from ._futures import set_exception, set_result
from ._mime import MimeType, content_disposition_header, parse_mimetype

__all__ = (
    "EMPTY_BODY_METHODS",
    "EMPTY_BODY_STATUS_CODES",
    "BasicAuth",
    "ChainMapProxy",
    "ETag",
    "MimeType",
    "ProxyInfo",
    "basicauth_from_netrc",
    "calculate_timeout_when",
    "client_logger",
    "content_disposition_header",
    "encode_basic_auth",
    "get_env_proxy_for_url",
    "guess_filename",
    "is_ip_address",
    "method_must_be_empty_body",
    "must_be_empty_body",
    "netrc_from_env",
    "parse_http_date",
    "parse_mimetype",
    "proxies_from_env",
    "reify",
    "sentinel",
    "set_exception",
    "set_result",
    "status_code_must_be_empty_body",
    "strip_auth_from_url",
)

client_logger: Final = logging.getLogger("airhttp.client")


class _SENTINEL(enum.Enum):
    """Marks "argument not given" where None is a meaningful value."""

    sentinel = enum.auto()


sentinel: Final = _SENTINEL.sentinel


# --- Basic authentication (RFC 7617) ---------------------------------------------------


class _BasicAuthFields(NamedTuple):
    login: str
    password: str
    encoding: str


class BasicAuth(_BasicAuthFields):
    """Login and password for the HTTP Basic scheme, as an immutable tuple."""

    __slots__ = ()

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        # RFC 1945 section 11.1: the user-ID ends at the first colon, so it cannot hold one.
        if ":" in login:
            raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
        return tuple.__new__(cls, (login, password, encoding))

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Parse an `Authorization: Basic ...` header value."""
        try:
            auth_type, encoded_credentials = auth_header.split(" ", 1)
        except ValueError:
            raise ValueError("Could not parse authorization header.") from None
        if auth_type.lower() != "basic":
            raise ValueError(f"Unknown authorization method {auth_type}")
        try:
            decoded = base64.b64decode(encoded_credentials.encode("ascii"), validate=True)
        except binascii.Error:
            raise ValueError("Invalid base64 encoding.") from None
        login, sep, password = decoded.decode(encoding).partition(":")
        if not sep:
            raise ValueError("Invalid credentials.")
        return cls(login, password, encoding=encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> BasicAuth | None:
        """Credentials from the userinfo part of `url`, or None when it has none."""
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        user = url.user
        password = url.password
        if user is None and password is None:
            return None
        # No validation here: a percent-encoded colon in the URL's user part is passed
        # through as given rather than failing the whole request.
        return tuple.__new__(cls, (user or "", password or "", encoding))

    def encode(self) -> str:
        """The value of an `Authorization` header for these credentials."""
        creds = f"{self.login}:{self.password}".encode(self.encoding)
        return "Basic " + base64.b64encode(creds).decode(self.encoding)


def encode_basic_auth(login: str, password: str = "", encoding: str = "utf-8") -> str:
    """The `Authorization: Basic` header value for `login` and `password`."""
    # RFC 7617 section 2: a user-id containing a colon cannot be recovered by the server.
    if ":" in login:
        raise ValueError('A ":" is not allowed in login (RFC 7617#section-2)')
    creds = f"{login}:{password}".encode(encoding)
    return "Basic " + base64.b64encode(creds).decode("ascii")


def strip_auth_from_url(url: URL) -> tuple[URL, BasicAuth | None]:
    """Split the credentials off `url`: the bare URL and the credentials, if any."""
    if url.raw_user is None and url.raw_password is None:
        return url, None
    auth = BasicAuth.from_url(url)
    if auth is None:
        return url, None
    return url.with_user(None), auth


# --- .netrc and proxy environment ------------------------------------------------------


def _netrc_path() -> Path | None:
    netrc_env = os.environ.get("NETRC")
    if netrc_env is not None:
        return Path(netrc_env)
    try:
        home = Path.home()
    except RuntimeError as exc:
        # No HOME and no passwd entry: there is simply no default .netrc to read.
        client_logger.debug("Could not find the home directory to look for .netrc: %s", exc)
        return None
    return home / ("_netrc" if sys.platform == "win32" else ".netrc")


def netrc_from_env() -> netrc.netrc | None:
    """Load the .netrc file named by $NETRC, or the user's default one; None if unusable."""
    path = _netrc_path()
    if path is None:
        return None
    try:
        return netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        client_logger.warning("Could not parse .netrc file: %s", exc)
    except OSError as exc:
        # A missing default file is normal; anything else the user asked for deserves a word.
        try:
            exists = path.exists()
        except OSError:
            exists = False
        if exists or "NETRC" in os.environ:
            client_logger.warning("Could not read .netrc file: %s", exc)
    return None


def basicauth_from_netrc(netrc_obj: netrc.netrc | None, host: str) -> BasicAuth:
    """Credentials for `host` from a loaded .netrc; LookupError when there are none."""
    if netrc_obj is None:
        raise LookupError("No .netrc file found")
    entry = netrc_obj.authenticators(host)
    if entry is None:
        raise LookupError(f"No entry for {host!s} found in the `.netrc` file.")
    login, account, password = entry
    # Some .netrc writers put the user name under "account" and leave "login" empty.
    return BasicAuth(login or account or "", password or "")


@attrs.frozen(slots=True)
class ProxyInfo:
    """A proxy URL without credentials, and the credentials to send to it."""

    proxy: URL
    proxy_auth: BasicAuth | None


_PROXY_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
_TLS_PROXY_SCHEMES: Final = frozenset({"https", "wss"})


def proxies_from_env() -> dict[str, ProxyInfo]:
    """Proxies for the http, https, ws and wss schemes from the *_proxy variables."""
    stripped = {
        scheme: strip_auth_from_url(URL(value))
        for scheme, value in getproxies().items()
        if scheme in _PROXY_SCHEMES
    }
    needs_netrc = any(auth is None for _, auth in stripped.values())
    netrc_obj = netrc_from_env() if needs_netrc else None
    result: dict[str, ProxyInfo] = {}
    for scheme, (proxy, auth) in stripped.items():
        if proxy.scheme in _TLS_PROXY_SCHEMES:
            client_logger.warning(
                "%s proxies %s are not supported, ignoring", proxy.scheme.upper(), proxy
            )
            continue
        if auth is None and netrc_obj is not None and proxy.host is not None:
            try:
                auth = basicauth_from_netrc(netrc_obj, proxy.host)
            except LookupError:
                auth = None
        result[scheme] = ProxyInfo(proxy, auth)
    return result


def get_env_proxy_for_url(url: URL) -> tuple[URL, BasicAuth | None]:
    """The environment's proxy for `url` and its credentials; LookupError when none applies."""
    if url.host is not None and proxy_bypass(url.host):
        raise LookupError(f"Proxying is disallowed for `{url.host!r}`")
    proxies = proxies_from_env()
    try:
        info = proxies[url.scheme]
    except KeyError:
        raise LookupError(f"No proxies found for `{url!s}` in the env") from None
    return info.proxy, info.proxy_auth


# --- Value types -----------------------------------------------------------------------


@attrs.frozen(slots=True)
class ETag:
    """An entity tag: its value without quotes, and whether it is weak (`W/` prefix)."""

    value: str
    is_weak: bool = False


class ChainMapProxy(Mapping[str, Any]):
    """A read-only view of several mappings; the first mapping holding a key wins."""

    __slots__ = ("_maps",)

    def __init__(self, maps: Iterable[Mapping[str, Any]]) -> None:
        self._maps = tuple(maps)

    def __init_subclass__(cls) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from ChainMapProxy is forbidden")

    def __getitem__(self, key: str) -> Any:
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        for mapping in self._maps:
            if key in mapping:
                return mapping[key]
        return default

    def __len__(self) -> int:
        return len(set().union(*self._maps))

    def __iter__(self) -> Iterator[str]:
        # Same order as collections.ChainMap: keys of the last mapping first.
        keys: dict[str, None] = {}
        for mapping in reversed(self._maps):
            keys.update(dict.fromkeys(mapping))
        return iter(keys)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self._maps)

    def __bool__(self) -> bool:
        return any(self._maps)

    def __repr__(self) -> str:
        return f"ChainMapProxy({', '.join(map(repr, self._maps))})"


# --- Hosts and dates -------------------------------------------------------------------


def is_ip_address(host: str | None) -> bool:
    """Whether `host` is an IP literal rather than a name that needs resolving.

    A shape test, not a validation: IPv6 literals are the only hosts with a colon, and
    a DNS name cannot be all digits and dots because its top label is never numeric.
    """
    if not host:
        return False
    return ":" in host or host.replace(".", "").isdigit()


def parse_http_date(date_str: str | None) -> datetime.datetime | None:
    """Parse an HTTP-date (RFC 9110 section 5.6.7, all three forms) to an aware UTC time."""
    if date_str is None:
        return None
    parts = parsedate(date_str)
    if parts is None:
        return None
    try:
        return datetime.datetime(*parts[:6], tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


# --- Message bodies and timeouts -------------------------------------------------------

# RFC 9110 section 6.4.1: HEAD responses, 1xx, 204 and 304 never carry content.
EMPTY_BODY_METHODS: Final[frozenset[str]] = frozenset({hdrs.METH_HEAD})
EMPTY_BODY_STATUS_CODES: Final[frozenset[int]] = frozenset({*range(100, 200), 204, 304})


def method_must_be_empty_body(method: str) -> bool:
    """Whether every response to `method` has no body."""
    return method in EMPTY_BODY_METHODS


def status_code_must_be_empty_body(code: int) -> bool:
    """Whether a response with status `code` has no body, whatever the request."""
    return code in EMPTY_BODY_STATUS_CODES


def must_be_empty_body(method: str, code: int) -> bool:
    """Whether the response to `method` with status `code` has no body."""
    return (
        code in EMPTY_BODY_STATUS_CODES
        or method in EMPTY_BODY_METHODS
        # RFC 9110 section 9.3.6: a 2xx answer to CONNECT turns the connection into a tunnel.
        or (method == hdrs.METH_CONNECT and 200 <= code < 300)
    )


def guess_filename(obj: Any, default: str | None = None) -> str | None:
    """The last path component of `obj.name` (as a file object has), else `default`.

    A name that is not a non-empty str, or that starts with "<" or ends with ">"
    (pseudo-files such as "<stdin>"), counts as no name.
    """
    name = getattr(obj, "name", None)
    if name and isinstance(name, str) and name[0] != "<" and name[-1] != ">":
        return Path(name).name
    return default


def calculate_timeout_when(
    loop_time: float, timeout: float, timeout_ceiling_threshold: float
) -> float:
    """The loop time at which a timeout of `timeout` seconds started at `loop_time` fires.

    Timeouts longer than the threshold are rounded up to a whole second so that many
    of them share one wakeup of the event loop; short ones stay exact for debugging.
    """
    when = loop_time + timeout
    if timeout > timeout_ceiling_threshold:
        return ceil(when)
    return when
