"""Tests for airhttp.hdrs: the header-name and method constants."""

from __future__ import annotations

import itertools

import pytest
from multidict import CIMultiDict, istr

from airhttp import hdrs

aiohttp_hdrs = pytest.importorskip("aiohttp.hdrs")


def _public_constants(module: object) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, (str, frozenset, set))
    }


def test_every_aiohttp_constant_exists_with_the_same_value() -> None:
    ours = _public_constants(hdrs)
    theirs = _public_constants(aiohttp_hdrs)
    missing = sorted(set(theirs) - set(ours))
    assert not missing
    different = sorted(name for name in theirs if ours[name] != theirs[name])
    assert not different


def test_header_names_are_istr_with_their_canonical_spelling() -> None:
    for name, value in _public_constants(aiohttp_hdrs).items():
        if isinstance(value, istr):
            ours = getattr(hdrs, name)
            assert isinstance(ours, istr), name
            assert str(ours) == str(value), name


def test_header_constant_matches_any_case_in_a_multidict() -> None:
    headers = CIMultiDict({"content-type": "text/plain", "WWW-AUTHENTICATE": "Digest"})
    assert headers[hdrs.CONTENT_TYPE] == "text/plain"
    assert headers[hdrs.WWW_AUTHENTICATE] == "Digest"


def test_meth_all_holds_every_method_but_the_wildcard() -> None:
    assert isinstance(hdrs.METH_ALL, frozenset)
    expected = {"CONNECT", "HEAD", "GET", "DELETE", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
    assert expected == hdrs.METH_ALL
    assert hdrs.METH_ANY == "*"
    assert hdrs.METH_ANY not in hdrs.METH_ALL


def test_host_all_lists_every_case_spelling_of_host() -> None:
    spellings = {"".join(chars) for chars in itertools.product(*((c, c.upper()) for c in "host"))}
    assert spellings == hdrs.HOST_ALL
    assert len(hdrs.HOST_ALL) == 16
    assert "hOsT" in hdrs.HOST_ALL
    assert "hosts" not in hdrs.HOST_ALL
