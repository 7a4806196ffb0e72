"""The fluidpy command-line tool (lives under cmd/, wired as the `fluidpy` console script)."""
