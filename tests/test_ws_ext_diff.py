"""ws_ext_gen / ws_ext_parse, airhttp against aiohttp: the same arguments to both, the same outcome.

aiohttp (the oracle) reads Sec-WebSocket-Extensions by rules of its own, looser than RFC
6455 in places and stricter in others; airhttp's copies must give the same result, or
raise the same exception class with the same arguments, for a fixed table of cases and
for header values Hypothesis builds from the grammar's pieces. Pure functions, no I/O.
"""

from __future__ import annotations

import itertools
from types import ModuleType
from typing import Any

import aiohttp
import aiohttp.client
import aiohttp.http
import aiohttp.http_websocket
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import airhttp
import airhttp.http
import airhttp.http_websocket
from airhttp import _ws_deflate

P = "permessage-deflate"
Outcome = tuple[str, Any]


def _outcome(lib: ModuleType, name: str, *args: Any, **kwargs: Any) -> Outcome:
    """`lib.http.<name>(...)`'s result, or its exception as (class, args).

    Each library's WSHandshakeError counts as the same class (aiohttp raises the one of
    aiohttp.http_websocket); anything else must be the same builtin class on both sides.
    """
    try:
        return "result", getattr(lib.http, name)(*args, **kwargs)
    except Exception as exc:
        cls = type(exc)
        if cls is lib.http_websocket.WSHandshakeError:
            return "http_websocket.WSHandshakeError", exc.args
        return f"{cls.__module__}.{cls.__qualname__}", exc.args


def _disagreement(name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...] | None:
    """None if both libraries agree, else the call and both outcomes (for the failure report)."""
    theirs = _outcome(aiohttp, name, *args, **kwargs)
    ours = _outcome(airhttp, name, *args, **kwargs)
    return None if ours == theirs else (args, kwargs, "aiohttp:", theirs, "airhttp:", ours)


def _parse_disagreements(extstr: Any) -> list[tuple[Any, ...]]:
    found = (_disagreement("ws_ext_parse", extstr, isserver) for isserver in (False, True))
    return [each for each in found if each is not None]


# --- the fixed table ------------------------------------------------------------------------

