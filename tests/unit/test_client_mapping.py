"""GVK parsing, REST path building and kind discovery."""

from typing import Any

import pytest

from fluidpy.client import (
    BUILTIN_MAPPINGS,
    GVK,
    NoKindMatch,
    NotFound,
    RESTMapper,
    RESTMapping,
    resource_path,
)
from fluidpy.client.mapping import mappings_from_discovery
from fluidpy.context import Context

POD = GVK("", "v1", "Pod")
NODE = GVK("", "v1", "Node")
STS = GVK("apps", "v1", "StatefulSet")
DATASET = GVK("data.fluid.io", "v1alpha1", "Dataset")


class TestGVK:
    def test_core_api_version_has_no_group(self) -> None:
        assert GVK.of("v1", "Pod") == POD
        assert POD.api_version == "v1"

    def test_grouped_api_version_splits_at_the_slash(self) -> None:
        assert GVK.of("apps/v1", "StatefulSet") == STS
        assert STS.api_version == "apps/v1"

    def test_of_object_reads_api_version_and_kind(self) -> None:
        assert GVK.of_object({"apiVersion": "data.fluid.io/v1alpha1", "kind": "Dataset"}) == DATASET

    @pytest.mark.parametrize("api_version", ["", "/v1", "apps/"])
    def test_malformed_api_version_is_rejected(self, api_version: str) -> None:
        with pytest.raises(ValueError):
            GVK.of(api_version, "X")

    def test_object_without_kind_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="kind"):
            GVK.of_object({"apiVersion": "v1"})


class TestResourcePath:
    pods = BUILTIN_MAPPINGS[POD]
    nodes = BUILTIN_MAPPINGS[NODE]

    def test_core_namespaced_object(self) -> None:
        assert resource_path(self.pods, "ns", "web-0") == "/api/v1/namespaces/ns/pods/web-0"

    def test_grouped_collection(self) -> None:
        mapping = BUILTIN_MAPPINGS[STS]
        assert resource_path(mapping, "ns") == "/apis/apps/v1/namespaces/ns/statefulsets"

    def test_collection_in_all_namespaces_has_no_namespace_segment(self) -> None:
        assert resource_path(self.pods) == "/api/v1/pods"

    def test_cluster_scoped_kind_ignores_the_namespace(self) -> None:
        assert resource_path(self.nodes, "ns", "n1") == "/api/v1/nodes/n1"

    def test_subresource_follows_the_name(self) -> None:
        assert (
            resource_path(self.pods, "ns", "p", "status") == "/api/v1/namespaces/ns/pods/p/status"
        )

    def test_namespaced_object_needs_a_namespace(self) -> None:
        with pytest.raises(ValueError, match="namespaced"):
            resource_path(self.pods, None, "p")

    def test_subresource_needs_a_name(self) -> None:
        with pytest.raises(ValueError):
            resource_path(self.pods, "ns", None, "status")

    @pytest.mark.parametrize("name", ["", ".", ".."])
    def test_names_that_would_change_the_path_are_rejected(self, name: str) -> None:
        with pytest.raises(ValueError):
            resource_path(self.pods, "ns", name)

    def test_special_characters_are_escaped(self) -> None:
        assert resource_path(self.nodes, None, "a/b?c") == "/api/v1/nodes/a%2Fb%3Fc"

    def test_namespace_itself_is_cluster_scoped(self) -> None:
        mapping = BUILTIN_MAPPINGS[GVK("", "v1", "Namespace")]
        assert resource_path(mapping, None, "team-a") == "/api/v1/namespaces/team-a"


DATASET_DISCOVERY: dict[str, Any] = {
    "kind": "APIResourceList",
    "groupVersion": "data.fluid.io/v1alpha1",
    "resources": [
        {"name": "datasets", "namespaced": True, "kind": "Dataset"},
        {"name": "datasets/status", "namespaced": True, "kind": "Dataset"},
        {"name": "cacheruntimeclasses", "namespaced": False, "kind": "CacheRuntimeClass"},
    ],
}


class FakeDiscovery:
    """Serves discovery documents by path and counts the requests."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents
        self.requests: list[str] = []

    def __call__(self, path: str, ctx: Context | None) -> dict[str, Any]:
        self.requests.append(path)
        if path not in self.documents:
            raise NotFound(404, "NotFound", path)
        return self.documents[path]


class TestRESTMapper:
    def test_discovery_document_lists_kinds_but_not_subresources(self) -> None:
        found = mappings_from_discovery("data.fluid.io", "v1alpha1", DATASET_DISCOVERY)
        assert found == [
            RESTMapping(DATASET, "datasets", True),
            RESTMapping(
                GVK("data.fluid.io", "v1alpha1", "CacheRuntimeClass"), "cacheruntimeclasses", False
            ),
        ]

    def test_builtin_kinds_need_no_discovery(self) -> None:
        fetch = FakeDiscovery({})
        mapper = RESTMapper(fetch)
        for gvk in (POD, STS, GVK("coordination.k8s.io", "v1", "Lease")):
            assert mapper.mapping(gvk).gvk == gvk
        assert fetch.requests == []

    def test_unknown_kind_is_discovered_once_per_group_version(self) -> None:
        fetch = FakeDiscovery({"/apis/data.fluid.io/v1alpha1": DATASET_DISCOVERY})
        mapper = RESTMapper(fetch)
        assert mapper.mapping(DATASET) == RESTMapping(DATASET, "datasets", True)
        assert not mapper.mapping(GVK("data.fluid.io", "v1alpha1", "CacheRuntimeClass")).namespaced
        assert mapper.mapping(DATASET).plural == "datasets"
        assert fetch.requests == ["/apis/data.fluid.io/v1alpha1"]

    def test_kind_missing_from_a_cached_group_version_is_looked_up_again(self) -> None:
        fetch = FakeDiscovery({"/apis/data.fluid.io/v1alpha1": {"resources": []}})
        mapper = RESTMapper(fetch)
        with pytest.raises(NoKindMatch):
            mapper.mapping(DATASET)
        fetch.documents["/apis/data.fluid.io/v1alpha1"] = DATASET_DISCOVERY  # the CRD is installed
        assert mapper.mapping(DATASET).plural == "datasets"
        assert len(fetch.requests) == 2

    def test_unknown_group_version_is_no_kind_match(self) -> None:
        mapper = RESTMapper(FakeDiscovery({}))
        with pytest.raises(NoKindMatch, match=r"data\.fluid\.io"):
            mapper.mapping(DATASET)

    def test_core_group_is_discovered_under_api(self) -> None:
        fetch = FakeDiscovery(
            {
                "/api/v1": {
                    "resources": [{"name": "limitranges", "namespaced": True, "kind": "LimitRange"}]
                }
            }
        )
        assert RESTMapper(fetch).mapping(GVK("", "v1", "LimitRange")).plural == "limitranges"
        assert fetch.requests == ["/api/v1"]
