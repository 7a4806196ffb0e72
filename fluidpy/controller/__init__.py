"""Controllers: the reconcile contract, watches, predicates, workers and the builder."""

from fluidpy.controller.builder import Builder, ControllerHost
from fluidpy.controller.controller import CacheSyncTimeoutError, Controller, RequestQueue, Source
from fluidpy.controller.handlers import (
    EnqueueHandler,
    MapFunc,
    RequestSink,
    owner_mapper,
    request_for_object,
)
from fluidpy.controller.predicates import (
    And,
    AnnotationsChanged,
    GenerationChanged,
    LabelsChanged,
    LabelSelectorPredicate,
    Not,
    ObjectPredicate,
    Or,
    Predicate,
    ResourceVersionChanged,
)
from fluidpy.controller.reconcile import (
    ReconcileFunc,
    Reconciler,
    ReconcilerFunc,
    Request,
    Result,
    TerminalError,
)

__all__ = [
    "And",
    "AnnotationsChanged",
    "Builder",
    "CacheSyncTimeoutError",
    "Controller",
    "ControllerHost",
    "EnqueueHandler",
    "GenerationChanged",
    "LabelSelectorPredicate",
    "LabelsChanged",
    "MapFunc",
    "Not",
    "ObjectPredicate",
    "Or",
    "Predicate",
    "ReconcileFunc",
    "Reconciler",
    "ReconcilerFunc",
    "Request",
    "RequestQueue",
    "RequestSink",
    "ResourceVersionChanged",
    "Result",
    "Source",
    "TerminalError",
    "owner_mapper",
    "request_for_object",
]
