"""Small public helpers of the client: credentials, proxy settings, dates, timers, futures.

Pure functions and value types; nothing here opens connections or holds per-session state.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime
import enum
import functools
import logging
import netrc
import os
import platform
import re
import sys
import weakref
from abc import ABC
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.message import EmailMessage
from email.policy import HTTP
from email.utils import formatdate, parsedate
from math import ceil
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Final, NamedTuple, Protocol
from urllib.request import getproxies, proxy_bypass

import attrs
from propcache.api import under_cached_property as reify
from yarl import URL

from . import hdrs
from ._futures import set_exception, set_result
from ._mime import MimeType, content_disposition_header, parse_mimetype

__all__ = (
    "CHAR",
    "CTL",
    "DEBUG",
    "ETAG_ANY",
    "LIST_QUOTED_ETAG_RE",
    "QUOTED_ETAG_RE",
    "DEFAULT_CHUNK_SIZE",
    "EMPTY_BODY_METHODS",
    "EMPTY_BODY_STATUS_CODES",
    "IDEMPOTENT_METHODS",
    "IS_MACOS",
    "IS_WINDOWS",
    "NO_EXTENSIONS",
    "PY_311",
    "QCONTENT",
    "SEPARATORS",
    "TOKEN",
    "BaseTimerContext",
    "BasicAuth",
    "ChainMapProxy",
    "ETag",
    "ErrorableProtocol",
    "HeadersMixin",
    "MimeType",
    "ProxyInfo",
    "TimeoutHandle",
    "TimerContext",
    "TimerNoop",
    "basicauth_from_netrc",
    "calculate_timeout_when",
    "call_later",
    "ceil_timeout",
    "client_logger",
    "content_disposition_header",
    "encode_basic_auth",
    "get_env_proxy_for_url",
    "guess_filename",
    "internal_logger",
    "is_canonical_ipv4_address",
    "is_ip_address",
    "method_must_be_empty_body",
    "must_be_empty_body",
    "netrc_from_env",
    "noop",
    "not_qtext_re",
    "parse_content_type",
    "parse_http_date",
    "parse_mimetype",
    "proxies_from_env",
    "quoted_string",
    "reify",
    "rfc822_formatted_time",
    "sentinel",
    "set_exception",
    "set_result",
    "should_remove_content_length",
    "status_code_must_be_empty_body",
    "strip_auth_from_url",
    "validate_etag_value",
    "weakref_handle",
)

client_logger: Final = logging.getLogger("airhttp.client")
internal_logger: Final = logging.getLogger("airhttp.internal")

PY_311: Final = sys.version_info >= (3, 11)
IS_MACOS: Final = platform.system() == "Darwin"
IS_WINDOWS: Final = platform.system() == "Windows"
# airhttp is pure Python: there are no C extensions to switch off, so this is always True.
NO_EXTENSIONS: Final = True
# asyncio's debug mode, as Python turns it on (-X dev, or PYTHONASYNCIODEBUG unless -E).
DEBUG: Final = sys.flags.dev_mode or (
    not sys.flags.ignore_environment and bool(os.environ.get("PYTHONASYNCIODEBUG"))
)
# The default read size of streamed bodies (StreamReader.iter_chunked and friends).
DEFAULT_CHUNK_SIZE: Final = 2**18

# RFC 2616 section 2.2 character classes (the grammar quoted-string and token build on).
CHAR: Final = frozenset(chr(i) for i in range(128))
CTL: Final = frozenset(chr(i) for i in range(32)) | {chr(127)}
SEPARATORS: Final = frozenset('()<>@,;:\\"/[]?={} \t')
TOKEN: Final = CHAR - CTL - SEPARATORS
# What a quoted-string may hold unescaped (qdtext, RFC 9110 section 5.6.4) plus HTAB/SP.
QCONTENT: Final = frozenset(chr(i) for i in range(0x20, 0x7F)) | {"\t"}
# Characters outside qdtext: they need a backslash inside a quoted-string.
not_qtext_re: Final = re.compile(r"[^\041\043-\133\135-\176]")


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
    """Proxies for the http, https, ws and wss schemes from the `*_proxy` variables."""
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

# RFC 9110 section 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE,
# etagc = %x21 / %x23-7E / obs-text. ETAG_ANY is the "*" of If-Match / If-None-Match.
ETAG_ANY: Final = "*"
_ETAGC: Final = r"[!#-~\x80-\xff]+"
QUOTED_ETAG_RE: Final = re.compile(rf'(W/)?"({_ETAGC})"')
# One entity-tag of a comma-separated list per match; group 4 catches anything else.
LIST_QUOTED_ETAG_RE: Final = re.compile(rf'((W/)?"({_ETAGC})")(?:\s*,\s*|$)|(.)')


def validate_etag_value(value: str) -> None:
    """Raise ValueError unless `value` can stand between the quotes of an entity-tag."""
    if re.fullmatch(_ETAGC, value) is None:
        raise ValueError(f"Value {value!r} is not a valid etag (no quotes, spaces or controls)")


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
# RFC 9110 section 9.2.2: repeating one of these has the effect of sending it once.
IDEMPOTENT_METHODS: Final[frozenset[str]] = frozenset(
    {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}
)


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


def should_remove_content_length(method: str, code: int) -> bool:
    """Whether a response with `code` to `method` must not carry a Content-Length.

    RFC 9110 section 8.6: not in 1xx and 204 responses, nor in a 2xx answer to CONNECT;
    a 304 may carry one but aiohttp drops it too.
    """
    return code in EMPTY_BODY_STATUS_CODES or (method == hdrs.METH_CONNECT and 200 <= code < 300)


def rfc822_formatted_time() -> str:
    """The current time as an IMF-fixdate (RFC 9110 section 5.6.7), e.g. for a Date header."""
    return formatdate(usegmt=True)


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


def is_canonical_ipv4_address(host: str) -> bool:
    """Whether `host` is a dotted quad with no leading zeros, e.g. "10.0.0.1" (not "010.0.0.1")."""
    parts = host.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        # isdecimal() alone would let non-ASCII digits through.
        if not part.isascii() or not part.isdecimal() or int(part) > 255:
            return False
        if len(part) > 1 and part[0] == "0":
            return False
    return True


def quoted_string(content: str) -> str:
    """`content` as the inside of an RFC 9110 section 5.6.4 quoted-string (quotes not added)."""
    if not set(content) <= QCONTENT:
        raise ValueError(f"bad content for quoted-string {content!r}")
    return not_qtext_re.sub(lambda match: "\\" + match.group(0), content)


# --- Content-Type of a message ---------------------------------------------------------

_OCTET_STREAM: Final = "application/octet-stream"


@functools.lru_cache(maxsize=56)
def parse_content_type(raw: str) -> tuple[str, MappingProxyType[str, str]]:
    """Split a Content-Type value into the lower-cased media type and its parameters.

    The parameters are decoded as e-mail headers are (RFC 2231 `name*=` values included);
    a value that is no `type/subtype` gives "application/octet-stream" (RFC 9110 8.3).
    """
    msg = EmailMessage(policy=HTTP)
    try:
        msg["content-type"] = raw
        media_type = msg.get_content_type()
        params = msg.get_params() or []
    except (IndexError, ValueError):
        # CPython's header parser can fail on some malformed values (e.g. "x/y; a*").
        return _OCTET_STREAM, MappingProxyType({})
    # The e-mail parser falls back to text/plain for a malformed value; HTTP does not.
    if media_type == "text/plain" and raw.partition(";")[0].strip().lower() != media_type:
        media_type = _OCTET_STREAM
    return media_type, MappingProxyType(dict(params[1:]))


class HeadersMixin:
    """`content_type`, `charset` and `content_length` of an object with `_headers`."""

    ATTRS: Final = frozenset({"_content_type", "_content_dict", "_stored_content_type"})

    _headers: Mapping[str, str]
    _content_type: str | None = None
    _content_dict: MappingProxyType[str, str] | None = None
    _stored_content_type: str | _SENTINEL | None = sentinel

    def _parse_content_type(self, raw: str | None) -> None:
        self._stored_content_type = raw
        if raw is None:
            # RFC 9110 section 8.3: a missing Content-Type may be treated as octet-stream.
            self._content_type = _OCTET_STREAM
            self._content_dict = MappingProxyType({})
        else:
            self._content_type, self._content_dict = parse_content_type(raw)

    def _content_params(self) -> MappingProxyType[str, str]:
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if self._stored_content_type != raw:
            self._parse_content_type(raw)
        assert self._content_dict is not None
        return self._content_dict

    @property
    def content_type(self) -> str:
        """The media type of the Content-Type header, lower-cased."""
        self._content_params()
        assert self._content_type is not None
        return self._content_type

    @property
    def charset(self) -> str | None:
        """The charset parameter of the Content-Type header, if any."""
        return self._content_params().get("charset")

    @property
    def content_length(self) -> int | None:
        """The Content-Length header as an int, or None when it is absent."""
        value = self._headers.get(hdrs.CONTENT_LENGTH)
        return None if value is None else int(value)


# --- Timers and callbacks on the event loop --------------------------------------------


class noop:
    """An awaitable that completes at once with None."""

    __slots__ = ()

    def __await__(self) -> Iterator[None]:
        return
        yield


class ErrorableProtocol(Protocol):
    """Anything with a `set_exception` that also takes an optional cause (futures, queues)."""

    def set_exception(self, exc: BaseException, exc_cause: BaseException = ...) -> None: ...


def _call_weak_method(info: tuple[weakref.ref[object], str]) -> None:
    ref, name = info
    obj = ref()
    if obj is not None:
        with contextlib.suppress(Exception):
            getattr(obj, name)()


def weakref_handle(
    ob: object,
    name: str,
    timeout: float | None,
    loop: asyncio.AbstractEventLoop,
    timeout_ceil_threshold: float = 5,
) -> asyncio.TimerHandle | None:
    """Call `ob.<name>()` after `timeout` seconds unless `ob` is gone by then; None: no timer."""
    if timeout is None or timeout <= 0:
        return None
    when = calculate_timeout_when(loop.time(), timeout, timeout_ceil_threshold)
    return loop.call_at(when, _call_weak_method, (weakref.ref(ob), name))


def call_later(
    cb: Callable[[], Any],
    timeout: float | None,
    loop: asyncio.AbstractEventLoop,
    timeout_ceil_threshold: float = 5,
) -> asyncio.TimerHandle | None:
    """Call `cb()` after `timeout` seconds (rounded up when long); None when there is no timeout."""
    if timeout is None or timeout <= 0:
        return None
    return loop.call_at(calculate_timeout_when(loop.time(), timeout, timeout_ceil_threshold), cb)


class BaseTimerContext(contextlib.AbstractContextManager["BaseTimerContext"], ABC):
    """A timeout scope around code that may be cancelled by a timer."""

    __slots__ = ()

    def assert_timeout(self) -> None:
        """Raise asyncio.TimeoutError if the timer has already fired."""


class TimerNoop(BaseTimerContext):
    """A timer context that never fires."""

    __slots__ = ()

    def __enter__(self) -> BaseTimerContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        return None


class TimerContext(BaseTimerContext):
    """Cancels the tasks inside it when `timeout()` is called; they see asyncio.TimeoutError."""

    __slots__ = ("_cancelled", "_cancelling", "_loop", "_tasks")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tasks: list[asyncio.Task[Any]] = []
        self._cancelled = False
        self._cancelling = 0

    def assert_timeout(self) -> None:
        if self._cancelled:
            raise asyncio.TimeoutError from None

    def __enter__(self) -> BaseTimerContext:
        task = asyncio.current_task(loop=self._loop)
        if task is None:
            raise RuntimeError("Timeout context manager should be used inside a task")
        if sys.version_info >= (3, 11):
            # Cancellations requested before we entered are not ours to turn into a timeout.
            self._cancelling = task.cancelling()
        if self._cancelled:
            raise asyncio.TimeoutError from None
        self._tasks.append(task)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        task = self._tasks.pop() if self._tasks else None
        if exc_type is asyncio.CancelledError and self._cancelled:
            if (
                sys.version_info >= (3, 11)
                and task is not None
                and task.uncancel() > self._cancelling
            ):
                # Someone else cancelled the task as well: let their cancellation through.
                return None
            raise asyncio.TimeoutError from exc_val
        return None

    def timeout(self) -> None:
        """Fire the timer: cancel every task inside the context."""
        if not self._cancelled:
            for task in set(self._tasks):
                task.cancel()
            self._cancelled = True


class TimeoutHandle:
    """One timeout for a request: callbacks to run when it fires, and timers tied to it."""

    __slots__ = ("_callbacks", "_ceil_threshold", "_loop", "_timeout")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float | None, ceil_threshold: float = 5
    ) -> None:
        self._timeout = timeout
        self._loop = loop
        self._ceil_threshold = ceil_threshold
        self._callbacks: list[tuple[Callable[..., None], tuple[Any, ...], dict[str, Any]]] = []

    def register(self, callback: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        self._callbacks.append((callback, args, kwargs))

    def close(self) -> None:
        self._callbacks.clear()

    def start(self) -> asyncio.TimerHandle | None:
        """Arm the timeout; None when there is none."""
        timeout = self._timeout
        if timeout is None or timeout <= 0:
            return None
        when = calculate_timeout_when(self._loop.time(), timeout, self._ceil_threshold)
        return self._loop.call_at(when, self.__call__)

    def timer(self) -> BaseTimerContext:
        """A timer context that fires with this timeout (a no-op one without a timeout)."""
        if self._timeout is None or self._timeout <= 0:
            return TimerNoop()
        timer = TimerContext(self._loop)
        self.register(timer.timeout)
        return timer

    def __call__(self) -> None:
        for callback, args, kwargs in self._callbacks:
            with contextlib.suppress(Exception):
                callback(*args, **kwargs)
        self._callbacks.clear()


if sys.version_info >= (3, 11):

    def ceil_timeout(delay: float | None, ceil_threshold: float = 5) -> asyncio.Timeout:
        """`asyncio.timeout` for `delay` seconds, its deadline rounded up when long."""
        if delay is None or delay <= 0:
            return asyncio.timeout(None)
        loop = asyncio.get_running_loop()
        return asyncio.timeout_at(calculate_timeout_when(loop.time(), delay, ceil_threshold))

else:  # pragma: no cover - Python 3.10 has no asyncio.timeout

    class _Deadline:
        """The part of asyncio.timeout ceil_timeout needs, for Python 3.10."""

        def __init__(self, when: float | None) -> None:
            self._when = when
            self._timer = TimerContext(asyncio.get_running_loop())
            self._handle: asyncio.TimerHandle | None = None

        async def __aenter__(self) -> _Deadline:
            self._timer.__enter__()
            if self._when is not None:
                self._handle = asyncio.get_running_loop().call_at(self._when, self._timer.timeout)
            return self

        async def __aexit__(self, *exc_info: Any) -> bool | None:
            if self._handle is not None:
                self._handle.cancel()
            return self._timer.__exit__(*exc_info)

    def ceil_timeout(delay: float | None, ceil_threshold: float = 5) -> _Deadline:
        """A timeout scope for `delay` seconds, its deadline rounded up when long."""
        if delay is None or delay <= 0:
            return _Deadline(None)
        loop = asyncio.get_running_loop()
        return _Deadline(calculate_timeout_when(loop.time(), delay, ceil_threshold))
