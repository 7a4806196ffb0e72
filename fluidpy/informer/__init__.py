"""Informers: a kind's objects listed and watched into an indexed in-memory store, with events.

See fluidpy.informer.shared for how the store is kept right through watch failures, and
fluidpy.cache for the one-informer-per-kind cache that controllers share.
"""

from fluidpy.informer.backoff import Backoff
from fluidpy.informer.shared import (
    EventHandler,
    HandlerFuncs,
    ListWatcher,
    SharedInformer,
    WatchEvents,
    WatchSettings,
    needs_relist,
)
from fluidpy.informer.store import (
    BUILTIN_INDEXERS,
    LABEL_INDEX,
    NAMESPACE_INDEX,
    OWNER_INDEX,
    Change,
    IndexFunc,
    Store,
    diff,
    key_for,
    label_index,
    label_key,
    object_key,
    owner_key,
)
from fluidpy.informer.transform import (
    Transform,
    default_transform,
    keeping,
    share_strings,
    strip_managed_fields,
    without_secret_values,
)

__all__ = [
    "BUILTIN_INDEXERS",
    "LABEL_INDEX",
    "NAMESPACE_INDEX",
    "OWNER_INDEX",
    "Backoff",
    "Change",
    "EventHandler",
    "HandlerFuncs",
    "IndexFunc",
    "ListWatcher",
    "SharedInformer",
    "Store",
    "Transform",
    "WatchEvents",
    "WatchSettings",
    "default_transform",
    "diff",
    "keeping",
    "key_for",
    "label_index",
    "label_key",
    "needs_relist",
    "object_key",
    "owner_key",
    "share_strings",
    "strip_managed_fields",
    "without_secret_values",
]
