"""The session cookie jar (RFC 6265 section 5): stores Set-Cookie results, picks what requests send.

No network I/O. save() writes JSON; load() also reads aiohttp 3.13's pickle files, through
an unpickler that knows the cookie classes only, so loading a cookie file never runs code.
"""

from __future__ import annotations

import heapq
import ipaddress
import json
import os
import warnings
from collections.abc import Iterable, Iterator
from http.cookies import BaseCookie, Morsel, SimpleCookie
from operator import attrgetter
from time import time
from types import MappingProxyType
from typing import Any, Final, TypeAlias
from urllib.parse import quote

from yarl import URL

from ._cookie_files import read_cookie_file, saved_entry
from ._cookie_parsing import (
    MORSEL_HAS_PARTITIONED,
    UNSENDABLE_RE,
    CookieSpec,
    cookie_specs,
    parse_set_cookie,
    quote_value,
    read_set_cookies,
)
from ._cookie_parsing import parse_set_cookie_headers as parse_set_cookie_headers
from ._cookie_parsing import preserve_morsel_with_coded_value as preserve_morsel_with_coded_value
from .abc import AbstractCookieJar, ClearCookiePredicate
from .helpers import internal_logger as internal_logger
from .helpers import is_ip_address as is_ip_address
from .typedefs import LooseCookies, PathLike, StrOrURL

__all__ = ("CookieJar", "DummyCookieJar")

# The "X as X" imports above are aiohttp's cookiejar names, kept for code that imports them
# from here; the jar itself checks IP hosts with the stricter _is_ip_address.

# aiohttp's name for one value of a cookies mapping: the value alone, or a whole Morsel.
CookieItem: TypeAlias = str | Morsel[str]

# 9999-12-31T23:59:59Z: the latest moment a cookie date can name.
_MAX_TIME: Final = 253402300799
# aiohttp 3.14's quotas (measured by running it; RFC 6265 6.1 asks for at least 50 a domain
# and 3000 in all): past 180 cookies in one domain the least recently used go until 150
# are left; a cookie that would be the 3301st first makes them go until 3000 are left.
# The slack means the sort behind an eviction runs once per 30 (or 300) new cookies.
_DOMAIN_QUOTA: Final = 180
_DOMAIN_KEEP: Final = 150
_JAR_QUOTA: Final = 3300
_JAR_KEEP: Final = 3001
# What one request carries at most, as aiohttp 3.14 sends it: 150 cookies, and a Cookie
# value that fits a server's usual 8190-byte header line with "Cookie: " in front.
_MAX_SENT: Final = 150
_MAX_SENT_BYTES: Final = 8190 - len("Cookie: ")
_SECURE_SCHEMES: Final = frozenset(("https", "wss"))
_HOST_CACHE_SIZE: Final = 512
_EMPTY_URL: Final = URL()

# Characters a URL path may carry unescaped; anything else is percent-encoded so that a
# Path attribute compares equal to the request's raw (encoded) path.
_PATH_SAFE: Final = "!$%&'()*+,/:;=@~"


class _PartitionedMorsel(Morsel[str]):
    """A Morsel that also carries the Partitioned flag on Pythons older than 3.14."""

    _reserved = {**vars(Morsel)["_reserved"], "partitioned": "Partitioned"}
    _flags = vars(Morsel)["_flags"] | {"partitioned"}


_BLANK_ATTRIBUTES: Final = dict(Morsel())
_BLANK_PARTITIONED_ATTRIBUTES: Final = dict(_PartitionedMorsel())


def _new_morsel(name: str, value: str, coded: str, *, partitioned: bool = False) -> Morsel[str]:
    # Filling a blank copy skips Morsel.__init__'s per-key loop (about 1 us per Morsel), and
    # setting the fields the way Morsel.copy() does lets through names Morsel.set() refuses
    # but servers really send ("a[0]", "path").
    if partitioned and not MORSEL_HAS_PARTITIONED:
        morsel: Morsel[str] = _PartitionedMorsel.__new__(_PartitionedMorsel)
        dict.update(morsel, _BLANK_PARTITIONED_ATTRIBUTES)
    else:
        morsel = Morsel.__new__(Morsel)
        dict.update(morsel, _BLANK_ATTRIBUTES)
    morsel.__dict__.update(_key=name, _value=value, _coded_value=coded)
    return morsel


