"""What every engine builds on: the interfaces, the TemplateEngine and the shared conventions."""

from fluidpy.engines.base.context import ReconcileRequestContext, mount_root
from fluidpy.engines.base.errors import EngineError, ValidationError, WaitingFor
from fluidpy.engines.base.interfaces import (
    Engine,
    Implement,
    UFSToUpdate,
    UnderFileSystemService,
    go_name,
    interface_methods,
)
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.base.template import TemplateEngine

__all__ = [
    "Engine",
    "EngineError",
    "Implement",
    "ReconcileRequestContext",
    "RuntimeInfo",
    "TemplateEngine",
    "UFSToUpdate",
    "UnderFileSystemService",
    "ValidationError",
    "WaitingFor",
    "go_name",
    "interface_methods",
    "mount_root",
]