PARSE_CASES: dict[str, list[Any]] = {
    "no-deflate": [
        None,
        "",
        " ",
        ",",
        "foo",
        "x-webkit-deflate-frame",
        "foo, bar",
        "foo bar",
        "garbage!!",
    ],
    # the name: case, surrounding text, list position
    "name": [
        P,
        P.upper(),
        "Permessage-Deflate",
        " " + P,
        P + " ",
        "\t" + P,
        P + ",",
        "," + P,
        "a,," + P,
        "foo, " + P,
        P + ", foo",
        "foo; bar, " + P,
        "x" + P,
        P + "x",
        P + "-x",
        P + P,
        "foo;" + P,
        "foo=" + P,
        ";" + P,
        "foo " + P + " bar",
    ],
    "separators-and-whitespace": [
        P + ";",
        P + " ;",
        P + "; ;",
        P + ";; server_max_window_bits=10",
        P + ";server_max_window_bits=10",
        P + "  ;  server_max_window_bits=10",
        P + "\t;\tserver_max_window_bits=10",
        P + ";  \t server_max_window_bits=9",
        P + ";\xa0server_no_context_takeover",
        P + ";\nserver_no_context_takeover",
        P + ";\x0bclient_no_context_takeover",
        P + ";\x1cclient_no_context_takeover",
        P + ";\u2028server_no_context_takeover",
        P + ";\u200bserver_no_context_takeover",
        P + "; server_max_window_bits = 10",
        P + "; server_max_window_bits= 10",
        P + "; server_max_window_bits =10",
    ],
    # aiohttp's "$" also matches before one final newline
    "line-ends": [
        P + "\n",
        P + "\n\n",
        P + "\r",
        P + " \n",
        P + "\n, x",
        P + "\n;server_no_context_takeover",
        P + ";server_no_context_takeover\n",
        P + "; client_no_context_takeover\n\n",
        P + "; server_max_window_bits=8\n",
        P + ";server_no_context_takeover\u2028",
    ],
    "server_max_window_bits": [
        *(
            f"{P}; server_max_window_bits={v}"
            for v in ("8", "9", "10", "15", "16", "0", "-1", "+9")
        ),
        *(
            f"{P}; server_max_window_bits{v}"
            for v in ("", "=", "=09", '="10"', "=abc", "=9x", "=9;")
        ),
        *(f"{P}; server_max_window_bits={v}" for v in ("\u0661\u0660", "\u0669", "\uff11\uff10")),
        P + "; server_max_window_bits=\xb2",
        P + "; server_max_window_bits=9 ",
        P + "; SERVER_MAX_WINDOW_BITS=10",
    ],
    "client_max_window_bits": [
        *(f"{P}; client_max_window_bits{v}" for v in ("", "=", "=8", "=9", "=15", "=16", "=0009")),
        P + "; client_max_window_bits=\u0661\u0660",
        P + "; client_max_window_bits=" + "9" * 5000,
    ],
    # with and without (forbidden) values
    "no_context_takeover": [
        P + "; client_no_context_takeover",
        P + "; server_no_context_takeover",
        P + "; client_no_context_takeover=1",
        P + "; server_no_context_takeover=1",
        P + "; client_no_context_takeover; server_no_context_takeover",
        P + "; client_max_window_bits=10; server_no_context_takeover",
    ],
    "unknown-and-quoted": [
        P + "; foo",
        P + "; foo=1",
        P + '; a="b,c"',
        P + '; server_max_window_bits="10"',
    ],
    # the last value counts, a bare repeat keeps it
    "repeated": [
        P + "; server_max_window_bits=10; server_max_window_bits=12",
        P + "; server_max_window_bits=10; server_max_window_bits",
        P + "; server_max_window_bits; server_max_window_bits=10",
        P + "; server_max_window_bits=8; server_max_window_bits=10",
        P + "; server_max_window_bits=10; server_max_window_bits=8",
        P + "; client_max_window_bits=10; client_max_window_bits=12",
        P + "; client_max_window_bits=10; client_max_window_bits",
        P + "; client_max_window_bits=8; client_max_window_bits=10",
        P + "; client_max_window_bits=10; client_max_window_bits=8",
        P + "; server_no_context_takeover; server_no_context_takeover",
        P + "; client_max_window_bits=10; server_max_window_bits=12",
        P + "; server_max_window_bits=12; client_max_window_bits=10",
    ],
    # which one wins, which one fails
    "several-offers": [
        P + "; server_max_window_bits=10, " + P,
        P + ", " + P + "; server_max_window_bits=10",
        P + "; server_max_window_bits=8, " + P + "; server_max_window_bits=10",
        P + "; server_max_window_bits=8, " + P + "; server_max_window_bits=16, " + P,
        P + "; server_max_window_bits=8, foo",
        P + "; foo, " + P + "; server_max_window_bits=10",
        P + "; server_max_window_bits=10, " + P + "; foo",
        P + "; client_max_window_bits=8, " + P,
        P + "; client_max_window_bits=10, " + P + "; client_max_window_bits=8",
        P + ";server_max_window_bits=9," + P + ";server_max_window_bits=10",
        P + "; server_no_context_takeover; server_max_window_bits=8",
        P + "; server_no_context_takeover; server_max_window_bits=8, " + P,
        P + "; server_no_context_takeover; client_max_window_bits=8",
        P + "; client_no_context_takeover; client_max_window_bits=8",
        P + ";server_no_context_takeover\n, " + P + "; client_no_context_takeover",
    ],
    "not-a-str": [
        b"permessage-deflate",
        5,
        [],
    ],
}


@pytest.mark.parametrize("group", PARSE_CASES)
def test_parse_agrees_with_aiohttp_on_the_table(group: str) -> None:
    # One test per group, not per case: the per-test leak checks would cost more than the
    # calls; the failure lists every disagreement of the group.
    assert not [each for case in PARSE_CASES[group] for each in _parse_disagreements(case)]


GEN_COMPRESS = [-1, 0, 1, 8, *range(9, 16), 16, 100, True, 9.0, 15.0, float("nan"), None, "9"]


def test_gen_agrees_with_aiohttp_for_every_window() -> None:
    flags = (False, True, 0, None, "yes")
    calls = itertools.product(GEN_COMPRESS, flags, flags)
    assert not [each for args in calls if (each := _disagreement("ws_ext_gen", *args))]


def test_gen_and_parse_defaults_and_keywords_agree_with_aiohttp() -> None:
    assert _disagreement("ws_ext_gen") is None
    assert _disagreement("ws_ext_gen", compress=12, isserver=True, server_notakeover=True) is None
    assert _disagreement("ws_ext_parse", f"{P}; server_no_context_takeover") is None
    offer = f"{P}; server_no_context_takeover"
    assert _disagreement("ws_ext_parse", extstr=offer, isserver=True) is None