def _is_ip_address(host: str) -> bool:
    if ":" not in host and not host[-1:].isdigit():
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _domain_match(host: str, domain: str) -> bool:
    """RFC 6265 5.1.3, for a host already known not to be an IP address."""
    return host == domain or (bool(domain) and host.endswith("." + domain))


def _default_path(path: str) -> str:
    """RFC 6265 5.1.4: the directory of the request path (decoded, as aiohttp shows it)."""
    if not path or path[0] != "/":
        return "/"
    slash = path.rfind("/")
    return path[:slash] if slash > 0 else "/"


def _canonical_domain(domain: str) -> str | None:
    """The Domain attribute as stored (5.2.3, 5.1.2), "" for none, None to reject the cookie."""
    if domain.startswith("."):
        domain = domain[1:]
    domain = domain.lower()
    if not domain or domain.endswith("."):
        # aiohttp treats these as if no Domain had been given: the cookie stays host-only.
        return ""
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return domain


def _compute_expiry(spec: CookieSpec, now: float) -> float | None:
    """RFC 6265 5.3 step 3: when the cookie expires, None for a session cookie."""
    # Max-Age wins over Expires.
    if spec.max_age is not None:
        seconds = min(spec.max_age, _MAX_TIME)
        # 5.2.2: zero or less means the earliest representable time, whatever the clock says.
        expires: float | None = now + seconds if seconds > 0 else float("-inf")
    else:
        expires = spec.expires
    if expires is not None and expires > _MAX_TIME:
        expires = _MAX_TIME
    return expires


def _resolve_path(path: str, default_path: str) -> str:
    """RFC 6265 5.3 step 7 (with 5.2.4): the Path attribute if it is absolute, else the default."""
    return path if path[:1] == "/" else default_path


def _matched_path(path: str) -> str:
    """The path as a request's raw (encoded) path spells it, for 5.1.4 path-match.

    aiohttp shows and keys cookies by the path as sent (or decoded), and we do too; but it
    also compares that with the decoded request path, so a server's "Path=/caf%C3%A9"
    never matches. Encoding both sides keeps "/caf%C3%A9" and "/café" one path.
    """
    # surrogateescape: a byte the header decoding could not read goes back out as that byte.
    return quote(path, safe=_PATH_SAFE, errors="surrogateescape")


def _build_shown_morsel(spec: CookieSpec, domain: str, path: str) -> Morsel[str]:
    """RFC 6265 5.3 steps 2 and 8-9: the Morsel callers see, with the attributes as stored."""
    morsel = _new_morsel(spec.name, spec.value, spec.coded, partitioned=spec.partitioned)
    attributes: dict[str, str | bool] = {"domain": domain, "path": path}
    if spec.expires_text:
        attributes["expires"] = spec.expires_text
    if spec.max_age_text:
        attributes["max-age"] = spec.max_age_text
    if spec.secure:
        attributes["secure"] = True
    if spec.httponly:
        attributes["httponly"] = True
    if spec.partitioned:
        attributes["partitioned"] = True
    if spec.samesite:
        attributes["samesite"] = spec.samesite
    if spec.comment:
        attributes["comment"] = spec.comment
    if spec.version:
        attributes["version"] = spec.version
    dict.update(morsel, attributes)
    return morsel


