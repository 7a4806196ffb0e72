"""fluidpy: a controller-runtime-style framework for Kubernetes controllers in Python."""
