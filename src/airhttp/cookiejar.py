"""The session cookie jar (RFC 6265 section 5): stores Set-Cookie results, picks what requests send.

No network I/O; save()/load() use JSON only, so loading a cookie file never executes code.
"""

from __future__ import annotations

import heapq
import ipaddress
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from http.cookies import BaseCookie, Morsel, SimpleCookie
from operator import attrgetter
from time import time
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote

from yarl import URL

from ._cookie_parsing import (
    BAD_NAME_RE,
    CTL_RE,
    MORSEL_HAS_PARTITIONED,
    CookieSpec,
    parse_set_cookie,
)
from .abc import AbstractCookieJar, ClearCookiePredicate
from .typedefs import LooseCookies, PathLike, StrOrURL

__all__ = ("CookieJar", "DummyCookieJar")

# 9999-12-31T23:59:59Z: the latest moment a cookie date can name.
_MAX_TIME: Final = 253402300799
# RFC 6265 section 6.1 minimums a user agent should support; more is a memory DoS vector.
_MAX_PER_DOMAIN_PER_RESPONSE: Final = 50
_MAX_COOKIES: Final = 3000
# Eviction sorts the whole jar, so it runs only after this much slack has built up.
_EVICT_ABOVE: Final = _MAX_COOKIES + _MAX_COOKIES // 10
_SECURE_SCHEMES: Final = frozenset(("https", "wss"))
_HOST_CACHE_SIZE: Final = 512
_EMPTY_URL: Final = URL()

# Characters a URL path may carry unescaped; anything else is percent-encoded so that a
# Path attribute compares equal to the request's raw (encoded) path.
_PATH_SAFE: Final = "!$%&'()*+,/:;=@~"

_quote_value: Final = SimpleCookie().value_encode


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


def _default_path(raw_path: str) -> str:
    """RFC 6265 5.1.4: the directory of the request path."""
    if not raw_path or raw_path[0] != "/":
        return "/"
    slash = raw_path.rfind("/")
    return raw_path[:slash] if slash > 0 else "/"


def _path_key(path: str) -> str:
    # The key shape aiohttp uses in `cookies`, host_only_cookies and saved files.
    return path.rstrip("/")


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
    return quote(path, safe=_PATH_SAFE) if path[:1] == "/" else default_path


def _take_response_slot(per_domain: dict[str, int], domain: str) -> bool:
    """Count one more cookie for `domain` in this response; False once its cap is reached."""
    # RFC 6265 6.1 asks for 50 per domain; one response setting thousands is a memory DoS.
    stored = per_domain.get(domain, 0)
    if stored >= _MAX_PER_DOMAIN_PER_RESPONSE:
        return False
    per_domain[domain] = stored + 1
    return True


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
        "morsel",
        "name",
        "order",
        "path",
        "path_prefix",
        "secure",
        "send",
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
        # 5.1.4 path-match is "equal, or a prefix ending at a /": one startswith() test.
        self.path_prefix = path if path.endswith("/") else path + "/"
        self.host_only = host_only
        self.secure = secure
        self.expires = expires
        self.morsel = morsel
        self.send = send
        self.created = created
        self.last_used = last_used
        # 5.4 step 2: longer paths first, then earlier creation times.
        self.order = (-len(path), created)


_by_order: Final = attrgetter("order")
_new_cookie_object: Final = BaseCookie.__new__


