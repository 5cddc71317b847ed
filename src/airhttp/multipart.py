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

__all__ = (
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BodyPartReader",
    "BodyPartReaderPayload",
    "MultipartReader",
    "MultipartResponseWrapper",
    "MultipartWriter",
    "content_disposition_filename",
    "parse_content_disposition",
)