# --- the same behaviour in plain values: these do not move if a later aiohttp changes


def test_client_fails_on_the_first_unusable_offer_and_a_server_skips_it() -> None:
    header = f"{P}; foo, {P}; server_max_window_bits=10"
    with pytest.raises(airhttp.http_websocket.WSHandshakeError) as info:
        airhttp.http.ws_ext_parse(header)
    assert str(info.value) == "Extension for deflate not supported; foo"
    assert airhttp.http.ws_ext_parse(header, isserver=True) == (10, False)


def test_each_side_reads_its_own_window_and_flag() -> None:
    header = f"{P}; client_max_window_bits=9; server_max_window_bits=12; server_no_context_takeover"
    assert airhttp.http.ws_ext_parse(header) == (9, False)
    assert airhttp.http.ws_ext_parse(header, isserver=True) == (12, True)


def test_window_outside_9_to_15_fails_a_client_and_is_skipped_by_a_server() -> None:
    with pytest.raises(airhttp.http_websocket.WSHandshakeError, match=r"^Invalid window size$"):
        airhttp.http.ws_ext_parse(f"{P}; client_max_window_bits=8")
    assert airhttp.http.ws_ext_parse(f"{P}; server_max_window_bits=8", isserver=True) == (0, False)


def test_gen_offer_is_the_offer_ws_connect_sends() -> None:
    for bits in range(9, 16):
        assert airhttp.http.ws_ext_gen(bits) == _ws_deflate.extension_offer(bits)
    assert airhttp.http.ws_ext_gen(10, isserver=True, server_notakeover=True) == (
        f"{P}; server_max_window_bits=10; server_no_context_takeover"
    )


def test_both_names_are_exported_where_aiohttp_has_them() -> None:
    for name in ("ws_ext_gen", "ws_ext_parse"):
        assert name in aiohttp.http.__all__ and name in airhttp.http.__all__
        assert getattr(airhttp.http, name) is getattr(_ws_deflate, name)
        # aiohttp.client has them too; airhttp.client's re-export is the lead's.
        assert getattr(aiohttp.client, name) is getattr(aiohttp.http, name)


# --- header values built from the grammar's pieces -------------------------------------------

_NAMES = st.sampled_from(
    [P, P, P, P.upper(), "x-webkit-deflate-frame", "foo", "x" + P, P + "x", "permessage-deflat", ""]
)
_PARAM_NAMES = st.sampled_from(
    [
        "server_max_window_bits",
        "client_max_window_bits",
        "server_no_context_takeover",
        "client_no_context_takeover",
        "Server_Max_Window_Bits",
        "foo",
        P,
        "",
    ]
)
_VALUES = st.one_of(
    st.integers(0, 20).map(str),
    st.sampled_from(["09", "0015", "-1", "+9", '"10"', "abc", "9x", "", "\u0661\u0660", "\xb2"]),
)
_SPACE = st.sampled_from(["", "", "", " ", "  ", "\t", "\n", "\r", "\x0b", "\xa0", "\u2028"])
_JUNK = st.text(st.sampled_from(list(';,=" \t\n\\x9')), max_size=3)


@st.composite
def _param(draw: st.DrawFn) -> str:
    text = draw(_SPACE) + ";" + draw(_SPACE) + draw(_PARAM_NAMES)
    if draw(st.booleans()):
        text += draw(_SPACE) + "=" + draw(_SPACE) + draw(_VALUES)
    return text


@st.composite
def _offer(draw: st.DrawFn) -> str:
    params = draw(st.lists(_param(), max_size=4))
    return draw(_SPACE) + draw(_NAMES) + "".join(params) + draw(st.one_of(_SPACE, _JUNK))


@st.composite
def extension_headers(draw: st.DrawFn) -> str:
    """Offers joined by list separators; now and then a free mix of the same pieces."""
    if draw(st.integers(0, 9)) == 0:
        pieces = st.one_of(_NAMES, _PARAM_NAMES, _VALUES, _SPACE, _JUNK)
        return "".join(draw(st.lists(pieces, max_size=10)))
    offers = draw(st.lists(_offer(), min_size=1, max_size=3))
    return draw(st.sampled_from([",", ", ", " ,", ",,", ",\n"])).join(offers)


@settings(max_examples=200, deadline=None)
@given(extension_headers())
def test_parse_agrees_with_aiohttp_on_generated_headers(extstr: str) -> None:
    assert not _parse_disagreements(extstr)
