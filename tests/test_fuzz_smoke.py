"""Smoke test of the fuzz targets (tests/fuzz/) in plain Python, without atheris.

Every seed file of every target's corpus goes through its `one_input`, then a few hundred
random and mutated inputs from a seeded random.Random per target. The crash-* corpus
files are the bugs the fuzzers found: each is a strict xfail here, so fixing the bug
in src/ turns it into an XPASS that says to drop the mark. The data-provider stand-in is
checked against atheris's own when atheris is installed, and run.py's log reading
against a libFuzzer log.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterator
from http.cookies import CookieError
from pathlib import Path

import pytest

from tests.fuzz import TARGETS, _fdp, _known, corpus_dir
from tests.fuzz._parser_run import ParserBug
from tests.fuzz.fuzz_header_values import HeaderBug
from tests.fuzz.fuzz_websocket import ReaderBug
from tests.fuzz.run import Result, _parse_log

OneInput = Callable[[bytes], None]


def _one_input(target: str) -> OneInput:
    module = importlib.import_module(TARGETS[target])
    return module.one_input  # type: ignore[no-any-return]


def _files(target: str, prefix: str) -> list[Path]:
    return sorted(p for p in corpus_dir(target).iterdir() if p.name.startswith(prefix))


# --- the corpora ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_seed_passes(target: str) -> None:
    seeds = _files(target, "seed-")
    assert len(seeds) >= 15, f"{target} has only {len(seeds)} seeds"
    assert sum(p.stat().st_size for p in seeds) < 16_384, "seed corpora stay small"
    one_input = _one_input(target)
    for path in seeds:
        one_input(path.read_bytes())


def _mutations(rng: random.Random, seeds: list[bytes]) -> Iterator[bytes]:
    """Pure noise, then seeds with bytes flipped, cut, repeated and spliced."""
    for _ in range(150):
        yield rng.randbytes(rng.randrange(0, 120))
    for _ in range(150):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(1, 4)):
            where = rng.randrange(len(data) + 1)
            kind = rng.randrange(4)
            if kind == 0 and data:
                data[min(where, len(data) - 1)] ^= 1 << rng.randrange(8)
            elif kind == 1:
                del data[where : where + rng.randrange(1, 8)]
            elif kind == 2:
                data[where:where] = data[where : where + rng.randrange(1, 16)] * 2
            else:
                data[where:where] = rng.choice(seeds)[: rng.randrange(1, 24)]
        yield bytes(data)


@pytest.mark.parametrize("target", list(TARGETS))
def test_random_inputs(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The known bugs have their own strict xfails below; here only a new one may fail.
    monkeypatch.setattr(_known, "LENIENT", True)
    one_input = _one_input(target)
    seeds = [p.read_bytes() for p in _files(target, "seed-")]
    rng = random.Random(f"airhttp-fuzz-{target}")
    for data in _mutations(rng, seeds):
        one_input(data)


# --- regression inputs of the bugs found (tests/fuzz/_known.py) -------------------------------

_SPLIT = "ResponseParser's error class depends on where the bytes are cut (known bug 1)"
_COOKIE = "the next request raises CookieError for a cookie the jar kept (known bug 2)"
_WS = "the close code for a compressed message depends on where it was cut (known bug 5)"
_CRASHES = {
    ("http_response", "crash-head-bare-cr-or-bad-status"): (_SPLIT, ParserBug),
    ("http_response", "crash-head-long-bad-status"): (_SPLIT, ParserBug),
    ("http_response", "crash-head-bad-status-waits"): (_SPLIT, ParserBug),
    ("chunked", "crash-trailer-long-line-waits"): (_SPLIT, ParserBug),
    ("chunked", "crash-trailer-count-skipped-when-split"): (
        "a split trailer section skipped its field count (known bug 7)",
        Exception,
    ),
    ("set_cookie", "crash-cookie-name-not-a-morsel-key"): (_COOKIE, CookieError),
    ("set_cookie", "crash-cookie-name-reserved"): (_COOKIE, CookieError),
    ("set_cookie", "crash-cookie-name-is-an-attribute"): (
        "the next request raises AttributeError for a cookie named 'path' (known bug 2)",
        AttributeError,
    ),
    ("set_cookie", "crash-escaped-nul-in-quoted-value"): (
        "an escaped NUL in a quoted Set-Cookie value was stored and shown (known bug 6)",
        Exception,
    ),
    ("header_values", "crash-disposition-punycode-charset"): (
        "parse_content_disposition lets a codec's UnicodeError out (known bug 3)",
        UnicodeError,
    ),
    ("header_values", "crash-content-type-slash-in-charset"): (
        "ClientResponse.charset keeps a '/' that aiohttp's reading ends at (known bug 4)",
        HeaderBug,
    ),
    ("websocket", "crash-compressed-close-code-depends-on-cut"): (_WS, ReaderBug),
    ("websocket", "crash-compressed-too-big-or-bad-text"): (_WS, ReaderBug),
}


def test_every_crash_file_is_listed() -> None:
    found = {(target, p.name) for target in TARGETS for p in _files(target, "crash-")}
    assert found == set(_CRASHES)


# Fixed in src/ since the fuzzers found them: their inputs now pass, as regressions.
_FIXED = {f"known bug {n}" for n in range(1, 8)}


@pytest.mark.parametrize(
    ("target", "name"),
    [
        pytest.param(
            target,
            name,
            marks=()
            if any(bug in reason for bug in _FIXED)
            else pytest.mark.xfail(strict=True, raises=error, reason=reason),
        )
        for (target, name), (reason, error) in _CRASHES.items()
    ],
)
def test_crash_input(target: str, name: str) -> None:
    _one_input(target)((corpus_dir(target) / name).read_bytes())


@pytest.mark.parametrize(("target", "name"), list(_CRASHES))
def test_crash_input_is_known(target: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each crash input is exactly a known bug: stepping over those, it passes."""
    monkeypatch.setattr(_known, "LENIENT", True)
    _one_input(target)((corpus_dir(target) / name).read_bytes())


