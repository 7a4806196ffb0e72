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
from collections.abc import Callable
from pathlib import Path

import prometheus_client
import structlog

from fluidpy import log as fluid_log
from fluidpy.client import ApiServerConnection, parse_label_selector
from fluidpy.client.config import KubeconfigError, describe_credentials, load_connection
from fluidpy.client.flowcontrol import RateLimit, client_rate_limit, serves_flowcontrol
from fluidpy.controllers import (
    BUILTIN_KINDS,
    CACHE_VIEWS,
    ControllerOptions,
    RuntimeKind,
    RuntimeReconcilerOptions,
    setup_dataload_controller,
    setup_dataset_controller,
    setup_runtime_controller,
)
from fluidpy.controllers.sharding import fluid_ring
from fluidpy.durations import DurationError, duration_from_env, parse_duration
from fluidpy.engines.base.context import (
    DEFAULT_CONFIG_WRITE_INTERVAL,
    DEFAULT_MOUNT_ROOT,
    DEFAULT_SYNC_INTERVAL,
    EngineOptions,
)
from fluidpy.engines.base.limits import DEFAULT_MAX_COMPONENT_REPLICAS
from fluidpy.engines.base.nodes import EXCLUDE_SELECTOR_ENV
from fluidpy.engines.factory import ENTRY_POINT_GROUP, default_factory
from fluidpy.manager import LeaderElectionLostError, Manager, ManagerOptions
from fluidpy.sharding import Shard
from fluidpy.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
)
from fluidpy_cli.apiserver import wait_for_api_server

ALL_CONTROLLERS = ["dataset", "dataload", *BUILTIN_KINDS]


class UsageError(Exception):
    """A flag value that cannot work; reported as one line, without a traceback."""


RESYNC_ENV = "FLUID_RUNTIME_RECONCILE_DURATION"
SYNC_INTERVAL_ENV = "FLUID_SYNC_RETRY_DURATION"
MOUNT_ROOT_ENV = "MOUNT_ROOT"
CONFIG_WRITE_INTERVAL_ENV = "FLUID_RUNTIME_CONFIG_WRITE_INTERVAL"
IMAGE_VARIABLE_SUFFIX = "_IMAGE_ENV"
"""Upstream's image variables end so: ALLUXIO_RUNTIME_IMAGE_ENV, JINDO_FUSE_IMAGE_ENV..."""
DEFAULT_RESYNC_PERIOD = 90.0


def duration(text: str) -> float:
    """A duration flag (`300ms`, `1m30s`, `2h`, or seconds), refused by argparse when bad."""
    try:
        return parse_duration(text)
    except DurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """The flags, else upstream's variables, else the defaults; read once, at start-up."""
    sync_interval: float | None = args.sync_interval
    if sync_interval is None:
        sync_interval = duration_from_env(SYNC_INTERVAL_ENV, DEFAULT_SYNC_INTERVAL)
    return EngineOptions(
        mount_root=args.mount_root or os.environ.get(MOUNT_ROOT_ENV) or DEFAULT_MOUNT_ROOT,
        sync_interval=max(sync_interval, 0.0),
        config_write_interval=max(
            duration_from_env(CONFIG_WRITE_INTERVAL_ENV, DEFAULT_CONFIG_WRITE_INTERVAL), 0.0
        ),
        image_variables={
            name: value
            for name, value in os.environ.items()
            if name.endswith(IMAGE_VARIABLE_SUFFIX) and value
        },
        cache_node_exclude_selector=exclude_selector(),
    )


def exclude_selector() -> str:
    """$SCHEDULE_INFO_EXCLUDE_NODE_SELECTOR, checked here: a bad selector stops the start,
    not every reconcile that labels a node."""
    selector = os.environ.get(EXCLUDE_SELECTOR_ENV, "").strip()
    try:
        parse_label_selector(selector)
    except ValueError as error:
        raise UsageError(f"environment variable {EXCLUDE_SELECTOR_ENV}: {error}") from None
    return selector


