"""The body contract: the abstract Payload, and the PayloadRegistry that picks a class for a value.

No concrete kind of body and no default registry here: `payload` holds those and re-exports these.
"""

from __future__ import annotations

import enum
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Callable
from itertools import chain
from typing import Any, ClassVar, Final

from multidict import CIMultiDict

from . import hdrs
from ._head_syntax import FORBIDDEN_IN_HEAD, injection_error
from ._mime import content_disposition_header
from .abc import AbstractStreamWriter
from .typedefs import LooseHeaders

__all__ = ("OCTET_STREAM", "UNSET", "LookupError", "Order", "Payload", "PayloadRegistry", "Unset")

OCTET_STREAM: Final = "application/octet-stream"


class Unset(enum.Enum):
    """The type of UNSET: no content_type argument, which BytesPayload tells apart from None."""

    token = enum.auto()


UNSET: Final = Unset.token


class LookupError(Exception):  # aiohttp's public name, shadowing the builtin on purpose
    """No payload class is registered for the type of the given data."""


class Order(str, enum.Enum):
    """Where a registration is tried relative to the others."""

    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


_Registration = tuple[Callable[..., "Payload"], Any]


class PayloadRegistry:
    """Maps the type of a value to the payload class that can send it.

    Normal registrations are also indexed by exact type, and the latest one for
    a type wins there; subclasses fall back to an isinstance scan in
    registration order.
    """

    __slots__ = ("_first", "_last", "_normal", "_normal_lookup")

    def __init__(self) -> None:
        self._first: list[_Registration] = []
        self._normal: list[_Registration] = []
        self._last: list[_Registration] = []
        self._normal_lookup: dict[type, Callable[..., Payload]] = {}

    def get(
        self,
        data: Any,
        *args: Any,
        _CHAIN: type[chain[_Registration]] = chain,
        **kwargs: Any,
    ) -> Payload:
        """Build the payload for `data`; raise LookupError when no class fits."""
        first = self._first
        if not first:
            # Nothing can pre-empt an exact-type registration: take the fast path.
            exact = self._normal_lookup.get(type(data))
            if exact is not None:
                return exact(data, *args, **kwargs)
        if isinstance(data, Payload):
            return data
        if first:
            for factory, type_ in first:
                if isinstance(data, type_):
                    return factory(data, *args, **kwargs)
            exact = self._normal_lookup.get(type(data))
            if exact is not None:
                return exact(data, *args, **kwargs)
        for factory, type_ in _CHAIN(self._normal, self._last):
            if isinstance(data, type_):
                return factory(data, *args, **kwargs)
        raise LookupError()

    def register(self, factory: type[Payload], type: Any, *, order: Order = Order.normal) -> None:
        """Use `factory` for values of `type` (a type or a tuple of types)."""
        if order is Order.try_first:
            self._first.append((factory, type))
        elif order is Order.normal:
            self._normal.append((factory, type))
            for one in type if isinstance(type, tuple) else (type,):
                self._normal_lookup[one] = factory
        elif order is Order.try_last:
            self._last.append((factory, type))
        else:
            raise ValueError(f"Unsupported order {order!r}")