# --- the harness itself ---------------------------------------------------------------------


def _provider_calls(rng: random.Random, provider: _fdp.Provider) -> list[object]:
    out: list[object] = []
    for _ in range(rng.randrange(1, 12)):
        lo = rng.randrange(-5, 300)
        hi = lo + rng.choice((0, 1, 2, 255, 256, 1000, 65535, 65536, 1 << 24))
        out.append(provider.ConsumeIntInRange(lo, hi))
        if rng.random() < 0.2:
            out.append(provider.ConsumeBytes(rng.randrange(0, 5)))
        out.append(provider.remaining_bytes())
    out.append(provider.ConsumeBytes(provider.remaining_bytes()))
    return out


def test_data_provider_reads_like_atheris() -> None:
    atheris = pytest.importorskip("atheris")
    rng = random.Random(7)
    for _ in range(500):
        data = rng.randbytes(rng.randrange(0, 40))
        seed = rng.random()
        ours = _provider_calls(random.Random(seed), _fdp.DataProvider(data))
        theirs = _provider_calls(random.Random(seed), atheris.FuzzedDataProvider(data))
        assert ours == theirs, data


def test_seed_writer_builds_what_the_provider_reads() -> None:
    rng = random.Random(11)
    for _ in range(300):
        ranges = [(lo, lo + rng.choice((0, 1, 7, 255, 256, 70000))) for lo in range(4)]
        values = [rng.randint(lo, hi) for lo, hi in ranges]
        writer = _fdp.SeedWriter()
        for (lo, hi), value in zip(ranges, values, strict=True):
            writer.int_in_range(lo, hi, value)
        payload = rng.randbytes(rng.randrange(0, 20))
        fdp = _fdp.DataProvider(writer.build(payload))
        assert [fdp.ConsumeIntInRange(lo, hi) for lo, hi in ranges] == values
        assert _fdp.take_rest(fdp) == payload


def test_split_keeps_every_byte_in_order() -> None:
    assert _fdp.split(b"abcdef", [4, 2, 2]) == [b"ab", b"cd", b"ef"]
    assert _fdp.split(b"abcdef", [9]) == [b"ab", b"cdef"]  # cut points wrap around
    assert _fdp.split(b"abcdef", [0, 6]) == [b"abcdef"]
    assert _fdp.split(b"", [5]) == []
    assert b"".join(_fdp.split(b"xyz" * 9, [1, 9, 26, 27, 28])) == b"xyz" * 9


_LOG = """\
INFO: Seed: 1
#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 40Mb
#512\tNEW    cov: 120 ft: 345 corp: 9/99b lim: 4 exec/s: 256 rss: 50Mb L: 3/4 MS: 1 ChangeBit-

 === Uncaught Python exception: ===
ParserBug: split input parsed differently:
Traceback (most recent call last):
==1== ERROR: libFuzzer: fuzz target exited
stat::number_of_executed_units: 777
"""


def test_run_reads_the_fuzzer_log() -> None:
    result = Result("http_response")
    _parse_log(_LOG, result)
    _parse_log(_LOG, result)
    assert (result.executions, result.coverage, result.features) == (1554, 120, 345)
    assert result.failures == ["ParserBug: split input parsed differently:"]
