"""Saved cookie jars: save()'s JSON entries, and reading them (and aiohttp 3.13's pickles) back.

No storage and no I/O here: the jar reads and writes the file, and applies its rules to
what comes back. A pickle is read by an unpickler that knows the cookie classes only, so
loading a file never runs code.
"""

from __future__ import annotations

import io
import json
import pickle
from collections import defaultdict
from collections.abc import Mapping
from http.cookies import BaseCookie, Morsel, SimpleCookie
from math import isfinite
from typing import Any, Final

from ._cookie_parsing import BAD_NAME_RE, CTL_RE, CookieSpec

__all__ = ("read_cookie_file", "saved_entry")

# Protocols 2 and up (every pickle aiohttp wrote) open with the PROTO opcode.
_PICKLE_PROTOCOL_MARK: Final = b"\x80"
_PICKLE_CLASSES: Final = {
    ("collections", "defaultdict"): defaultdict,
    ("http.cookies", "SimpleCookie"): SimpleCookie,
    ("http.cookies", "BaseCookie"): BaseCookie,
    ("http.cookies", "Morsel"): Morsel,
}


class _NotACookiePickle(ValueError, pickle.UnpicklingError):
    """ValueError like every unreadable cookie file; UnpicklingError as aiohttp raises."""


class _CookieUnpickler(pickle.Unpickler):
    """Rebuilds the {(domain, path): SimpleCookie} aiohttp pickled, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        found = _PICKLE_CLASSES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a cookie file")
        return found


def _legacy_pickle_cookies(raw: bytes, file_name: str) -> list[tuple[CookieSpec, str | None]]:
    """The Morsels of an aiohttp 3.13 pickle file, each as a shared or Domain cookie.

    Those files did not record which cookies were host-only; aiohttp 3.14 reads them all
    as domain cookies too.
    """
    refusal = f"{file_name!r} is not a cookie file"
    try:
        data = _CookieUnpickler(io.BytesIO(raw)).load()
    except Exception as exc:  # every way a hostile or truncated pickle can fail
        raise _NotACookiePickle(refusal) from exc
    if not isinstance(data, Mapping):
        raise _NotACookiePickle(refusal)
    loaded: list[tuple[CookieSpec, str | None]] = []
    for group in data.values():
        if not isinstance(group, BaseCookie):
            raise _NotACookiePickle(refusal)
        for morsel in group.values():
            if isinstance(morsel, Morsel) and isinstance(morsel.key, str) and morsel.key:
                loaded.append((CookieSpec.from_morsel(morsel), None))
    return loaded


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
    if expires is not None and (
        isinstance(expires, bool) or not isinstance(expires, (int, float)) or not isfinite(expires)
    ):
        raise ValueError("expires_timestamp must be a finite number")
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


def read_cookie_file(raw: bytes, file_name: str) -> list[tuple[CookieSpec, str | None]]:
    """The cookies of a saved jar, each with the host that set it (None: a domain cookie).

    JSON as CookieJar.save() writes it, or a pickle file of aiohttp 3.13 and older through
    an unpickler that knows the cookie classes only. ValueError when it is neither, before
    anything is stored; single cookies the jar could never hold are left out.
    """
    if raw[:1] == _PICKLE_PROTOCOL_MARK:
        return _legacy_pickle_cookies(raw, file_name)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise ValueError(f"{file_name!r} is not a JSON cookie file") from exc
    loaded = [_loaded_cookie(entry) for entry in _saved_entries(data)]
    return [(spec, host) for spec, host in loaded if spec is not None]


# Morsel's attribute order, as aiohttp writes it (expires and max-age become
# expires_timestamp).
_SAVED_ATTRIBUTES: Final = (
    "path",
    "comment",
    "domain",
    "secure",
    "httponly",
    "version",
    "samesite",
    "partitioned",
)


def saved_entry(
    name: str, morsel: Morsel[str], host_only: bool, expires: float | None
) -> dict[str, Any]:
    """One stored cookie as save() writes it (aiohttp 3.14's layout)."""
    entry: dict[str, Any] = {
        "key": name,
        "value": morsel.value,
        "coded_value": morsel.coded_value,
    }
    for attribute in _SAVED_ATTRIBUTES:
        if morsel.get(attribute):
            entry[attribute] = morsel[attribute]
    if host_only:
        entry["host_only"] = True
    if expires is not None:
        entry["expires_timestamp"] = int(expires) if expires.is_integer() else expires
    return entry
