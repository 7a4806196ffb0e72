"""A real Kubernetes control plane on loopback, for tests and local development.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler run as separate processes built
from the published Go modules (hack/localcluster), and kwok plays the kubelet of N fake nodes:
pods get scheduled, become Running and Ready, and are removed once deleted, so StatefulSets,
DaemonSets, Deployments, garbage collection and namespace deletion behave as on a real cluster.

Every component logs to a file in the cluster's directory. Components are started with a
parent-death signal, so an interrupted or killed test run leaves no process behind; the thread
that calls start() must outlive the cluster (the main thread, in practice).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_after_delay,
    wait_exponential,
)

from fluidpy.testing._binaries import Binaries, find_binaries
from fluidpy.testing._pki import PKIFiles, issue_certificate, write_kubeconfig, write_pki
from fluidpy.testing.kwok_exec import (
    KUBELET_HOST,
    KUBELET_IP,
    command_search_path,
    render_cluster_exec,
)
from fluidpy.testing.loader_stages import LOADER_STAGES
from fluidpy.testing.realnode import (
    NODE_DIRECTORY,
    NODE_NAME,
    RealNode,
    find_realnode_binaries,
)

if TYPE_CHECKING:
    from fluidpy.client.connection import ApiServerConnection

SERVICE_CIDR = "10.0.0.0/24"
POD_CIDR = "10.244.0.0/16"
"""Pod IPs kwok hands out; disjoint from the service range so the two never collide."""
FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node"
START_TIMEOUT = float(os.environ.get("FLUIDPY_LOCALCLUSTER_START_TIMEOUT", "180"))
"""Seconds each start-up phase may take. Generous: on a loaded 2-core machine the API server's
first boot (RBAC bootstrap, system namespaces) alone can take most of a minute."""


class ClusterStartError(RuntimeError):
    """A component did not become healthy; the message carries the tail of its log."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(
    what: str,
    probe: Callable[[], bool],
    timeout: float,
    alive: Callable[[], str | None] = lambda: None,
) -> None:
    """Poll `probe` until it is true; fail early when `alive` reports a dead component.

    The pause grows from 50 ms by half each time up to 0.5 s: a component that is up at once
    is seen at once, one that takes a minute costs two polls a second.
    """

    def attempt() -> bool:
        with contextlib.suppress(Exception):
            if probe():
                return True
        failure = alive()
        if failure:
            raise ClusterStartError(f"{what}: {failure}")
        return False

    def timed_out(state: RetryCallState) -> None:
        raise ClusterStartError(f"{what}: not ready after {timeout:.0f} s")

    Retrying(
        retry=retry_if_result(lambda ready: not ready),
        stop=stop_after_delay(timeout),
        wait=wait_exponential(multiplier=0.05, exp_base=1.5, max=0.5),
        retry_error_callback=timed_out,
        reraise=True,
    )(attempt)


