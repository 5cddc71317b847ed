"""HTML form bodies: urlencoded when every field is plain, multipart/form-data otherwise.

Only collects fields and builds a payload from them; it never writes or sends anything.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlencode

from multidict import MultiDict, MultiDictProxy

from . import hdrs
from .helpers import guess_filename
from .multipart import MultipartWriter
from .payload import BytesPayload, Payload, get_payload

__all__ = ("FormData",)

_URLENCODED: Final = "application/x-www-form-urlencoded"
# CTLs but HTAB (RFC 9110 §5.5): a field name, file name or type holding one
# could end the header line it is written into and inject new ones.
_FORBIDDEN_CHARS: Final = frozenset(map(chr, range(0x20))) - {"\t"} | {"\x7f"}

_Field = tuple[MultiDict[str], dict[str, str], Any]


def _check_header_safe(value: str) -> None:
    if not isinstance(value, str):
        # aiohttp's check is a regular expression: these are its errors for other types.
        if isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError("cannot use a string pattern on a bytes-like object")
        raise TypeError(f"expected string or bytes-like object, got {type(value).__name__!r}")
    if not _FORBIDDEN_CHARS.isdisjoint(value):
        raise ValueError(
            "Forbidden control character detected in headers. Potential header injection attack."
        )


class FormData:
    """Fields of a form, turned into a request body by calling the object."""

    __slots__ = (
        "_charset",
        "_default_to_multipart",
        "_fields",
        "_is_multipart",
        "_quote_fields",
        "_writer",
    )

    def __init__(
        self,
        fields: Iterable[Any] = (),
        quote_fields: bool = True,
        charset: str | None = None,
        *,
        default_to_multipart: bool = False,
    ) -> None:
        self._fields: list[_Field] = []
        self._is_multipart = default_to_multipart
        self._default_to_multipart = default_to_multipart
        self._quote_fields = quote_fields
        self._charset = charset
        # The multipart body, kept until a field is added so calls agree.
        self._writer: MultipartWriter | None = None
        if isinstance(fields, dict):
            fields = list(fields.items())
        elif not isinstance(fields, (list, tuple)):
            fields = (fields,)
        self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        """Whether calling the form gives multipart/form-data."""
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        """Add one field; a file, bytes or any option makes the form multipart."""
        if isinstance(value, io.IOBase):
            self._is_multipart = True
        elif (
            isinstance(value, (bytes, bytearray, memoryview))
            and filename is None
            and content_transfer_encoding is None
        ):
            warnings.warn(
                "In v4, passing bytes will no longer create a file field. "
                "Please explicitly use the filename parameter or pass a BytesIO object.",
                DeprecationWarning,
                stacklevel=2,
            )
            filename = name
        _check_header_safe(name)
        options: MultiDict[str] = MultiDict({"name": name})
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"filename must be an instance of str. Got: {filename}")
        if filename is None and isinstance(value, io.IOBase):
            filename = guess_filename(value) or name
        if filename is not None:
            _check_header_safe(filename)
            options["filename"] = filename
            self._is_multipart = True
        headers: dict[str, str] = {}
        if content_type is not None:
            if not isinstance(content_type, str):
                raise TypeError(f"content_type must be an instance of str. Got: {content_type}")
            _check_header_safe(content_type)
            headers[hdrs.CONTENT_TYPE] = content_type
            self._is_multipart = True
        if content_transfer_encoding is not None:
            if not isinstance(content_transfer_encoding, str):
                raise TypeError(
                    "content_transfer_encoding must be an instance of str. "
                    f"Got: {content_transfer_encoding}"
                )
            # Accepted and ignored, as aiohttp 3.14 does: nothing encodes the field.
            warnings.warn(
                "content_transfer_encoding is deprecated. "
                "To maintain compatibility with v4 please pass a BytesPayload.",
                DeprecationWarning,
                stacklevel=2,
            )
            self._is_multipart = True
        self._fields.append((options, headers, value))
        self._writer = None

    def add_fields(self, *fields: Any) -> None:
        """Add files, multidicts and (name, value) pairs."""
        pending = list(fields)
        while pending:
            field = pending.pop(0)
            if isinstance(field, io.IOBase):
                self.add_field(guess_filename(field) or "unknown", field)
            elif isinstance(field, (MultiDict, MultiDictProxy)):
                pending.extend(field.items())
            elif isinstance(field, (list, tuple)) and len(field) == 2:
                name, value = field
                self.add_field(name, value)
            else:
                raise TypeError(
                    "Only io.IOBase, multidict and (name, file) pairs allowed, "
                    "use .add_field() for passing more complex parameters, "
                    f"got {field!r}"
                )

    def _gen_form_urlencoded(self) -> Payload:
        data = [(options["name"], value) for options, _, value in self._fields]
        charset = self._charset if self._charset is not None else "utf-8"
        content_type = _URLENCODED if charset == "utf-8" else f"{_URLENCODED}; charset={charset}"
        body = urlencode(data, doseq=True, encoding=charset).encode()
        return BytesPayload(body, content_type=content_type)

    def _gen_form_data(self) -> Payload:
        writer = self._writer
        if writer is not None:
            return writer
        writer = MultipartWriter("form-data")
        charset = self._charset
        for options, headers, value in self._fields:
            content_type = headers.get(hdrs.CONTENT_TYPE)
            try:
                # The field's own type (and its charset) shapes the part, as in aiohttp:
                # text is encoded with that charset unless the form names one.
                if content_type is None:
                    part = get_payload(value, headers=headers, encoding=charset)
                else:
                    part = get_payload(
                        value, headers=headers, encoding=charset, content_type=content_type
                    )
            except Exception as exc:
                raise TypeError(
                    f"Can not serialize value type: {type(value)!r}\n"
                    f" headers: {headers!r}\n"
                    f" value: {value!r}"
                ) from exc
            part.set_content_disposition("form-data", quote_fields=self._quote_fields, **options)
            writer.append_payload(part)
        self._writer = writer
        return writer

    def __call__(self) -> Payload:
        if self._is_multipart:
            return self._gen_form_data()
        return self._gen_form_urlencoded()
