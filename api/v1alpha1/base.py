"""The machinery every data.fluid.io/v1alpha1 model shares.

Two promises hold for every model built on `FluidModel`:

* The wire format is Kubernetes': camelCase keys (Python attributes are snake_case), and
  fields we do not model are kept (``extra="allow"``), so a newer Fluid field is never lost
  when a controller reads an object and writes it back.
* `to_dict(Model.from_dict(d)) == d` for any object the API server can return. A field is
  written when the input had it, or when code gave it a value other than its default; fields
  holding ``None`` are never written (the API server never returns nulls for declared fields,
  and for us ``None`` means "absent").

The CRD schema is generated from these models (`fluidpy.api.crdgen`), so a few conventions carry
schema meaning: a non-``None`` scalar default becomes the CRD default, `Field` constraints
become OpenAPI validations, `Field(json_schema_extra=...)` and a model's
``model_config["json_schema_extra"]`` are merged into the generated schema, and attribute
docstrings become descriptions (shown by ``kubectl explain``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from fluidpy.client import GVK

GROUP = "data.fluid.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

Int32 = Annotated[int, Field(json_schema_extra={"format": "int32"})]
"""A Go int32 on the wire; the format tells clients (and kubectl explain) the range."""

Int64 = Annotated[int, Field(json_schema_extra={"format": "int64"})]

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
"""An RFC 3339 timestamp, kept as the string the API server sent so round trips are exact."""

_DECIMAL = r"([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_QUANTITY = rf"[+-]?{_DECIMAL}([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
QUANTITY_PATTERN = f"^{_QUANTITY}$"
"""A Kubernetes resource quantity such as 2Gi, 500m or 1e3."""
QUANTITY_LIST_PATTERN = f"^({_QUANTITY},)*{_QUANTITY},?$"
"""Comma-separated quantities, e.g. "1Gi,2Gi"."""

Quantity = Annotated[int | str, Field(json_schema_extra={"pattern": QUANTITY_PATTERN})]
"""A resource quantity, as a number or a string; kept exactly as written."""

NativeObject = dict[str, Any]
"""A native Kubernetes structure (ResourceRequirements, NodeSelector, Affinity, ...), kept whole.

Its CRD schema preserves unknown fields, so the API server stores exactly what was written and
the Python side hands it on unchanged as a plain dict; the workloads we render validate it.
"""

PodTemplateSpec = Annotated[
    NativeObject,
    Field(
        json_schema_extra={
            "x-kubernetes-embedded-resource": False,
            "properties": {
                "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            },
        }
    ),
]
"""A native PodTemplateSpec, kept whole: its metadata (labels, annotations) is never pruned."""


def _named(*required: str) -> Any:
    """Native list items keep unknown fields but must carry these string fields (names)."""
    properties: JsonDict = {name: {"type": "string"} for name in required}
    return Field(json_schema_extra={"required": list(required), "properties": properties})


EnvVar = Annotated[NativeObject, _named("name")]
Volume = Annotated[NativeObject, _named("name")]
VolumeMount = Annotated[NativeObject, _named("name", "mountPath")]
Toleration = NativeObject
ResourceRequirements = NativeObject


class FluidModel(BaseModel):
    """Base of every model: camelCase on the wire, unknown fields kept, lossless round trips."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
        use_attribute_docstrings=True,
        # Validators are built on a model's first use, not at import: a manager holds only
        # those of the kinds it meets (2.3 MiB less with no runtime at all).
        defer_build=True,
    )

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None or (name not in self.model_fields_set and _untouched(field, value)):
                # An input key equal to a field's alias or name fills that field, so neither
                # can also be an extra: popping whichever is present drops only the field.
                key = field.alias if field.alias in data else name
                data.pop(key, None)
        return data


def _untouched(field: Any, value: Any) -> bool:
    """True when a field nobody set still holds nothing worth writing.

    A nested model counts as untouched when it would serialize to nothing, so mutating a
    default `spec` in place (``ds.spec.mounts.append(...)``) still gets written.
    """
    if isinstance(value, FluidModel):
        return not value.model_dump()
    return bool(value == field.get_default(call_default_factory=True))


