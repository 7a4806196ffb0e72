"""The Master/Worker family: engines whose cache is a master, workers and a FUSE client driven
through a CLI (Alluxio, Jindo). Built on the engine contract in fluidpy.engines.base."""
