module github.com/fluidpy/fluidpy/hack/realnode/pause

go 1.26.0
