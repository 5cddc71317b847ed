"""The remembering HPACK coders give exactly what hpack gives, block after block."""

from __future__ import annotations

import hpack
from hypothesis import given, settings
from hypothesis import strategies as st

from airhttp._h2_hpack import CachingDecoder, CachingEncoder, independent_block

_NAMES = st.sampled_from(
    [b":status", b"server", b"date", b"content-type", b"x-a", b"x-b", b"set-cookie", b"etag"]
)
_VALUES = st.sampled_from([b"200", b"404", b"nginx", b"text/plain", b"1", b"22", b"a b c", b""])
_FIELDS = st.lists(st.tuples(_NAMES, _VALUES), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    blocks=st.lists(_FIELDS, min_size=1, max_size=12),
    sizes=st.lists(st.sampled_from([None, 0, 64, 4096]), min_size=12, max_size=12),
    huffman=st.booleans(),
)
def test_encoder_gives_hpacks_bytes_and_decoder_hpacks_fields(
    blocks: list[list[tuple[bytes, bytes]]], sizes: list[int | None], huffman: bool
) -> None:
    """A sequence of blocks, repeated, with table size changes between them."""
    plain, caching = hpack.Encoder(), CachingEncoder()
    reference, decoder = hpack.Decoder(), CachingDecoder()
    for round_ in range(2):
        for i, fields in enumerate(blocks):
            size = sizes[(i + round_) % len(sizes)]
            if size is not None:
                plain.header_table_size = caching.header_table_size = size
            block = plain.encode(fields, huffman=huffman)
            assert caching.encode(fields, huffman=huffman) == block
            expected = reference.decode(block, raw=True)
            assert decoder.decode(block, raw=True) == expected
            assert [tuple(f) for f in expected] == fields


@given(fields=_FIELDS, size=st.sampled_from([0, 4096]))
def test_independence_is_judged_right(fields: list[tuple[bytes, bytes]], size: int) -> None:
    """A block judged independent decodes the same on a fresh decoder and on a used one."""
    encoder = hpack.Encoder()
    encoder.header_table_size = size
    warm = hpack.Decoder()
    warm.header_table_size = size
    first = encoder.encode(fields)
    warm.decode(first, raw=True)
    second = encoder.encode(fields)
    if independent_block(second, zero_table=size == 0):
        fresh = hpack.Decoder()
        fresh.header_table_size = size
        if size == 0:
            fresh.decode(first, raw=True)  # the size update to 0 comes in the first block
        assert fresh.decode(second, raw=True) == warm.decode(second, raw=True)


def test_blocks_that_use_the_dynamic_table_are_not_independent() -> None:
    encoder = hpack.Encoder()
    first = encoder.encode([(b"x-custom", b"value")])  # literal with incremental indexing
    second = encoder.encode([(b"x-custom", b"value")])  # indexed: a dynamic-table entry
    assert not independent_block(first)
    assert not independent_block(second)
    assert independent_block(b"\x88")  # :status 200, static
    assert independent_block(b"\x20\x88", zero_table=True)  # size update to 0, then static
    assert not independent_block(b"\x20\x88")
    assert not independent_block(b"\x3f\xe1\x1f")  # size update to 4096
    assert not independent_block(b"\x0f")  # truncated


def test_a_used_table_does_not_fool_the_decoder_cache() -> None:
    """The same bytes after a table change mean other fields: never taken from memory."""
    encoder, decoder = hpack.Encoder(), CachingDecoder()
    for value in (b"one", b"two"):
        block = encoder.encode([(b"x-a", value)])
        decoder.decode(block, raw=True)
        again = encoder.encode([(b"x-a", value)])  # indexed, points into the table
        assert decoder.decode(again, raw=True) == [(b"x-a", value)]


def test_encoder_memory_follows_the_table() -> None:
    """Cached bytes index the table by position: a new entry shifts them, so no reuse."""
    plain, caching = hpack.Encoder(), CachingEncoder()
    known, new1, new2 = [(b"x-k", b"v")], [(b"x-n1", b"1")], [(b"x-n2", b"2")]
    for fields in (known, known, known, new1, known, new2, known, known):
        assert caching.encode(fields) == plain.encode(fields)


def test_decoder_memory_never_skips_a_table_insertion() -> None:
    """The same bytes twice may insert twice; an index then finds the older entry."""
    inserting = hpack.Encoder().encode([(b"x-a", b"1")])  # literal with incremental indexing
    older_entry = b"\xbf"  # indexed field 63: the second dynamic entry
    reference, decoder = hpack.Decoder(), CachingDecoder()
    for block in (inserting, inserting, older_entry):
        assert decoder.decode(block, raw=True) == reference.decode(block, raw=True)


def test_encoder_memory_knows_the_table_size() -> None:
    """A literal that stored nothing in a table of size 0 stores its field in a larger one."""
    plain, caching = hpack.Encoder(), CachingEncoder()
    field = [(b"server", b"200")]
    steps = [(0, field), (None, field), (64, [(b":status", b"200")]), (None, field), (None, field)]
    for size, fields in steps:
        if size is not None:
            plain.header_table_size = caching.header_table_size = size
        assert caching.encode(fields) == plain.encode(fields)
