"""The engine contract: what every engine builds on, and all an engine author needs to import.

`Engine` is what the reconciler drives; `Implement` mirrors Fluid's Go interface and
`TemplateEngine` drives it in Fluid's orders; `BaseImplement` answers every method a simple
cache system does not need. The helpers engines share (status, volume, runtime_info, units)
are modules of this package.
"""

from fluidpy.engines.base.base_implement import BaseImplement
from fluidpy.engines.base.context import EngineOptions, ReconcileRequestContext
from fluidpy.engines.base.errors import EngineError, ValidationError, WaitingFor
from fluidpy.engines.base.interfaces import (
    Engine,
    Implement,
    UFSToUpdate,
    UnderFileSystemService,
    go_name,
    interface_methods,
)
from fluidpy.engines.base.runtime_info import RuntimeInfo, fuse_mount_path
from fluidpy.engines.base.template import TemplateEngine

__all__ = [
    "BaseImplement",
    "Engine",
    "EngineError",
    "EngineOptions",
    "Implement",
    "ReconcileRequestContext",
    "RuntimeInfo",
    "TemplateEngine",
    "UFSToUpdate",
    "UnderFileSystemService",
    "ValidationError",
    "WaitingFor",
    "fuse_mount_path",
    "go_name",
    "interface_methods",
]