def resync_period(args: argparse.Namespace) -> float:
    """--resync-period, else FLUID_RUNTIME_RECONCILE_DURATION (negative disables), else 90 s."""
    period: float | None = args.resync_period
    if period is None:
        period = duration_from_env(RESYNC_ENV, DEFAULT_RESYNC_PERIOD)
    return max(period, 0.0)


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
        "e.g. jindoruntime=myjindo (repeatable; default: each kind's built-in engine)",
    )
    parser.add_argument(
        "--metrics-bind-address",
        default=":8080",
        help='host:port of Prometheus /metrics (default :8080, all interfaces; "0" disables)',
    )
    parser.add_argument(
        "--health-probe-bind-address",
        default=":8081",
        help='host:port of /healthz and /readyz (default :8081, all interfaces; "0" disables)',
    )
    parser.add_argument(
        "--leader-elect",
        action="store_true",
        help="elect a leader through a Lease before reconciling (default off; "
        "turn on when running more than one replica)",
    )
    parser.add_argument(
        "--leader-election-id",
        default="fluidpy.data.fluid.io",
        help="name of the Lease replicas elect a leader on (default fluidpy.data.fluid.io)",
    )
    parser.add_argument(
        "--shards",
        action="store_true",
        help="run as one shard of a ring: every replica reconciles its share of the Datasets "
        "and runtimes, one replica (elected on --leader-election-id) assigns them; implies "
        "a Lease per replica (default off: one leader does all the work)",
    )
    parser.add_argument(
        "--ring",
        default="fluidpy",
        help="the ring's name, in shard labels and Lease names (default fluidpy)",
    )
    parser.add_argument(
        "--shard-id",
        default=None,
        help="this replica's shard id (default: host name plus a random suffix, new for every "
        "process). A fixed id is for tests and benchmarks: never start a second process with "
        "an id whose previous process may have died less than a Lease duration ago",
    )
    parser.add_argument(
        "--leader-election-namespace",
        default=None,
        help="namespace of the Lease (default: the pod's namespace, else fluid-system)",
    )
    parser.add_argument(
        "--runtime-workers",
        type=int,
        default=3,
        help="concurrent reconciles (worker threads) per controller (default 3, as upstream)",
    )
    parser.add_argument(
        "--kube-api-qps",
        type=float,
        default=None,
        help="client-side limit on API requests per second (default: none when the API server "
        "has API Priority and Fairness, i.e. serves flowcontrol.apiserver.k8s.io, which queues "
        "requests fairly itself; else 20, Fluid's setting). Giving this or --kube-api-burst "
        "turns the limit on; 0 or less turns it off",
    )
    parser.add_argument(
        "--kube-api-burst",
        type=int,
        default=None,
        help="requests allowed at once above --kube-api-qps (default 30 whenever a limit applies)",
    )
    parser.add_argument(
        "--workqueue-default-sync-backoff",
        type=duration,
        default="5ms",
        help="first retry delay of a failed key, doubled on each failure; a duration "
        "such as 5ms, 2s, 1m (default 5ms, as upstream)",
    )
    parser.add_argument(
        "--workqueue-max-sync-backoff",
        type=duration,
        default="1000s",
        help="longest retry delay of a failed key; a duration (default 1000s, as upstream)",
    )
    parser.add_argument(
        "--workqueue-qps",
        type=float,
        default=10.0,
        help="retries per second across all keys of a controller (default 10, as upstream)",
    )
    parser.add_argument(
        "--workqueue-burst",
        type=int,
        default=100,
        help="retries allowed at once above --workqueue-qps (default 100, as upstream)",
    )
    parser.add_argument(
        "--resync-period",
        type=duration,
        default=None,
        help=f"reconcile healthy runtimes this often as a safety net; a duration (default "
        f"${RESYNC_ENV}, else 90s; 0 disables)",
    )
    parser.add_argument(
        "--sync-interval",
        type=duration,
        default=None,
        help=f"an engine's slow probes (metadata, cache figures) run at most this often; a "
        f"duration (default ${SYNC_INTERVAL_ENV}, else 5s)",
    )
    parser.add_argument(
        "--max-component-replicas",
        type=int,
        default=DEFAULT_MAX_COMPONENT_REPLICAS,
        help="refuse a runtime component asking for more replicas than this, with a condition "
        f"(default {DEFAULT_MAX_COMPONENT_REPLICAS}: above any real cache cluster, below what "
        "floods a control plane with pods)",
    )
    parser.add_argument(
        "--mount-root",
        default=None,
        help=f"FUSE mount root on the nodes (default ${MOUNT_ROOT_ENV}, else {DEFAULT_MOUNT_ROOT})",
    )
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        dest="namespaces",
        help="only watch this namespace (repeatable; default: all namespaces)",
    )
    parser.add_argument(
        "--graceful-shutdown-timeout",
        type=duration,
        default="30s",
        help="how long queued work may drain after SIGTERM before it is cancelled; a "
        "duration (default 30s, a pod's default termination grace period)",
    )
    fluid_log.add_arguments(parser)
    parser.set_defaults(handler=run)


