"""`fluidpy manager`: the controller-manager process, in a pod or against a kubeconfig.

One process runs any subset of the runtime controllers and the Dataset controller (upstream runs
one binary per runtime kind; the `--controllers` flag gives the same choice). Flags that have an
upstream meaning keep upstream's names and defaults; upstream's environment variables are
honoured as defaults of the matching flags.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import prometheus_client
import structlog

from fluidpy import log as fluid_log
from fluidpy.client.config import KubeconfigError, load_api_client
from fluidpy.controllers import (
    BUILTIN_KINDS,
    ControllerOptions,
    RuntimeKind,
    RuntimeReconcilerOptions,
    setup_dataload_controller,
    setup_dataset_controller,
    setup_runtime_controller,
)
from fluidpy.engines.base.context import DEFAULT_MOUNT_ROOT
from fluidpy.manager import LeaderElectionLostError, Manager, ManagerOptions
from fluidpy.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
)

ALL_CONTROLLERS = ["dataset", "dataload", *BUILTIN_KINDS]


class UsageError(Exception):
    """A flag value that cannot work; reported as one line, without a traceback."""


def duration(text: str) -> float:
    """Seconds from `90`, `90s`, `5ms`, `10m` or `1h` (Go-style duration units)."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for suffix in ("ms", "s", "m", "h"):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)


def _resync_default() -> str:
    """FLUID_RUNTIME_RECONCILE_DURATION (seconds; -1 disables), upstream's knob, else 90 s."""
    raw = os.environ.get("FLUID_RUNTIME_RECONCILE_DURATION", "").strip()
    if raw.lstrip("-").isdigit():
        return "0" if int(raw) < 0 else raw
    return "90s"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("manager", help="run the controller manager")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="kubeconfig to use (default: in-cluster config, else $KUBECONFIG or ~/.kube/config)",
    )
    parser.add_argument(
        "--controllers",
        default=",".join(ALL_CONTROLLERS),
        help=f"comma-separated controllers to run (default: all: {','.join(ALL_CONTROLLERS)})",
    )
    parser.add_argument(
        "--engine",
        action="append",
        default=[],
        metavar="KIND=TYPE",
        help="serve a runtime kind with another registered engine type, "
        "e.g. jindoruntime=myjindo (repeatable)",
    )
    parser.add_argument(
        "--metrics-bind-address",
        default=":8080",
        help='Prometheus /metrics (default :8080; "0" disables)',
    )
    parser.add_argument(
        "--health-probe-bind-address",
        default=":8081",
        help='/healthz and /readyz (default :8081; "0" disables)',
    )
    parser.add_argument(
        "--leader-elect",
        action="store_true",
        help="elect a leader through a Lease before reconciling (default off; "
        "turn on when running more than one replica)",
    )
    parser.add_argument("--leader-election-id", default="fluidpy.data.fluid.io")
    parser.add_argument(
        "--leader-election-namespace",
        default=None,
        help="default: the pod's namespace, else fluid-system",
    )
    parser.add_argument(
        "--runtime-workers",
        type=int,
        default=3,
        help="concurrent reconciles per controller (default 3, as upstream)",
    )
    parser.add_argument("--kube-api-qps", type=float, default=20.0, help="default 20")
    parser.add_argument("--kube-api-burst", type=int, default=30, help="default 30")
    parser.add_argument("--workqueue-default-sync-backoff", type=duration, default="5ms")
    parser.add_argument("--workqueue-max-sync-backoff", type=duration, default="1000s")
    parser.add_argument("--workqueue-qps", type=float, default=10.0)
    parser.add_argument("--workqueue-burst", type=int, default=100)
    parser.add_argument(
        "--resync-period",
        type=duration,
        default=_resync_default(),
        help="reconcile healthy runtimes this often as a safety net (default "
        "90s, or FLUID_RUNTIME_RECONCILE_DURATION; 0 disables)",
    )
    parser.add_argument(
        "--mount-root",
        default=os.environ.get("MOUNT_ROOT") or DEFAULT_MOUNT_ROOT,
        help="FUSE mount root on the nodes (default $MOUNT_ROOT or /runtime-mnt)",
    )
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        dest="namespaces",
        help="only watch this namespace (repeatable; default: all namespaces)",
    )
    parser.add_argument("--graceful-shutdown-timeout", type=duration, default="30s")
    fluid_log.add_arguments(parser)
    parser.set_defaults(handler=run)


def selected_kinds(controllers: list[str], engines: list[str]) -> list[RuntimeKind]:
    overrides: dict[str, str] = {}
    for item in engines:
        kind_name, _, engine_type = item.partition("=")
        if kind_name not in BUILTIN_KINDS or not engine_type:
            raise UsageError(
                f"--engine {item!r}: expected KIND=TYPE with KIND one of {', '.join(BUILTIN_KINDS)}"
            )
        overrides[kind_name] = engine_type
    kinds: list[RuntimeKind] = []
    for name in controllers:
        if name not in BUILTIN_KINDS:
            continue
        kind = BUILTIN_KINDS[name]
        kinds.append(kind.with_engine(overrides[name]) if name in overrides else kind)
    return kinds


def selected_controllers(args: argparse.Namespace) -> list[str]:
    controllers = [c.strip() for c in args.controllers.split(",") if c.strip()]
    unknown = sorted(set(controllers) - set(ALL_CONTROLLERS))
    if unknown:
        raise UsageError(
            f"--controllers: unknown {', '.join(unknown)}; known: {', '.join(ALL_CONTROLLERS)}"
        )
    return controllers


def build_manager(args: argparse.Namespace, api_client: Any) -> Manager:
    controllers = selected_controllers(args)
    kinds = selected_kinds(controllers, args.engine)
    os.environ["MOUNT_ROOT"] = args.mount_root
    manager = Manager(
        api_client,
        ManagerOptions(
            leader_election=args.leader_elect,
            leader_election_id=args.leader_election_id,
            leader_election_namespace=args.leader_election_namespace,
            health_probe_bind_address=args.health_probe_bind_address,
            metrics_bind_address=args.metrics_bind_address,
            graceful_shutdown_timeout=args.graceful_shutdown_timeout,
            namespaces=tuple(args.namespaces) or None,
            qps=args.kube_api_qps,
            burst=args.kube_api_burst,
        ),
    )
    options = ControllerOptions(
        workers=args.runtime_workers,
        rate_limiter=lambda: MaxOfRateLimiter(
            ItemExponentialFailureRateLimiter(
                args.workqueue_default_sync_backoff, args.workqueue_max_sync_backoff
            ),
            BucketRateLimiter(args.workqueue_qps, args.workqueue_burst),
        ),
        runtime=RuntimeReconcilerOptions(resync_period=args.resync_period),
    )
    for kind in kinds:
        setup_runtime_controller(manager, kind, options)
    if "dataset" in controllers:
        setup_dataset_controller(manager, options)
    if "dataload" in controllers:
        setup_dataload_controller(manager, kinds, options)
    return manager


def run(args: argparse.Namespace) -> int:
    fluid_log.configure_from_args(args)
    # Series exactly as controller-runtime exports them: no extra *_created samples. A process-wide
    # switch, so it is thrown here, in the process we own, not on import of the library.
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        selected_kinds(selected_controllers(args), args.engine)
        manager = build_manager(args, load_api_client(args.kubeconfig))
    except (UsageError, KubeconfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        manager.run()
    except LeaderElectionLostError as error:
        structlog.get_logger("fluidpy.manager").error("exiting", reason=str(error))
        return 1
    return 0