class CookieJar(AbstractCookieJar):
    """Stores cookies per (domain, path, name) and returns those a request URL may carry."""

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
        # domain -> {(path, name): cookie}; "" is the domain of shared cookies.
        self._domains: dict[str, dict[tuple[str, str], _StoredCookie]] = {}
        self._count = 0
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
        for cookie in self._all():
            key = (cookie.domain, _path_key(cookie.path))
            group = view.get(key)
            if group is None:
                group = view[key] = SimpleCookie()
            dict.__setitem__(group, cookie.name, cookie.morsel)
        return MappingProxyType(view)

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        """(domain, path without trailing /, name) of every host-only cookie."""
        self._do_expiration()
        return frozenset(
            (cookie.domain, _path_key(cookie.path), cookie.name)
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
        for bucket in self._domains.values():
            yield from bucket.values()

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
        bucket = self._domains[cookie.domain]
        del bucket[cookie.path, cookie.name]
        if not bucket:
            del self._domains[cookie.domain]
        self._count -= 1

    def _do_expiration(self) -> None:
        """Drop every cookie whose expiry time has passed."""
        now = time()
        if now >= self._next_expiry:
            self._expire(now)

    def _expire(self, now: float) -> None:
        heap = self._expiry_heap
        domains = self._domains
        while heap and heap[0][0] <= now:
            cookie = heapq.heappop(heap)[2]
            bucket = domains.get(cookie.domain)
            # Replaced or removed cookies leave their old entry behind; skip those.
            if bucket is not None and bucket.get((cookie.path, cookie.name)) is cookie:
                self._remove(cookie)
        self._next_expiry = heap[0][0] if heap else float("inf")

    def _evict(self, now: float) -> None:
        # 5.3 step 12: expired cookies go first, then the least recently used.
        self._expire(now)
        excess = self._count - _MAX_COOKIES
        if excess <= 0:
            return
        oldest = sorted(self._all(), key=lambda cookie: (cookie.last_used, cookie.created))
        for cookie in oldest[:excess]:
            self._remove(cookie)

    # -- storing -------------------------------------------------------------------------

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY_URL) -> None:
        """Store cookies set by `response_url`; without a host they are shared by all requests."""
        host = response_url.raw_host
        if host is not None and not self._unsafe and _is_ip_address(host):
            return
        items: Iterable[tuple[str, Any]] = (
            cookies.items() if isinstance(cookies, Mapping) else cookies
        )
        specs: list[CookieSpec] = []
        for name, value in items:
            if isinstance(value, Morsel):
                if value.key:
                    specs.append(CookieSpec.from_morsel(value))
            else:
                # Morsel.set() raises CookieError for names http.cookies cannot carry,
                # as SimpleCookie-based jars do.
                probe: Morsel[str] = Morsel()
                text = str(value)
                probe.set(name, text, _quote_value(text)[1])
                specs.append(CookieSpec(name, text, probe.coded_value))
        self._store_all(specs, host, _default_path(response_url.raw_path), None)

    def update_cookies_from_headers(self, headers: Iterable[str], response_url: URL) -> None:
        """Store the cookies of raw Set-Cookie values received from `response_url`."""
        host = response_url.raw_host
        if host is not None and not self._unsafe and _is_ip_address(host):
            return
        specs = [spec for spec in map(parse_set_cookie, headers) if spec is not None]
        if specs:
            self._store_all(specs, host, _default_path(response_url.raw_path), {})

    def _store_all(
        self,
        specs: list[CookieSpec],
        host: str | None,
        default_path: str,
        per_domain: dict[str, int] | None,
    ) -> None:
        now = time()
        for spec in specs:
            self._store(spec, host, default_path, now, per_domain)
        if self._count > _EVICT_ABOVE:
            self._evict(now)

    def _store(
        self,
        spec: CookieSpec,
        host: str | None,
        default_path: str,
        now: float,
        per_domain: dict[str, int] | None,
    ) -> None:
        """RFC 6265 5.3, the storage model, for one cookie."""
        expires = _compute_expiry(spec, now)
        placed = self._resolve_domain(spec.domain, host)
        if placed is None:
            return
        domain, host_only = placed
        path = _resolve_path(spec.path, default_path)

        bucket = self._domains.get(domain)
        key = (path, spec.name)
        old = bucket.get(key) if bucket is not None else None
        if expires is not None and expires <= now:
            # A date in the past is how servers delete a cookie: step 11.4 drops the old
            # one, and the new one is expired, which 5.3 says must never stay stored.
            if old is not None:
                self._remove(old)
            return
        if per_domain is not None and not _take_response_slot(per_domain, domain):
            return

        morsel = _build_shown_morsel(spec, domain, path)
        send = self._build_send_morsel(spec)
        created = self._take_creation_order(old)
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
        self._insert(bucket, key, cookie, old is not None)

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
            coded = _quote_value(value)[1]
        return _new_morsel(spec.name, value, coded)

    def _take_creation_order(self, old: _StoredCookie | None) -> int:
        # Step 11.3: a replacement keeps the creation time of the cookie it replaces.
        if old is not None:
            return old.created
        self._sequence += 1
        return self._sequence

    def _insert(
        self,
        bucket: dict[tuple[str, str], _StoredCookie] | None,
        key: tuple[str, str],
        cookie: _StoredCookie,
        replacing: bool,
    ) -> None:
        """Steps 11.4 and 12: the new cookie takes the old one's slot, or a new one."""
        if bucket is None:
            bucket = self._domains[cookie.domain] = {}
        bucket[key] = cookie
        if not replacing:
            self._count += 1
        if cookie.expires is not None:
            self._schedule(cookie, cookie.expires)

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
        bucket = self._domains.get(cookie.domain)
        return bucket is not None and bucket.get((cookie.path, cookie.name)) is cookie

    # -- sending -------------------------------------------------------------------------

    def _domains_for(self, host: str) -> tuple[str, ...]:
        """The cookie domains that may match `host`: itself, its parents, then ""."""
        if _is_ip_address(host):
            # 5.1.3: an IP address only matches itself.
            candidates: tuple[str, ...] = (host, "")
        else:
            parts = [host]
            dot = host.find(".")
            while dot >= 0:
                parent = host[dot + 1 :]
                if parent:
                    parts.append(parent)
                dot = host.find(".", dot + 1)
            parts.append("")
            candidates = tuple(parts)
        cache = self._host_domains
        if len(cache) >= _HOST_CACHE_SIZE:
            cache.clear()
        cache[host] = candidates
        return candidates

    def filter_cookies(self, request_url: URL = _EMPTY_URL) -> BaseCookie[str]:
        """Return the cookies a request to `request_url` carries, in RFC 6265 5.4 order.

        The Morsels are shared between calls: treat them as read-only.
        """
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
            bucket = domains.get(domain)
            if bucket is None:
                continue
            for cookie in bucket.values():
                if cookie.host_only and domain != host:
                    continue
                if cookie.secure and not secure:
                    continue
                if path != cookie.path and not path.startswith(cookie.path_prefix):
                    continue
                found.append(cookie)
        if not found:
            return result
        if len(found) > 1:
            found.sort(key=_by_order)
        tick = self._tick = self._tick + 1
        # A BaseCookie holds one Morsel per name: the most specific path wins.
        for cookie in found:
            cookie.last_used = tick
            if cookie.name not in result:
                dict.__setitem__(result, cookie.name, cookie.send)
        return result

    # -- persistence ---------------------------------------------------------------------

    def save(self, file_path: PathLike) -> None:
        """Write the cookies to `file_path` as JSON (aiohttp 3.14's layout)."""
        self._do_expiration()
        data: dict[str, dict[str, dict[str, Any]]] = {}
        for cookie in self._all():
            morsel = cookie.morsel
            entry: dict[str, Any] = {
                "key": cookie.name,
                "value": morsel.value,
                "coded_value": morsel.coded_value,
                "path": cookie.path,
            }
            if cookie.domain:
                entry["domain"] = cookie.domain
            for attribute in ("secure", "httponly", "partitioned"):
                if morsel.get(attribute):
                    entry[attribute] = True
            for attribute in ("samesite", "comment", "version"):
                if morsel.get(attribute):
                    entry[attribute] = morsel[attribute]
            if cookie.host_only:
                entry["host_only"] = True
            if cookie.expires is not None:
                entry["expires_timestamp"] = cookie.expires
            group = data.setdefault(f"{cookie.domain}|{_path_key(cookie.path)}", {})
            group[cookie.name] = entry
        # Cookies are credentials: a new file is readable by its owner only.
        descriptor = os.open(file_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2)

    def load(self, file_path: PathLike) -> None:
        """Replace the jar's contents with the cookies saved in `file_path`.

        Raises ValueError (and keeps the current cookies) when the file is not a JSON cookie
        file; individual cookies that break the storage rules or have expired are skipped.
        """
        with open(file_path, "rb") as stream:
            raw = stream.read()
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise ValueError(f"{os.fspath(file_path)!r} is not a JSON cookie file") from exc
        loaded = [_loaded_cookie(entry) for entry in _saved_entries(data)]
        self._reset()
        now = time()
        for spec, host in loaded:
            if spec is not None:
                self._store(spec, host, "/", now, None)
        if self._count > _EVICT_ABOVE:
            self._evict(now)