def selected_kinds(
    controllers: list[str], engines: list[str], known_engines: list[str] | None = None
) -> list[RuntimeKind]:
    """The runtime kinds to run, each with its engine type; `--engine KIND=TYPE` must name a
    registered engine (`known_engines`, default: the factory's), so a typo stops the start-up
    instead of surfacing when the first runtime of that kind appears."""
    known = default_factory.known_types() if known_engines is None else known_engines
    overrides: dict[str, str] = {}
    for item in engines:
        kind_name, _, engine_type = item.partition("=")
        if kind_name not in BUILTIN_KINDS or not engine_type:
            raise UsageError(
                f"--engine {item!r}: expected KIND=TYPE with KIND one of {', '.join(BUILTIN_KINDS)}"
            )
        if engine_type not in known:
            raise UsageError(
                f"--engine {item!r}: no engine {engine_type!r} is registered (known: "
                f"{', '.join(known) or 'none'}); install the package whose entry point in group "
                f"{ENTRY_POINT_GROUP!r} provides it"
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


def api_rate_limit(args: argparse.Namespace, connection: ApiServerConnection) -> RateLimit:
    """The flags' limit, else none against a server with APF (asked once, here), else 20/30."""
    limit = client_rate_limit(
        args.kube_api_qps, args.kube_api_burst, lambda: serves_flowcontrol(connection)
    )
    structlog.get_logger("fluidpy.manager").info(
        "client-side API rate limit",
        qps=limit.qps if limit.limited else "off",
        burst=limit.burst if limit.limited else "off",
    )
    return limit


def build_manager(args: argparse.Namespace, connect: Callable[[], ApiServerConnection]) -> Manager:
    """The manager the flags describe; every flag and variable is checked before `connect`
    gives the connection, so a bad one is reported without touching the cluster."""
    controllers = selected_controllers(args)
    kinds = selected_kinds(controllers, args.engine)
    runtime_options = RuntimeReconcilerOptions(
        resync_period=resync_period(args),
        engine=engine_options(args),
        max_component_replicas=args.max_component_replicas,
    )
    connection = connect()
    rate_limit = api_rate_limit(args, connection)
    manager_options = ManagerOptions(
        leader_election=args.leader_elect,
        leader_election_id=args.leader_election_id,
        leader_election_namespace=args.leader_election_namespace,
        health_probe_bind_address=args.health_probe_bind_address,
        metrics_bind_address=args.metrics_bind_address,
        graceful_shutdown_timeout=args.graceful_shutdown_timeout,
        namespaces=tuple(args.namespaces) or None,
        cache_kinds=CACHE_VIEWS,
        qps=rate_limit.qps,
        burst=rate_limit.burst,
    )
    shard: Shard | None = None
    if args.shards:
        ring = fluid_ring(args.ring, kinds)
        shard = Shard(connection, manager_options, ring, shard_id=args.shard_id)
        manager = shard.manager
    else:
        manager = Manager(connection, manager_options)
    options = ControllerOptions(
        workers=args.runtime_workers,
        rate_limiter=lambda: MaxOfRateLimiter(
            ItemExponentialFailureRateLimiter(
                args.workqueue_default_sync_backoff, args.workqueue_max_sync_backoff
            ),
            BucketRateLimiter(args.workqueue_qps, args.workqueue_burst),
        ),
        runtime=runtime_options,
        wrap=shard.gate if shard is not None else None,
    )
    for kind in kinds:
        setup_runtime_controller(manager, kind, options)
    structlog.get_logger("fluidpy.manager").info(
        "engines", serving={kind.gvk.kind: kind.engine_type for kind in kinds}
    )
    if "dataset" in controllers:
        setup_dataset_controller(manager, options)
    if "dataload" in controllers:
        setup_dataload_controller(manager, kinds, options)
    return manager


def connect(args: argparse.Namespace) -> ApiServerConnection:
    """The connection, once the API server answers (see fluidpy_cli.apiserver)."""
    connection = load_connection(args.kubeconfig)
    wait_for_api_server(
        connection, describe_credentials(args.kubeconfig), args.health_probe_bind_address
    )
    return connection


def run(args: argparse.Namespace) -> int:
    fluid_log.configure_from_args(args)
    # Series exactly as controller-runtime exports them: no extra *_created samples. A process-wide
    # switch, so it is thrown here, in the process we own, not on import of the library.
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        manager = build_manager(args, lambda: connect(args))
    except (UsageError, KubeconfigError, DurationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        manager.run()
    except LeaderElectionLostError as error:
        structlog.get_logger("fluidpy.manager").error("exiting", reason=str(error))
        return 1
    return 0
