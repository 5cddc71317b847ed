"""The request and response classes and the values they carry.

Public module path kept from aiohttp; the classes live in private modules split
along their real seam (building and writing vs. reading). Only names are defined here.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Awaitable, Callable
from typing import Final

from ._client_request import ClientRequest
from ._client_response import ClientResponse
from ._cookie_parsing import (
    parse_cookie_header,
    parse_set_cookie_headers,
    preserve_morsel_with_coded_value,
)
from ._httpversion import HttpVersion, HttpVersion10, HttpVersion11
from ._reqrep_types import ConnectionKey, ContentDisposition, Fingerprint, RequestInfo
from ._upload_tracker import UploadTracker
from .abc import AbstractStreamWriter
from .client_exceptions import (
    ClientConnectionError,
    ClientOSError,
    ClientResponseError,
    ContentTypeError,
    InvalidURL,
    ServerFingerprintMismatch,
    UploadAbortedError,
)
from .compression_utils import HAS_BROTLI, HAS_ZSTD
from .formdata import FormData
from .helpers import (
    BaseTimerContext,
    BasicAuth,
    HeadersMixin,
    TimerNoop,
    noop,
    sentinel,
    set_exception,
    set_result,
)
from .http import SERVER_SOFTWARE
from .http_writer import StreamWriter
from .streams import StreamReader
from .typedefs import (
    DEFAULT_JSON_DECODER,
    JSONDecoder,
    LooseCookies,
    LooseHeaders,
    Query,
    RawHeaders,
)

__all__ = (
    "HAS_BROTLI",
    "HAS_ZSTD",
    "SERVER_SOFTWARE",
    "SSL_ALLOWED_TYPES",
    "AbstractStreamWriter",
    "BaseTimerContext",
    "BasicAuth",
    "ClientConnectionError",
    "ClientHandlerType",
    "ClientOSError",
    "ClientRequest",
    "ClientResponse",
    "ClientResponseError",
    "ConnectionKey",
    "ContentDisposition",
    "ContentTypeError",
    "DEFAULT_JSON_DECODER",
    "Fingerprint",
    "FormData",
    "HeadersMixin",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "InvalidURL",
    "JSONDecoder",
    "LooseCookies",
    "LooseHeaders",
    "Query",
    "RawHeaders",
    "RequestInfo",
    "ServerFingerprintMismatch",
    "StreamReader",
    "StreamWriter",
    "TimerNoop",
    "UploadAbortedError",
    "json_re",
    "noop",
    "parse_cookie_header",
    "parse_set_cookie_headers",
    "preserve_morsel_with_coded_value",
    "sentinel",
    "set_exception",
    "set_result",
    "UploadTracker",
)

# What the `ssl` argument of a request may be.
SSL_ALLOWED_TYPES: Final = (ssl.SSLContext, bool, Fingerprint, type(None))

# JSON media types: application/json and application/<anything>+json (RFC 6839 3.1).
json_re: Final = re.compile(r"^application/(?:[\w.+-]+?\+)?json")

# What a middleware calls to send a request on (client_middlewares re-exports it; it lives
# here, below both middleware modules, so that each of them can name it).
ClientHandlerType = Callable[[ClientRequest], Awaitable[ClientResponse]]
