"""The Jindo-like engine: JindoRuntime objects served by a native JindoCache deployment.

`build` is the factory's entry point (`jindo = "fluidpy.engines.jindo:build"`); tests point the
CLI at a double through `PACKAGE.exec_transport` (masterworker.testing.exec_transport).
"""

from fluidpy.engines.jindo.engine import JindoEngine
from fluidpy.engines.masterworker.package import EnginePackage

PACKAGE = EnginePackage(JindoEngine, "JindoRuntime")
build, secondary_watches = PACKAGE.build, PACKAGE.secondary_watches
RUNTIME_GVK, FINALIZER = PACKAGE.runtime_gvk, PACKAGE.finalizer