class _StoredCookie:
    """A cookie in the jar: its identity, sending rules and the Morsels shown to callers."""

    __slots__ = (
        "created",
        "domain",
        "expires",
        "host_only",
        "last_used",
        "match_path",
        "morsel",
        "name",
        "path",
        "path_key",
        "path_prefix",
        "rank",
        "secure",
        "send",
        "send_size",
    )

    def __init__(
        self,
        name: str,
        domain: str,
        path: str,
        host_only: bool,
        secure: bool,
        expires: float | None,
        morsel: Morsel[str],
        send: Morsel[str],
        created: int,
        last_used: int,
    ) -> None:
        self.name = name
        self.domain = domain
        self.path = path
        # The identity aiohttp gives a cookie: "/a" and "/a/" are one path.
        self.path_key = path.rstrip("/")
        match_path = self.match_path = _matched_path(path)
        # 5.1.4 path-match is "equal, or a prefix ending at a /": one startswith() test.
        self.path_prefix = match_path if match_path.endswith("/") else match_path + "/"
        self.host_only = host_only
        self.secure = secure
        self.expires = expires
        self.morsel = morsel
        self.send = send
        # Bytes of "name=value" in a Cookie header (the send Morsel's value is ASCII
        # unless quote_cookie is off).
        self.send_size = len(name) + 1 + len(send.coded_value.encode(errors="replace"))
        self.created = created
        self.last_used = last_used
        # aiohttp's Cookie order within a domain: shorter paths first.
        self.rank = len(self.path_key)


_by_rank: Final = attrgetter("rank")
_by_recency: Final = attrgetter("last_used", "created")
_new_cookie_object: Final = BaseCookie.__new__


def request_cookies(cookies: LooseCookies, url: URL, jar: AbstractCookieJar) -> BaseCookie[str]:
    """A request's own `cookies=` as they go to `url`, under the session jar's settings.

    Unlike a jar's, these keep control characters and go out quoted, as in aiohttp.
    """
    own = CookieJar(
        quote_cookie=jar.quote_cookie,
        # A custom AbstractCookieJar may not have these: the defaults then.
        unsafe=getattr(jar, "unsafe", False),
        treat_as_secure_origin=getattr(jar, "treat_as_secure_origin", None),
    )
    own._limited = False  # as aiohttp: a request's own cookies all go, however many
    own._store_all(cookie_specs(cookies), None, "/")
    return own.filter_cookies(url)


def _can_send(spec: CookieSpec) -> bool:
    """Whether the cookie can go out in a Cookie header as it is (aiohttp 3.14's test)."""
    text = spec.name + spec.value + spec.coded
    if UNSENDABLE_RE.search(text) is not None:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