@dataclass
class _Component:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    """Variables the process gets in place of ours (it inherits the rest)."""
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = self.argv
        setpriv = shutil.which("setpriv")
        if setpriv:
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **self.env} if self.env else None,
            )

    def failure(self) -> str | None:
        """Why the component is not running, with its last log lines; None while it runs."""
        if self.process is None or self.process.poll() is None:
            return None
        return (
            f"{self.name} exited with code {self.process.returncode}; last lines of "
            f"{self.log_path}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class _Ports:
    etcd: int = field(default_factory=_free_port)
    etcd_peer: int = field(default_factory=_free_port)
    apiserver: int = field(default_factory=_free_port)
    controller_manager: int = field(default_factory=_free_port)
    scheduler: int = field(default_factory=_free_port)
    kwok: int = field(default_factory=_free_port)


class LocalCluster:
    """A control plane of real Kubernetes components on loopback, with fake nodes.

    `LocalCluster(nodes=3).start()` builds nothing: it runs the binaries hack/localcluster/build.sh
    produced (or envtest's, from KUBEBUILDER_ASSETS: API server and etcd only). With
    `LocalCluster.existing(kubeconfig)` nothing is started and an existing cluster is used.
    """

    def __init__(
        self,
        *,
        name: str = "fluidpy",
        nodes: int = 3,
        directory: Path | None = None,
        binaries: Binaries | None = None,
        crds: Sequence[Mapping[str, Any]] = (),
        real_node: bool = False,
        exec_path: Sequence[Path] = (),
    ) -> None:
        """`real_node` (default False: it needs Linux, root and `make realnode`) adds a node
        with a real kubelet and containerd beside the fake ones; see fluidpy.testing.realnode.

        `exec_path` (default none: exec into a pod on a fake node fails, and nothing runs on the
        host) lists the directories where a command exec'd into such a pod is looked up; it then
        runs on the host (see fluidpy.testing.kwok_exec)."""
        self.name = name
        self.exec_path = [path.resolve() for path in exec_path]
        self.nodes = nodes
        self.real_node = real_node
        self.node: RealNode | None = None
        self.crds = list(crds)
        self._own_directory = directory is None
        base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
        self.dir = directory or Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))
        self._binaries = binaries
        self._ports = _Ports()
        self._components: dict[str, _Component] = {}
        self._pki: PKIFiles | None = None
        self.kubeconfig = self.dir / "admin.kubeconfig"
        self._existing = False
        self._atexit_registered = False
        self._admin: Any = None

    @classmethod
    def existing(cls, kubeconfig: Path) -> LocalCluster:
        """Use a running cluster (envtest's USE_EXISTING_CLUSTER); start() and stop() do nothing."""
        cluster = cls(directory=kubeconfig.parent)
        cluster.kubeconfig = kubeconfig
        cluster._existing = True
        return cluster

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self._ports.apiserver}"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self._ports.etcd}"

    @property
    def has_nodes(self) -> bool:
        """Whether pods can be scheduled and become Ready (not with envtest's binaries)."""
        return self._existing or "kwok" in self._components

    def start(self, progress: Callable[[str], None] = lambda _: None) -> LocalCluster:
        if self._existing:
            return self
        binaries = self._binaries or find_binaries()
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        started = time.monotonic()
        try:
            progress("generating certificates")
            self._pki = write_pki(self.dir / "pki")
            write_kubeconfig(self.kubeconfig, self.server, self._pki, self.name)
            self._write_scheduler_config()
            if self.real_node:
                self.node = RealNode(
                    self.dir / NODE_DIRECTORY,
                    self.server,
                    self._pki,
                    find_realnode_binaries(binaries.directory),
                )
            self._define_components(binaries)

            progress("starting etcd")
            self._run("etcd")
            self._wait_healthy("etcd", self._etcd_healthy)
            progress("starting kube-apiserver")
            self._run("kube-apiserver")
            self._wait_apiserver()
            if self.crds:
                progress(f"installing {len(self.crds)} CustomResourceDefinitions")
                self.install_crds(self.crds)
            controllers = [
                n for n in ("kube-controller-manager", "kube-scheduler") if n in self._components
            ]
            for name in controllers:
                progress(f"starting {name}")
                self._run(name)
            if "kube-controller-manager" in self._components:
                self._wait_healthy(
                    "kube-controller-manager",
                    lambda: self._https_ok(self._ports.controller_manager, "/healthz"),
                )
            if "kube-scheduler" in self._components:
                self._wait_healthy(
                    "kube-scheduler", lambda: self._https_ok(self._ports.scheduler, "/healthz")
                )
            if "kube-controller-manager" in self._components:
                self._wait_healthy(
                    "kube-controller-manager (default service account)",
                    lambda: (
                        self.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
                        is not None
                    ),
                    component="kube-controller-manager",
                )
            if "kwok" in self._components:
                progress(f"starting kwok with {self.nodes} fake nodes")
                self._run("kwok")
                self._create_nodes()
                self._wait_healthy(
                    "fake nodes Ready and schedulable", self._nodes_ready, component="kwok"
                )
            if self.node is not None:
                self.node.start(
                    lambda: _node_schedulable(self.request("GET", f"/api/v1/nodes/{NODE_NAME}")),
                    progress,
                )
        except BaseException:
            self.stop()
            raise
        progress(f"cluster ready in {time.monotonic() - started:.1f} s")
        (self.dir / "ready").write_text(json.dumps(self.describe()))
        return self

    def describe(self) -> dict[str, Any]:
        """What a running cluster is made of: where to reach it and which processes it runs."""
        return {
            "name": self.name,
            "kubeconfig": str(self.kubeconfig),
            "server": self.server,
            "ports": sorted(vars(self._ports).values()),
            "processes": {
                **{
                    name: component.process.pid
                    for name, component in self._components.items()
                    if component.process is not None
                },
                **(self.node.processes if self.node is not None else {}),
            },
        }

    def stop(self) -> None:
        """Stop every component (newest first) and remove the cluster's directory if we made it."""
        if self._admin is not None:
            self._admin.connection.close()
            self._admin = None
        if self._existing:
            return
        if self.node is not None:
            self.node.stop()
        for component in reversed(list(self._components.values())):
            component.stop()
        if self._own_directory and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def restart_apiserver(self) -> None:
        """Stop kube-apiserver and start it again on the same port, waiting until it is ready.

        Every open watch breaks, and the API server's watch cache starts afresh from etcd.
        """
        self._require_managed("restart the API server")
        self._components["kube-apiserver"].stop()
        self._run("kube-apiserver")
        self._wait_apiserver()

    def compact_etcd(self) -> int:
        """Compact etcd's history up to its current revision and return that revision.

        Watches that resume from an older resourceVersion then get 410 Gone (once the API
        server's watch cache no longer holds it, e.g. after restart_apiserver()).
        """
        self._require_managed("compact etcd")
        key = base64.b64encode(b"/registry").decode()
        header = self._etcd_post("/v3/kv/range", {"key": key, "limit": 1})["header"]
        revision = int(header["revision"])
        self._etcd_post("/v3/kv/compaction", {"revision": revision, "physical": True})
        return revision

    def install_crds(self, crds: Sequence[Mapping[str, Any]]) -> None:
        """Apply CRDs and wait until they are served.

        Pass CRDs to the constructor rather than installing them later when you can: they are then
        installed before kube-controller-manager starts, so its garbage collector knows their kinds
        from the start. A CRD added later reaches the collector only at its next discovery pass
        (every 30 s), and until then objects owned by custom resources are not collected.
        """
        for crd in crds:
            name = crd["metadata"]["name"]
            self.request(
                "PATCH",
                f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
                "?fieldManager=fluidpy-localcluster&force=true",
                crd,
                content_type="application/apply-patch+yaml",
            )
        names = [crd["metadata"]["name"] for crd in crds]
        _wait_until(
            "CustomResourceDefinitions established",
            lambda: all(self._established(name) for name in names),
            START_TIMEOUT,
        )

    def _established(self, name: str) -> bool:
        crd = self.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        conditions = ((crd or {}).get("status") or {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    def log_path(self, component: str) -> Path:
        return self._components[component].log_path

    def connection(self, *, token: str | None = None) -> ApiServerConnection:
        """A new connection: the admin user's, or with `token` a bearer token's (a
        ServiceAccount's, to test what its RBAC allows)."""
        from fluidpy.client.config import load_connection

        return load_connection(self.kubeconfig, token=token)

    def service_account_token(self, namespace: str, name: str, seconds: int = 3600) -> str:
        """A token for a ServiceAccount, from the TokenRequest API (as a pod would get one)."""
        answer = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": seconds},
            },
        )
        if answer is None:
            raise LookupError(f"no ServiceAccount {namespace}/{name}")
        return str(answer["status"]["token"])

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> Any:
        """One admin request to the API server; the decoded body, or None on 404.

        For the cluster's own plumbing and test set-up. It is configured from the kubeconfig, so
        it works the same on a cluster this process started and on an existing one.
        """
        from fluidpy.client.errors import NotFound
        from fluidpy.client.transport import Transport

        if self._admin is None:
            self._admin = Transport(self.connection(), qps=0, burst=0, request_timeout=30.0)
        bare_path, _, query = path.partition("?")
        try:
            return self._admin.request(
                method,
                bare_path,
                query=urllib.parse.parse_qsl(query),
                body=None if body is None else json.dumps(body).encode(),
                content_type=content_type if body is not None else None,
            )
        except NotFound:
            return None

    def _require_managed(self, action: str) -> None:
        if self._existing:
            raise RuntimeError(f"cannot {action} of an existing cluster this process did not start")

    def _run(self, name: str) -> None:
        self._components[name].start()

    def _wait_healthy(
        self,
        what: str,
        probe: Callable[[], bool],
        component: str | None = None,
    ) -> None:
        owner = self._components[component or what]
        _wait_until(what, probe, START_TIMEOUT, owner.failure)

    def _wait_apiserver(self) -> None:
        self._wait_healthy(
            "kube-apiserver", lambda: self._https_ok(self._ports.apiserver, "/readyz", verify=True)
        )
        self._wait_healthy(
            "kube-apiserver (default namespace)",
            lambda: self.request("GET", "/api/v1/namespaces/default") is not None,
            component="kube-apiserver",
        )

    def _define_components(self, binaries: Binaries) -> None:
        pki = self._pki
        assert pki is not None
        ports, d = self._ports, self.dir
        etcd = binaries.path("etcd")
        apiserver = binaries.path("kube-apiserver")
        assert etcd is not None and apiserver is not None
        defined: dict[str, list[str]] = {
            "etcd": [
                str(etcd),
                "--name=default",
                f"--data-dir={d / 'etcd'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{ports.etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{ports.etcd_peer}",
                f"--initial-cluster=default=http://127.0.0.1:{ports.etcd_peer}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
                "--quota-backend-bytes=4294967296",
            ],
            "kube-apiserver": [
                str(apiserver),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports.apiserver}",
                # Loopback advertise address plus no endpoint reconciler: the only combination
                # that starts on a machine without a default route.
                "--advertise-address=127.0.0.1",
                "--endpoint-reconciler-type=none",
                f"--tls-cert-file={pki.apiserver_cert}",
                f"--tls-private-key-file={pki.apiserver_key}",
                f"--client-ca-file={pki.ca_cert}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.service_account_public_key}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # A real node's kubelet is authorized as nodes are on real clusters.
                "--authorization-mode=" + ("Node,RBAC" if self.node is not None else "RBAC"),
                "--allow-privileged=true",
                "--profiling=false",
                f"--cert-dir={d / 'apiserver-certs'}",
                "--v=1",
                *self._write_kubelet_pki(),
                *(self.node.write_pki() if self.node is not None else []),
            ],
        }
        controller_manager = binaries.path("kube-controller-manager")
        if controller_manager is not None:
            defined["kube-controller-manager"] = [
                str(controller_manager),
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports.controller_manager}",
                f"--cert-dir={d / 'controller-manager-certs'}",
                "--leader-elect=false",
                "--use-service-account-credentials=false",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca_cert}",
                f"--cluster-signing-cert-file={pki.ca_cert}",
                f"--cluster-signing-key-file={pki.ca_key}",
                "--controllers=*",
                "--kube-api-qps=200",
                "--kube-api-burst=400",
                "--v=1",
            ]
        scheduler = binaries.path("kube-scheduler")
        if scheduler is not None:
            defined["kube-scheduler"] = [
                str(scheduler),
                f"--config={d / 'scheduler.yaml'}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports.scheduler}",
                f"--cert-dir={d / 'scheduler-certs'}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--v=1",
            ]
        kwok = binaries.path("kwok")
        environments: dict[str, dict[str, str]] = {}
        if kwok is not None and binaries.kwok_stages is not None and self.nodes > 0:
            loader_stages = d / "kwok-loader-stages.yaml"
            loader_stages.write_text(LOADER_STAGES)
            defined["kwok"] = [
                str(kwok),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={binaries.kwok_stages}",
                f"--config={loader_stages}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={FAKE_NODE_ANNOTATION}=fake",
                f"--cidr={POD_CIDR}",
                f"--node-ip={KUBELET_IP}",
                f"--node-port={ports.kwok}",
                "--node-lease-duration-seconds=40",
                f"--server-address={KUBELET_IP}:{ports.kwok}",
                f"--tls-cert-file={self._kwok_tls[0]}",
                f"--tls-private-key-file={self._kwok_tls[1]}",
            ]
            if self.exec_path:
                host_commands = d / "kwok-exec.yaml"
                (d / "exec-workdir").mkdir(exist_ok=True)
                host_commands.write_text(render_cluster_exec(self.exec_path, d / "exec-workdir"))
                defined["kwok"].append(f"--config={host_commands}")
                environments["kwok"] = {"PATH": command_search_path(self.exec_path)}
        self._components = {
            name: _Component(name, argv, d / f"{name}.log", environments.get(name, {}))
            for name, argv in defined.items()
        }

    @property
    def _kwok_tls(self) -> tuple[Path, Path]:
        """kwok's serving certificate and key."""
        assert self._pki is not None
        return self._pki.ca_cert.parent / "kwok.crt", self._pki.ca_cert.parent / "kwok.key"

    def _write_kubelet_pki(self) -> list[str]:
        """Issue kwok's serving certificate and the API server's kubelet client certificate;
        return the API server flags that go with them.

        The API server verifies every kubelet endpoint (kwok's server and the real node's
        kubelet) against the cluster's CA, at the `localhost` address the nodes report.
        """
        pki = self._pki
        assert pki is not None
        directory = pki.ca_cert.parent
        issue_certificate(
            pki,
            *self._kwok_tls,
            common_name="kwok",
            server=True,
            dns_names=(KUBELET_HOST,),
            ip_addresses=(KUBELET_IP,),
        )
        issue_certificate(
            pki,
            directory / "apiserver-kubelet-client.crt",
            directory / "apiserver-kubelet-client.key",
            common_name="kube-apiserver-kubelet-client",
            organization="system:masters",
        )
        return [
            f"--kubelet-client-certificate={directory / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={directory / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={pki.ca_cert}",
        ]

    def _write_scheduler_config(self) -> None:
        config = {
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(self.kubeconfig), "qps": 200, "burst": 400},
            "leaderElection": {"leaderElect": False},
        }
        (self.dir / "scheduler.yaml").write_text(yaml.safe_dump(config))

    def _admin_tls(self) -> ssl.SSLContext:
        assert self._pki is not None
        context = ssl.create_default_context(cafile=str(self._pki.ca_cert))
        context.load_cert_chain(str(self._pki.admin_cert), str(self._pki.admin_key))
        return context

    def _https_ok(self, port: int, path: str, verify: bool = False) -> bool:
        if verify:
            context = self._admin_tls()
        else:
            # The controller manager's and scheduler's serving certificates are self-signed.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}{path}", context=context, timeout=5
        ) as resp:
            return bool(resp.status == 200)

    def _etcd_healthy(self) -> bool:
        with urllib.request.urlopen(self.etcd_url + "/health", timeout=5) as resp:
            return bool(json.loads(resp.read()).get("health") == "true")

    def _etcd_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.etcd_url + path, data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def node_names(self) -> list[str]:
        return [f"{self.name}-node-{index}" for index in range(self.nodes)]

    def _create_nodes(self) -> None:
        for name in self.node_names():
            if self.request("GET", f"/api/v1/nodes/{name}") is not None:
                continue
            self.request(
                "POST",
                "/api/v1/nodes",
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "annotations": {FAKE_NODE_ANNOTATION: "fake"},
                        "labels": {
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "type": "kwok",
                        },
                    },
                    # kwok keeps addresses a node already has: these send the API server's
                    # exec, logs and port-forward to kwok's server on loopback.
                    "status": {
                        "addresses": [
                            {"type": "InternalIP", "address": KUBELET_IP},
                            {"type": "Hostname", "address": KUBELET_HOST},
                        ]
                    },
                },
            )

    def _nodes_ready(self) -> bool:
        nodes = self.request("GET", "/api/v1/nodes")["items"]
        ours = [n for n in nodes if n["metadata"]["name"] in set(self.node_names())]
        return len(ours) == self.nodes and all(_node_schedulable(n) for n in ours)


def _node_schedulable(node: dict[str, Any]) -> bool:
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in node.get("status", {}).get("conditions", [])
    )
    tainted = any(
        t.get("key") == "node.kubernetes.io/not-ready"
        for t in node.get("spec", {}).get("taints", [])
    )
    return ready and not tainted


def read_manifests(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Every YAML document in the given files, and in the *.yaml files of given directories."""
    documents: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            documents.extend(d for d in yaml.safe_load_all(file.read_text()) if d)
    return documents