def _saved_entries(data: Any) -> list[Any]:
    if not isinstance(data, dict):
        raise ValueError("a cookie file holds a JSON object")
    entries: list[Any] = []
    for group in data.values():
        if not isinstance(group, dict):
            raise ValueError("a cookie file groups cookies in JSON objects")
        for entry in group.values():
            if not isinstance(entry, dict):
                raise ValueError("a saved cookie is a JSON object")
            entries.append(entry)
    return entries


def _loaded_cookie(entry: dict[str, Any]) -> tuple[CookieSpec | None, str | None]:
    """One saved entry as (spec, host that set it) for the storage rules; None spec skips it."""
    name = entry.get("key")
    value = entry.get("value")
    if not isinstance(name, str) or not isinstance(value, str):
        raise ValueError("a saved cookie needs a string key and value")
    coded = entry.get("coded_value", value)
    domain = entry.get("domain", "")
    path = entry.get("path", "/")
    expires = entry.get("expires_timestamp")
    if not isinstance(coded, str) or not isinstance(domain, str) or not isinstance(path, str):
        raise ValueError("a saved cookie has string coded_value, domain and path")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, (int, float))):
        raise ValueError("expires_timestamp must be a number")
    host_only = entry.get("host_only") is True
    if (
        not name
        or BAD_NAME_RE.search(name) is not None
        or CTL_RE.search(value) is not None
        or (host_only and not domain)
    ):
        return None, None
    spec = CookieSpec(name, value, coded)
    spec.path = path
    spec.secure = entry.get("secure") is True
    spec.httponly = entry.get("httponly") is True
    spec.partitioned = entry.get("partitioned") is True
    for attribute in ("samesite", "comment", "version"):
        text = entry.get(attribute)
        if isinstance(text, str):
            setattr(spec, attribute, text)
    if expires is not None:
        spec.expires = float(expires)
    if host_only:
        # Stored as if its host had set it again, so the host-only rules apply unchanged.
        return spec, domain.lower()
    spec.domain = domain
    return spec, None


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