class CookieJar(AbstractCookieJar):
    """Stores cookies per (domain, path, name) and returns those a request URL may carry."""

    # False only for the throwaway jar of a request's own cookies= (request_cookies()):
    # no storage quotas and no limit on what is sent.
    _limited = True

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: StrOrURL | Iterable[StrOrURL] | None = None,
        loop: Any = None,
    ) -> None:
        super().__init__(loop=loop)
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        if treat_as_secure_origin is None:
            origins: Iterable[StrOrURL] = ()
        elif isinstance(treat_as_secure_origin, (str, URL)):
            origins = (treat_as_secure_origin,)
        else:
            origins = treat_as_secure_origin
        self._secure_origins: frozenset[URL] = frozenset(
            (origin if isinstance(origin, URL) else URL(origin)).origin() for origin in origins
        )
        self._reset()

    def _reset(self) -> None:
        # domain -> path key -> name -> cookie; "" is the domain of shared cookies.
        self._domains: dict[str, dict[str, dict[str, _StoredCookie]]] = {}
        # The same {name: cookie} groups by (domain, path key), oldest group first: the
        # order aiohttp iterates (and saves) in. An emptied group goes, as in aiohttp.
        self._groups: dict[tuple[str, str], dict[str, _StoredCookie]] = {}
        self._count = 0
        self._per_domain: dict[str, int] = {}
        self._expiry_heap: list[tuple[float, int, _StoredCookie]] = []
        self._next_expiry = float("inf")
        self._sequence = 0
        self._tick = 0
        self._host_domains: dict[str, tuple[str, ...]] = {}

    @property
    def quote_cookie(self) -> bool:
        return self._quote_cookie

    @property
    def unsafe(self) -> bool:
        """Whether cookies are accepted from and sent to IP-address hosts."""
        return self._unsafe

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        """Origins that receive Secure cookies even over cleartext."""
        return self._secure_origins

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        """A snapshot of the jar as {(domain, path without trailing /): SimpleCookie}."""
        self._do_expiration()
        view: dict[tuple[str, str], SimpleCookie] = {}
        for key, group in self._groups.items():
            shown = view[key] = SimpleCookie()
            for name, cookie in group.items():
                dict.__setitem__(shown, name, cookie.morsel)
        return MappingProxyType(view)

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        """(domain, path without trailing /, name) of every host-only cookie."""
        self._do_expiration()
        return frozenset(
            (cookie.domain, cookie.path_key, cookie.name)
            for cookie in self._all()
            if cookie.host_only
        )

    def __len__(self) -> int:
        self._do_expiration()
        return self._count

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._do_expiration()
        return iter([cookie.morsel for cookie in self._all()])

    def _all(self) -> Iterator[_StoredCookie]:
        for group in self._groups.values():
            yield from group.values()

    # -- removal -------------------------------------------------------------------------

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        if predicate is None:
            self._reset()
            return
        self._do_expiration()
        for cookie in [cookie for cookie in self._all() if predicate(cookie.morsel)]:
            self._remove(cookie)

    def clear_domain(self, domain: str) -> None:
        domain = domain.lower()
        self._do_expiration()
        for cookie in [cookie for cookie in self._all() if _domain_match(cookie.domain, domain)]:
            self._remove(cookie)

    def _remove(self, cookie: _StoredCookie) -> None:
        domain, path_key = cookie.domain, cookie.path_key
        paths = self._domains[domain]
        group = paths[path_key]
        del group[cookie.name]
        if not group:
            del paths[path_key], self._groups[domain, path_key]
            if not paths:
                del self._domains[domain]
        self._count -= 1
        left = self._per_domain[domain] - 1
        if left:
            self._per_domain[domain] = left
        else:
            del self._per_domain[domain]

    def _do_expiration(self) -> None:
        """Drop every cookie whose expiry time has passed."""
        now = time()
        if now >= self._next_expiry:
            self._expire(now)

    def _expire(self, now: float) -> None:
        heap = self._expiry_heap
        while heap and heap[0][0] <= now:
            cookie = heapq.heappop(heap)[2]
            # Replaced or removed cookies leave their old entry behind; skip those.
            if self._is_live(cookie):
                self._remove(cookie)
        self._next_expiry = heap[0][0] if heap else float("inf")

    def _evict(self, newest: _StoredCookie, domain: str | None, keep: int, now: float) -> None:
        """5.3 step 12: expired cookies go, then the least recently used but `newest`.

        Down to `keep` cookies in `domain`, or in the whole jar for None.
        """
        self._expire(now)
        if domain is None:
            pool = [cookie for cookie in self._all() if cookie is not newest]
        else:
            paths = self._domains.get(domain, {})
            pool = [c for group in paths.values() for c in group.values() if c is not newest]
        excess = len(pool) + self._is_live(newest) - keep
        if excess > 0:
            pool.sort(key=_by_recency)
            for cookie in pool[:excess]:
                self._remove(cookie)

    # -- storing -------------------------------------------------------------------------

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Store cookies set by `response_url`; without a host they are shared by all requests."""
        host = response_url.raw_host
        if host is not None and not self._unsafe and _is_ip_address(host):
            return
        # As aiohttp 3.14: a control character could never go out in a Cookie header
        # (quoted, it is not what was meant; unquoted, it would fail every request).
        specs = [spec for spec in cookie_specs(cookies) if _can_send(spec)]
        self._store_all(specs, host, _default_path(response_url.path))

    def update_cookies_from_headers(self, headers: Iterable[str], response_url: URL) -> None:
        """Store the cookies of raw Set-Cookie values received from `response_url`.

        As in aiohttp, the first 50 valid values count; illegal names are logged (warning)
        and what was dropped is counted on the debug log of the `airhttp.internal` logger.
        """
        host = response_url.raw_host
        if host is not None and not self._unsafe and _is_ip_address(host):
            return
        specs = read_set_cookies(headers, parse_set_cookie)
        if specs:
            self._store_all(specs, host, _default_path(response_url.path))

    def _store_all(self, specs: list[CookieSpec], host: str | None, default_path: str) -> None:
        now = time()
        for spec in specs:
            self._store(spec, host, default_path, now)
        self._end_batch(now)

    def _end_batch(self, now: float) -> None:
        # Deleted cookies held their place only within this batch (as in aiohttp).
        if now >= self._next_expiry:
            self._expire(now)

    def _store(self, spec: CookieSpec, host: str | None, default_path: str, now: float) -> None:
        """RFC 6265 5.3, the storage model, for one cookie."""
        expires = _compute_expiry(spec, now)
        placed = self._resolve_domain(spec.domain, host)
        if placed is None:
            return
        domain, host_only = placed
        path = _resolve_path(spec.path, default_path)

        paths = self._domains.get(domain)
        group = paths.get(path.rstrip("/")) if paths is not None else None
        old = group.get(spec.name) if group is not None else None
        # A date in the past is how servers delete a cookie: step 11.4 replaces the old
        # one by the expired one, which goes when the batch ends (_store_all). Until then
        # it holds the cookie's place, as in aiohttp: deleted and set again in one
        # response, a cookie keeps its position in the order.
        morsel = _build_shown_morsel(spec, domain, path)
        send = self._build_send_morsel(spec)
        created = self._take_creation_order(old)
        # Setting a cookie counts as using it (aiohttp keeps a refreshed cookie too).
        self._tick += 1
        cookie = _StoredCookie(
            spec.name,
            domain,
            path,
            host_only,
            spec.secure,
            expires,
            morsel,
            send,
            created,
            self._tick,
        )
        self._insert(group, cookie, old is not None)
        if old is None:
            self._enforce_quotas(cookie, now)

    def _resolve_domain(self, attribute: str, host: str | None) -> tuple[str, bool] | None:
        """Steps 4-6: the cookie's domain and host-only flag, or None to ignore the cookie."""
        # Step 4: no Domain attribute means "".
        domain = _canonical_domain(attribute) if attribute else ""
        if domain is None:
            return None
        if host is None:
            # No response host to check against (added by hand): the attribute, if any,
            # is taken as given, and without one the cookie is shared by every request.
            host_only = False
        elif domain:
            # Step 6: the attribute must domain-match the host (5.1.3); an IP address
            # host matches only itself.
            if host != domain and (_is_ip_address(host) or not _domain_match(host, domain)):
                return None
            host_only = False
        else:
            # Step 6, no attribute: the cookie belongs to exactly the response host.
            domain = host
            host_only = True
        # Step 5 needs a public suffix list, which this jar does not carry; an IP-address
        # domain is refused unless the jar is unsafe, the rule the response host met too.
        if domain and not self._unsafe and _is_ip_address(domain):
            return None
        return domain, host_only

    def _build_send_morsel(self, spec: CookieSpec) -> Morsel[str]:
        """The Morsel whose coded value goes into the Cookie header of requests."""
        value = spec.value
        if not self._quote_cookie:
            coded = value
        elif spec.coded.startswith('"'):
            # Already quoted by the server: send it back exactly as it came.
            coded = spec.coded
        else:
            coded = quote_value(value)[1]
        return _new_morsel(spec.name, value, coded)

    def _take_creation_order(self, old: _StoredCookie | None) -> int:
        # Step 11.3: a replacement keeps the creation time of the cookie it replaces.
        if old is not None:
            return old.created
        self._sequence += 1
        return self._sequence

    def _insert(
        self, group: dict[str, _StoredCookie] | None, cookie: _StoredCookie, replacing: bool
    ) -> None:
        """Steps 11.4 and 12: the new cookie takes the old one's slot, or a new one."""
        if group is None:
            paths = self._domains.get(cookie.domain)
            if paths is None:
                paths = self._domains[cookie.domain] = {}
            group = paths[cookie.path_key] = {}
            self._groups[cookie.domain, cookie.path_key] = group
        group[cookie.name] = cookie
        if not replacing:
            self._count += 1
            self._per_domain[cookie.domain] = self._per_domain.get(cookie.domain, 0) + 1
        if cookie.expires is not None:
            self._schedule(cookie, cookie.expires)

    def _enforce_quotas(self, newest: _StoredCookie, now: float) -> None:
        if not self._limited:
            return
        if self._per_domain.get(newest.domain, 0) > _DOMAIN_QUOTA:
            self._evict(newest, newest.domain, _DOMAIN_KEEP, now)
        if self._count > _JAR_QUOTA:
            self._evict(newest, None, _JAR_KEEP, now)

    def _schedule(self, cookie: _StoredCookie, expires: float) -> None:
        heap = self._expiry_heap
        self._sequence += 1
        heapq.heappush(heap, (expires, self._sequence, cookie))
        if expires < self._next_expiry:
            self._next_expiry = expires
        # Servers that refresh Max-Age on every response leave dead entries behind.
        if len(heap) > 2 * self._count + 64:
            live = [entry for entry in heap if self._is_live(entry[2])]
            heapq.heapify(live)
            self._expiry_heap = live

    def _is_live(self, cookie: _StoredCookie) -> bool:
        group = self._groups.get((cookie.domain, cookie.path_key))
        return group is not None and group.get(cookie.name) is cookie

    # -- sending -------------------------------------------------------------------------

    def _domains_for(self, host: str) -> tuple[str, ...]:
        """The cookie domains that may match `host`: "", its parents from the top, itself."""
        if _is_ip_address(host):
            # 5.1.3: an IP address only matches itself.
            candidates: tuple[str, ...] = ("", host)
        else:
            parts = [host]
            dot = host.find(".")
            while dot >= 0:
                parent = host[dot + 1 :]
                if parent:
                    parts.append(parent)
                dot = host.find(".", dot + 1)
            parts.append("")
            candidates = tuple(reversed(parts))
        cache = self._host_domains
        if len(cache) >= _HOST_CACHE_SIZE:
            cache.clear()
        cache[host] = candidates
        return candidates

    def filter_cookies(self, request_url: URL = _EMPTY_URL) -> BaseCookie[str]:
        """Return the cookies a request to `request_url` carries, in aiohttp's order.

        Shared cookies first, then domains from the parent down to the host, shorter paths
        first, older first; of two with one name the later (more specific) one is sent.
        The Morsels are shared between calls: treat them as read-only.
        """
        if type(request_url) is not URL:
            request_url = _deprecated_url(request_url)
        # BaseCookie.__init__ only loads its optional input; skipping it saves ~30 ns a call.
        result: BaseCookie[str] = _new_cookie_object(BaseCookie)
        if not self._count:
            return result
        now = time()
        if now >= self._next_expiry:
            self._expire(now)
        host = request_url.raw_host
        if host is None:
            candidates: tuple[str, ...] = ("",)
            secure = False
        else:
            candidates = self._host_domains.get(host) or self._domains_for(host)
            secure = request_url.scheme in _SECURE_SCHEMES or (
                bool(self._secure_origins) and request_url.origin() in self._secure_origins
            )
        path = request_url.raw_path or "/"
        domains = self._domains
        found: list[_StoredCookie] = []
        for domain in candidates:
            paths = domains.get(domain)
            if paths is None:
                continue
            start = len(found)
            for group in paths.values():
                for cookie in group.values():
                    if cookie.host_only and domain != host:
                        continue
                    if cookie.secure and not secure:
                        continue
                    if path != cookie.match_path and not path.startswith(cookie.path_prefix):
                        continue
                    found.append(cookie)
            if len(paths) > 1 and len(found) - start > 1:
                # Stable: within one path, the group's (insertion) order stays.
                found[start:] = sorted(found[start:], key=_by_rank)
        if not found:
            return result
        tick = self._tick = self._tick + 1
        size = -2
        # A BaseCookie holds one Morsel per name: the later one wins and takes its place.
        for cookie in found:
            cookie.last_used = tick
            size += cookie.send_size + 2  # "; " between them
            name = cookie.name
            if name in result:
                dict.__delitem__(result, name)
            dict.__setitem__(result, name, cookie.send)
        # `size` counts replaced duplicates too: an upper bound, exact when none were.
        if (size > _MAX_SENT_BYTES or len(result) > _MAX_SENT) and self._limited:
            return _within_request_limits(found)
        return result

    # -- persistence ---------------------------------------------------------------------

    def save(self, file_path: PathLike) -> None:
        """Write the cookies to `file_path` as JSON (aiohttp 3.14's layout)."""
        self._do_expiration()
        data: dict[str, dict[str, dict[str, Any]]] = {}
        for cookie in self._all():
            entry = saved_entry(cookie.name, cookie.morsel, cookie.host_only, cookie.expires)
            data.setdefault(f"{cookie.domain}|{cookie.path_key}", {})[cookie.name] = entry
        # Cookies are credentials: a new file is readable by its owner only.
        descriptor = os.open(file_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2)

    def load(self, file_path: PathLike) -> None:
        """Replace the jar's contents with the cookies saved in `file_path`.

        Reads the JSON that save() writes, and the pickle files of aiohttp 3.13 and older
        through an unpickler that knows the cookie classes only (anything else raises).
        Raises ValueError (and keeps the current cookies) when the file is neither;
        individual cookies that break the storage rules or have expired are skipped.
        """
        with open(file_path, "rb") as stream:
            loaded = read_cookie_file(stream.read(), os.fspath(file_path))
        self._reset()
        now = time()
        for spec, host in loaded:
            if _can_send(spec):
                self._store(spec, host, "/", now)
        self._end_batch(now)


