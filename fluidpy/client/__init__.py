"""Kubernetes API access with plain dicts: GVK, REST mapping, the Client, API errors, retries.

`Client` is the face most code needs; the rest is exported for the informer and cache and for
callers that branch on errors or match selectors themselves.
"""

from fluidpy.client.client import (
    APPLY_CONTENT_TYPE,
    PATCH_CONTENT_TYPES,
    SECRET,
    Client,
    PatchType,
    deep_copy,
)
from fluidpy.client.connection import ApiServerConnection
from fluidpy.client.errors import (
    AlreadyExists,
    ApiError,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TransportError,
    WatchInactive,
    error_from_response,
    error_from_status,
)
from fluidpy.client.gvk import GVK
from fluidpy.client.mapping import (
    BUILTIN_MAPPINGS,
    NoKindMatch,
    RESTMapper,
    RESTMapping,
    resource_path,
)
from fluidpy.client.ratelimit import TokenBucket
from fluidpy.client.retry import retry_on_conflict
from fluidpy.client.selector import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from fluidpy.client.transport import WriteFence, WriteFenced
from fluidpy.client.watch import ADDED, BOOKMARK, DELETED, ERROR, MODIFIED, WatchStream

__all__ = [
    "ADDED",
    "APPLY_CONTENT_TYPE",
    "BOOKMARK",
    "BUILTIN_MAPPINGS",
    "DELETED",
    "ERROR",
    "GVK",
    "MODIFIED",
    "PATCH_CONTENT_TYPES",
    "SECRET",
    "AlreadyExists",
    "ApiError",
    "ApiServerConnection",
    "Client",
    "Conflict",
    "FieldSelector",
    "Forbidden",
    "Gone",
    "Invalid",
    "LabelSelector",
    "NoKindMatch",
    "NotFound",
    "PatchType",
    "RESTMapper",
    "RESTMapping",
    "TokenBucket",
    "TransportError",
    "WatchInactive",
    "WatchStream",
    "WriteFence",
    "WriteFenced",
    "deep_copy",
    "error_from_response",
    "error_from_status",
    "parse_field_selector",
    "parse_label_selector",
    "resource_path",
    "retry_on_conflict",
]
