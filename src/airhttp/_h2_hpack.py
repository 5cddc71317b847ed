"""HPACK coders (RFC 7541) that remember the header blocks they saw: `hpack`'s, plus memory.

A client sends nearly the same request fields over and over, and a server answers with
nearly the same response fields; `hpack` (pure Python, Huffman coding bit by bit) spends
more per request than the rest of the exchange. These coders give the very block (or
fields) again when that is provably what `hpack` would produce:

- a response block is decoded once when it neither reads nor changes the dynamic table
  (only static-table indices and literals without indexing): its fields depend on its
  bytes alone;
- a request's fields are encoded once while the encoder's dynamic table stays as it was
  left after that encoding and no table size change is pending.

Imported only with the `http2` extra (`hpack` comes with `h2`).
"""

from __future__ import annotations

from typing import Any, Final

import hpack

__all__ = ("CachingDecoder", "CachingEncoder", "independent_block")

_STATIC_ENTRIES: Final = 61  # RFC 7541 Appendix A
# Bounds on what is remembered; when full, the memory starts over.
_MAX_BLOCKS: Final = 256
_MAX_BLOCK_SIZE: Final = 4096


def _integer(data: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    """The integer at `pos` with an N-bit prefix (RFC 7541 5.1), and the position after it."""
    mask = (1 << prefix_bits) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def independent_block(data: bytes, zero_table: bool = False) -> bool:
    """True when decoding `data` neither reads nor changes the dynamic table.

    Only indexed fields of the static table and literals without indexing (or never
    indexed) whose names are static or literal qualify (RFC 7541 section 6). With
    `zero_table` (the table's size is 0, as nginx sets it), literals with incremental
    indexing and size updates to 0 qualify too: nothing can be stored. A block this
    cannot read (truncated) is not independent; `hpack` judges it.
    """
    pos = 0
    end = len(data)
    try:
        while pos < end:
            first = data[pos]
            if first & 0x80:  # indexed field
                index, pos = _integer(data, pos, 7)
                if not 0 < index <= _STATIC_ENTRIES:
                    return False
                continue
            if first & 0xC0 == 0x40:  # literal with incremental indexing
                if not zero_table:
                    return False
                index, pos = _integer(data, pos, 6)
            elif first & 0xE0 == 0x20:  # dynamic table size update
                size, pos = _integer(data, pos, 5)
                if size or not zero_table:
                    return False
                continue
            else:  # literal without indexing, or never indexed
                index, pos = _integer(data, pos, 4)
            if index > _STATIC_ENTRIES:
                return False
            for _ in range(1 if index else 2):  # the name when literal, then the value
                length, pos = _integer(data, pos, 7)
                pos += length
            if pos > end:
                return False
    except IndexError:
        return False
    return True


class CachingDecoder(hpack.Decoder):
    """hpack's decoder; blocks independent of the dynamic table are decoded once."""

    def __init__(self, max_header_list_size: int = 2**16) -> None:
        super().__init__(max_header_list_size)
        # Blocks independent of any table, and those independent of a table of size 0.
        self._blocks: dict[bytes, list[Any]] = {}
        self._zero_table_blocks: dict[bytes, list[Any]] = {}
        # The fields of the block decoded last, None while one fails to decode.
        self.last: list[Any] | None = None

    def decode(self, data: bytes, raw: bool = False) -> Any:
        self.last = None
        if not raw:
            return super().decode(data, raw)
        key = bytes(data)
        zero_table = self.header_table.maxsize == 0
        blocks = self._zero_table_blocks if zero_table else self._blocks
        fields = blocks.get(key)
        if fields is not None:
            self.last = list(fields)
            return self.last
        decoded = list(super().decode(data, raw))
        if len(key) <= _MAX_BLOCK_SIZE and independent_block(key, zero_table):
            if len(blocks) >= _MAX_BLOCKS:
                blocks.clear()
            blocks[key] = list(decoded)
        self.last = decoded
        return decoded


class CachingEncoder(hpack.Encoder):
    """hpack's encoder; fields encoded without changing the table are encoded once."""

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[tuple[Any, ...], tuple[bytes, tuple[int, int, object]]] = {}

    def _table_state(self) -> tuple[int, int, object]:
        # Entries are only added at the front and evicted at the back: the length and
        # the newest entry (by identity) tell whether anything changed; the size, whether
        # a field that was not stored would be now.
        table = self.header_table
        entries = table.dynamic_entries
        return table.maxsize, len(entries), entries[0] if entries else None

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        if not huffman or self.header_table.resized or isinstance(headers, dict):
            return super().encode(headers, huffman)
        key = tuple(headers)
        state = self._table_state()
        known = self._blocks.get(key)
        if known is not None:
            block, then = known
            if then[:2] == state[:2] and then[2] is state[2]:
                return block
        block = super().encode(key, huffman)
        after = self._table_state()
        if after[:2] == state[:2] and after[2] is state[2] and len(block) <= _MAX_BLOCK_SIZE:
            if len(self._blocks) >= _MAX_BLOCKS:
                self._blocks.clear()
            self._blocks[key] = (block, after)
        return block