def _within_request_limits(found: list[_StoredCookie]) -> BaseCookie[str]:
    """The last 150 cookies that fit the Cookie header's bytes, in order (as aiohttp)."""
    last: dict[str, _StoredCookie] = {}
    for cookie in found:
        last.pop(cookie.name, None)
        last[cookie.name] = cookie
    kept: list[_StoredCookie] = []
    size = -2
    for cookie in reversed(last.values()):
        if len(kept) == _MAX_SENT:
            break
        if size + 2 + cookie.send_size <= _MAX_SENT_BYTES:
            size += 2 + cookie.send_size
            kept.append(cookie)
    result: BaseCookie[str] = _new_cookie_object(BaseCookie)
    for cookie in reversed(kept):
        dict.__setitem__(result, cookie.name, cookie.send)
    return result


def _deprecated_url(request_url: Any) -> URL:
    if isinstance(request_url, URL):  # a subclass
        return request_url
    # aiohttp's wording, missing space included, so filters written for it still match.
    warnings.warn(
        "filter_cookies expects yarl.URL instances only,"
        f"and will stop working in 4.x, got {type(request_url)}",
        DeprecationWarning,
        stacklevel=3,
    )
    return URL(request_url)


class DummyCookieJar(AbstractCookieJar):
    """A jar that keeps nothing: responses' cookies are dropped, requests carry none."""

    def __init__(self, *, loop: Any = None) -> None:
        super().__init__(loop=loop)

    @property
    def quote_cookie(self) -> bool:
        return True

    @property
    def unsafe(self) -> bool:
        return False

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        return frozenset()

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        return MappingProxyType({})

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        return frozenset()

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        pass

    def update_cookies_from_headers(self, headers: Iterable[str], response_url: URL) -> None:
        pass

    def filter_cookies(self, request_url: URL = _EMPTY_URL) -> BaseCookie[str]:
        return SimpleCookie()
