"""The engine interfaces, mirrored method for method from Fluid's Go interfaces.

`Engine` is all the RuntimeReconciler talks to. `Implement` is what a cache system's engine
writes; `TemplateEngine` turns any Implement into an Engine by calling its methods in Fluid's
fixed orders. Python names are the snake_case of the Go names (docs/engines.md has the table).

A subclass that misses a method cannot be constructed, and the error names every missing method
with its Go name, so an engine author sees the whole gap at once instead of one AttributeError
per reconcile.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, NoReturn

from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.dataoperation import DataOperation, DataOperationError

GO_ACRONYMS = {"ufs": "UFS", "id": "ID"}
"""Words Go spells in capitals (`ShouldCheckUFS`, `ID`)."""


def go_name(python_name: str) -> str:
    """`check_master_ready` -> `CheckMasterReady`; acronyms stay upper case, as in Go."""
    words = python_name.split("_")
    return "".join(GO_ACRONYMS.get(word, word.capitalize()) for word in words)


class _NamesMissingMethods(ABC):  # noqa: B024 - a mixin for the interfaces below
    """Construction fails with a message naming every abstract method left unimplemented."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        if missing:
            listed = ", ".join(f"{name} ({go_name(name)})" for name in missing)
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__} cannot be built: it does not implement "
                f"{len(missing)} method(s) of {_interface_of(cls)}: {listed}"
            )
        return super().__new__(cls)


def _interface_of(cls: type) -> str:
    names = [base.__name__ for base in cls.__mro__ if base in _INTERFACES]
    return " and ".join(names) or "its interface"


class Engine(_NamesMissingMethods):
    """What the RuntimeReconciler drives (Go: base.Engine)."""

    @abstractmethod
    def id(self) -> str:
        """The engine's key, `<namespace>-<name>`."""

    @abstractmethod
    def setup(self, ctx: ReconcileRequestContext) -> bool:
        """Bring the cache up; True once it is ready and bound to its Dataset."""

    @abstractmethod
    def create_volume(self, ctx: ReconcileRequestContext) -> None: ...

    @abstractmethod
    def delete_volume(self, ctx: ReconcileRequestContext) -> None: ...

    @abstractmethod
    def sync(self, ctx: ReconcileRequestContext) -> float | None:
        """Converge a ready runtime; returns seconds until the engine wants to sync again
        (its slow probes are due), or None when only changes need to wake it."""

    @abstractmethod
    def validate(self, ctx: ReconcileRequestContext) -> None:
        """Raise ValidationError (with the field and the fix) for a spec that cannot work."""

    @abstractmethod
    def shutdown(self, ctx: ReconcileRequestContext) -> None:
        """Tear down everything the engine made outside owner references; safe to repeat."""

    def data_operation_pod_spec(
        self, ctx: ReconcileRequestContext, operation: DataOperation
    ) -> dict[str, Any]:
        """The pod spec of the loader that runs `operation` (Go: DataOperator and
        DataOperatorYamlGenerator.GetDataOperationValueFile). Not abstract: an engine without
        data operations keeps working, and its DataLoads fail saying so."""
        refuse_data_operation(ctx, operation)


def refuse_data_operation(ctx: ReconcileRequestContext, operation: DataOperation) -> NoReturn:
    raise DataOperationError(
        f"the {ctx.runtime_type} engine of {ctx.runtime.get('kind')} {ctx.namespace}/{ctx.name} "
        f"does not run {operation.kind}; use a runtime whose engine does, or implement "
        "data_operation_pod_spec in this engine (docs/writing-an-engine.md)"
    )


class UnderFileSystemService(_NamesMissingMethods):
    """Capacity of the under file systems (Go: base.UnderFileSystemService)."""

    @abstractmethod
    def used_storage_bytes(self) -> int: ...

    @abstractmethod
    def free_storage_bytes(self) -> int: ...

    @abstractmethod
    def total_storage_bytes(self) -> int: ...

    @abstractmethod
    def total_file_nums(self) -> int: ...


