"""The request and response classes and the values they carry.

Public module path kept from aiohttp; the classes live in private modules split
along their real seam (building and writing vs. reading).
"""

from ._client_request import ClientRequest
from ._client_response import ClientResponse
from ._reqrep_types import ConnectionKey, ContentDisposition, Fingerprint, RequestInfo

__all__ = (
    "ClientRequest",
    "ClientResponse",
    "ConnectionKey",
    "ContentDisposition",
    "Fingerprint",
    "RequestInfo",
)