class Payload(ABC):
    """A request body: a value, its headers, and how to write it out."""

    __slots__ = (
        "__weakref__",
        "_consumed",
        "_content_type",
        "_encoding",
        "_filename",
        "_headers",
        "_size",
        "_value",
    )

    _default_content_type: ClassVar[str] = OCTET_STREAM
    # Whether the payload holds nothing that needs an explicit close().
    _autoclose: ClassVar[bool] = False
    # Whether the class was written outside airhttp (set for each subclass).
    _foreign: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._foreign = not cls.__module__.startswith("airhttp.")

    def __init__(
        self,
        value: Any,
        headers: LooseHeaders | None = None,
        content_type: str | Unset | None = UNSET,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._value: Any = value
        if self._foreign:
            # aiohttp keeps a _size/_consumed that a subclass set before calling us or
            # on the class; ours never do, and reading an unset slot costs ~0.5 us.
            self._size = getattr(self, "_size", None)
            self._consumed = getattr(self, "_consumed", False)
        else:
            self._size = None
            self._consumed = False
        self._encoding = encoding
        self._filename = filename
        if content_type is UNSET or content_type is None:
            guessed = mimetypes.guess_type(filename)[0] if filename is not None else None
            content_type = guessed or self._default_content_type
        self._content_type: str = content_type
        # Headers stay unbuilt until asked for: most bodies only need their type.
        self._headers: CIMultiDict[str] | None = None
        if headers:
            self._headers = self._merge_headers(content_type, headers)

    @staticmethod
    def _merge_headers(content_type: str, headers: LooseHeaders) -> CIMultiDict[str]:
        items = list(CIMultiDict(headers).items())
        merged: CIMultiDict[str] = CIMultiDict()
        # Content-Type leads, as aiohttp emits it; a given one wins over ours.
        given_at = next((i for i, (k, _) in enumerate(items) if k.lower() == "content-type"), -1)
        if given_at == -1:
            merged[hdrs.CONTENT_TYPE] = content_type
        else:
            merged.add(*items.pop(given_at))
        for key, value in items:
            merged.add(key, value)
        return merged

    @property
    def size(self) -> int | None:
        """Body length in bytes, or None when it is unknown in advance."""
        return self._size

    @property
    def filename(self) -> str | None:
        """File name the payload was created with or found on its value."""
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        """Headers describing this body (Content-Type at least)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = CIMultiDict()
            headers[hdrs.CONTENT_TYPE] = self._content_type
        return headers

    @property
    def headers_built(self) -> bool:
        """Whether the `headers` dict has been built; until then Content-Type is the only header.

        While False, a caller that needs only the type can read `content_type` and
        leave the dict unbuilt.
        """
        return self._headers is not None

    @property
    def encoded_headers(self) -> bytes:
        """The headers as a MIME part head: a `Name: value` CRLF line each, then CRLF, UTF-8."""
        headers = self._headers
        if headers is None:
            return f"Content-Type: {self._content_type}\r\n\r\n".encode()
        pairs = headers.items()
        probe = "".join(map("".join, pairs))
        if not probe.isprintable() and FORBIDDEN_IN_HEAD.search(probe) is not None:
            # As aiohttp: a CR or LF would add lines to the part's head.
            raise injection_error("", headers)
        lines = "".join([f"{key}: {value}\r\n" for key, value in pairs])
        return (lines + "\r\n").encode()

    @property
    def encoding(self) -> str | None:
        """Charset used to turn text into these bytes, if any."""
        return self._encoding

    @property
    def content_type(self) -> str:
        """The Content-Type header value."""
        headers = self._headers
        if headers is None:
            return self._content_type
        return headers[hdrs.CONTENT_TYPE]

    @property
    def consumed(self) -> bool:
        """True once the body cannot be written again."""
        return self._consumed

    @property
    def autoclose(self) -> bool:
        """True when the payload holds no resource that needs close()."""
        return self._autoclose

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
    ) -> None:
        """Set the Content-Disposition header (see `content_disposition_header`)."""
        self.headers[hdrs.CONTENT_DISPOSITION] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, **params
        )

    @abstractmethod
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Return the body as text, where that can be done without I/O."""

    @abstractmethod
    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the whole body to `writer`."""

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        """Write at most `content_length` bytes of the body (all when None).

        Subclasses that cannot stop early write everything, as aiohttp's do.
        """
        await self.write(writer)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole body: `decode(encoding)` encoded again (`errors` unused), as in aiohttp."""
        return self.decode(encoding).encode(encoding)

    async def close(self) -> None:
        """Release what the payload holds; it may not be writable afterwards."""