@dataclass
class UFSToUpdate:
    """Mount points added to and removed from a Dataset since the engine last mounted them."""

    to_add: list[str] = field(default_factory=list)
    to_remove: list[str] = field(default_factory=list)

    def should_update(self) -> bool:
        return bool(self.to_add or self.to_remove)


class Implement(UnderFileSystemService):
    """What a cache system's engine implements (Go: base.Implement).

    An Implement serves one step of one pass: the TemplateEngine builds it with that pass's
    context, so methods that take no context in Go read the runtime, the Dataset and the
    client from `self.ctx`. BaseImplement (engines.base.base_implement) answers every method a
    simple cache system does not need.
    """

    ctx: ReconcileRequestContext
    """The pass this Implement serves, given at construction and never replaced."""

    @abstractmethod
    def check_master_ready(self) -> bool: ...

    @abstractmethod
    def check_workers_ready(self) -> bool: ...

    @abstractmethod
    def should_setup_master(self) -> bool: ...

    @abstractmethod
    def should_setup_workers(self) -> bool: ...

    @abstractmethod
    def should_check_ufs(self) -> bool: ...

    @abstractmethod
    def setup_master(self) -> None: ...

    @abstractmethod
    def setup_workers(self) -> None: ...

    @abstractmethod
    def update_dataset_status(self, phase: str) -> None: ...

    @abstractmethod
    def prepare_ufs(self) -> None: ...

    @abstractmethod
    def shutdown(self) -> None: ...

    @abstractmethod
    def assign_nodes_to_cache(self, desired: int) -> int:
        """Pick nodes for `desired` cache replicas; returns how many could be placed."""

    @abstractmethod
    def check_runtime_healthy(self) -> None:
        """Raise when the cache is unhealthy (the Dataset then shows it)."""

    @abstractmethod
    def update_cache_of_dataset(self) -> None: ...

    @abstractmethod
    def check_and_update_runtime_status(self) -> bool: ...

    @abstractmethod
    def create_volume(self, ctx: ReconcileRequestContext) -> None: ...

    @abstractmethod
    def sync_replicas(self, ctx: ReconcileRequestContext) -> None: ...

    @abstractmethod
    def sync_metadata(self) -> None: ...

    @abstractmethod
    def delete_volume(self, ctx: ReconcileRequestContext) -> None: ...

    @abstractmethod
    def bind_to_dataset(self) -> None: ...

    @abstractmethod
    def validate(self, ctx: ReconcileRequestContext) -> None: ...

    @abstractmethod
    def check_runtime_ready(self) -> bool:
        """Whether the cache system answers (its CLI works)."""

    @abstractmethod
    def sync_runtime(self, ctx: ReconcileRequestContext) -> bool:
        """Push spec changes into the workloads; True when something changed."""

    @abstractmethod
    def should_sync_dataset_mounts(self) -> bool: ...

    @abstractmethod
    def sync_dataset_mounts(self) -> None: ...

    @abstractmethod
    def should_update_ufs(self) -> UFSToUpdate | None: ...

    @abstractmethod
    def update_on_ufs_change(self, to_update: UFSToUpdate) -> bool: ...

    @abstractmethod
    def sync_schedule_info_to_cache_nodes(self) -> None: ...

    def data_operation_pod_spec(
        self, ctx: ReconcileRequestContext, operation: DataOperation
    ) -> dict[str, Any]:
        """The loader's pod spec for `operation`, as Engine's; refuses unless overridden."""
        refuse_data_operation(ctx, operation)


_INTERFACES = (Engine, UnderFileSystemService, Implement)


def interface_methods(interface: type) -> list[str]:
    """Every method an interface declares, in declaration order, inherited ones first."""
    seen: dict[str, None] = {}
    for klass in reversed(interface.__mro__):
        if klass in _INTERFACES:
            for name, member in vars(klass).items():
                if getattr(member, "__isabstractmethod__", False):
                    seen[name] = None
    return list(seen)
