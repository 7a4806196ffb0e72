"""The Alluxio-like engine: AlluxioRuntime objects served by a native Alluxio deployment.

`build` is the factory's entry point (`alluxio = "fluidpy.engines.alluxio:build"`); tests point
the CLI at a double through `PACKAGE.exec_transport` (masterworker.testing.exec_transport).
"""

from fluidpy.engines.alluxio.engine import AlluxioEngine
from fluidpy.engines.masterworker.package import EnginePackage

PACKAGE = EnginePackage(AlluxioEngine, "AlluxioRuntime")
build, secondary_watches = PACKAGE.build, PACKAGE.secondary_watches
RUNTIME_GVK, FINALIZER = PACKAGE.runtime_gvk, PACKAGE.finalizer
