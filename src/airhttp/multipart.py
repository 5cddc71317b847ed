"""Multipart bodies (RFC 2046 §5.1, RFC 7578): the public home of the reader and writer.

Only re-exports; reading lives in _multipart_reader and writing in _multipart_writer.
"""

from __future__ import annotations

from ._mime import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    content_disposition_filename,
    parse_content_disposition,
)
from ._multipart_reader import (
    BodyPartReader,
    BodyPartReaderPayload,
    MultipartReader,
    MultipartResponseWrapper,
)
from ._multipart_writer import MultipartWriter
from .abc import AbstractStreamWriter
from .compression_utils import Buffer, ZLibCompressor, ZLibDecompressor
from .hdrs import (
    CONTENT_DISPOSITION,
    CONTENT_ENCODING,
    CONTENT_LENGTH,
    CONTENT_TRANSFER_ENCODING,
    CONTENT_TYPE,
)
from .helpers import CHAR, DEFAULT_CHUNK_SIZE, TOKEN, internal_logger, parse_mimetype, reify
from .http_exceptions import BadHttpMessage
from .payload import (
    JsonPayload,
    LookupError,
    Order,
    Payload,
    StringPayload,
    get_payload,
    payload_type,
)
from .streams import StreamReader

__all__ = (
    "CHAR",
    "CONTENT_DISPOSITION",
    "CONTENT_ENCODING",
    "CONTENT_LENGTH",
    "CONTENT_TRANSFER_ENCODING",
    "CONTENT_TYPE",
    "DEFAULT_CHUNK_SIZE",
    "TOKEN",
    "AbstractStreamWriter",
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BadHttpMessage",
    "BodyPartReader",
    "BodyPartReaderPayload",
    "Buffer",
    "JsonPayload",
    "LookupError",
    "MultipartReader",
    "MultipartResponseWrapper",
    "MultipartWriter",
    "Order",
    "Payload",
    "StreamReader",
    "StringPayload",
    "ZLibCompressor",
    "ZLibDecompressor",
    "content_disposition_filename",
    "get_payload",
    "internal_logger",
    "parse_content_disposition",
    "parse_mimetype",
    "payload_type",
    "reify",
)