class ObjectMeta(FluidModel):
    """The metadata fields our code reads; everything else the API server sends is kept too."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = None
    owner_references: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class PrinterColumn:
    """One `kubectl get` column; priority 0 shows by default, higher ones only with -o wide."""

    name: str
    json_path: str
    type: str = "string"
    priority: int = 0


@dataclass(frozen=True)
class Scale:
    """Where the scale subresource finds replicas (so `kubectl scale` and HPAs work)."""

    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


AGE_COLUMN = PrinterColumn("Age", ".metadata.creationTimestamp", "date")

DNS1035_LABEL = "^[a-z]([-a-z0-9]*[a-z0-9])?$"
DNS1035_MAX_LENGTH = 63
DNS1035_NAME_MESSAGE = (
    "metadata.name must be a DNS-1035 label: at most 63 characters of lower-case letters, "
    "digits and '-', starting with a letter and ending with a letter or digit "
    "(e.g. 'my-data'); choose such a name"
)
DNS1035_NAME_RULE: JsonDict = {
    "rule": f"size(self) <= {DNS1035_MAX_LENGTH} && self.matches('{DNS1035_LABEL}')",
    "message": DNS1035_NAME_MESSAGE,
}
"""Runtimes and Datasets name derived workloads and services, which need DNS-1035 labels."""


def is_dns1035_label(name: str) -> bool:
    """The CRDs' name rule, for objects created where those CRDs did not check it."""
    return len(name) <= DNS1035_MAX_LENGTH and re.fullmatch(DNS1035_LABEL, name) is not None


class Resource(FluidModel):
    """A top-level data.fluid.io/v1alpha1 object: apiVersion, kind and metadata.

    Subclasses declare the CRD facts (names, scope, columns, scale) as class variables, so
    controllers and the CRD generator read them from one place.
    """

    KIND: ClassVar[str]
    PLURAL: ClassVar[str]
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ()
    CATEGORIES: ClassVar[tuple[str, ...]] = ("fluid",)
    NAMESPACED: ClassVar[bool] = True
    PRINTER_COLUMNS: ClassVar[tuple[PrinterColumn, ...]] = ()
    SCALE: ClassVar[Scale | None] = None
    NAME_RULE: ClassVar[JsonDict | None] = None
    """A CEL rule on metadata.name (``self`` is the name), checked by the API server."""

    GROUP: ClassVar[str] = GROUP
    VERSION: ClassVar[str] = VERSION
    API_VERSION: ClassVar[str] = API_VERSION

    api_version: str = API_VERSION
    kind: str = ""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @field_validator("api_version")
    @classmethod
    def _own_api_version(cls, value: str) -> str:
        if value != API_VERSION:
            raise ValueError(f"apiVersion must be {API_VERSION}, not {value!r}")
        return value

    @field_validator("kind")
    @classmethod
    def _own_kind(cls, value: str) -> str:
        if value not in ("", cls.KIND):
            raise ValueError(f"kind must be {cls.KIND}, not {value!r}")
        return value

    def model_post_init(self, context: Any, /) -> None:
        # apiVersion and kind identify the object on the wire, so they are always written.
        self.kind = self.KIND
        self.model_fields_set.update(("api_version", "kind"))

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Self:
        """Build the model from a Kubernetes object as the API server (or a manifest) has it."""
        return cls.model_validate(obj)

    def to_dict(self) -> dict[str, Any]:
        """The object as the API server wants it: camelCase keys, JSON-compatible values."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data

    @classmethod
    def gvk(cls) -> GVK:
        """The kind's GVK, as fluidpy's client, cache and controller builder take it."""
        return GVK(cls.GROUP, cls.VERSION, cls.KIND)

    @classmethod
    def singular(cls) -> str:
        return cls.KIND.lower()

    @classmethod
    def crd_name(cls) -> str:
        return f"{cls.PLURAL}.{cls.GROUP}"
