"""A real node beside the local control plane: containerd and a kubelet that run real containers.

`LocalCluster(real_node=True)` (and `fluidpy cluster create --real-node`) adds it next to kwok's
fake nodes. Linux and root only. Pods on it must use `hostNetwork: true`: a pod network would need
a bridge and private-range addresses, which these machines must not get. The node is therefore
tainted, and only pods that tolerate the taint (and select the node) are placed on it.

Everything the node writes lives in one directory (containerd's root and state, runc's state, the
kubelet's root and pod logs, and `mnt/` for hostPath mounts that must propagate), bind-mounted on
itself and made shared, so that a FUSE mount a privileged pod makes with Bidirectional propagation
is seen by the host and by other pods. Its cgroups live under a cgroup root of its own, and its
ports are picked free, so two clusters with real nodes do not collide. stop() leaves no process,
mount, cgroup or shim socket behind; sweep() does the same for a node whose supervisor was killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from fluidpy.testing._binaries import cache_root
from fluidpy.testing._oci import write_image
from fluidpy.testing._pki import PKIFiles, issue_certificate

NODE_NAME = "localhost"
"""The node's name, which is also its Hostname address. The kubelet listens on loopback only, and
the API server reaches a kubelet (logs, exec, port-forward) at its Hostname address first:
`localhost` resolves to loopback on every host, where the machine's own host name may not."""

NODE_LABEL = "fluidpy.io/real-node"
"""Label and taint key of the real node: pods for it select the label and tolerate the taint."""

PAUSE_IMAGE = "localhost/pause:local"
BUSYBOX_IMAGE = "localhost/busybox:local"
"""Images every real node starts with, written from host files: no registry is needed."""

CRI_NAMESPACE = "k8s.io"
"""containerd's namespace for the CRI: where the kubelet looks for images."""

CNI_PLUGINS = Path("/usr/lib/cni")
SHIM_SOCKETS = Path("/run/containerd/s")
"""containerd's shims put their sockets here whatever the configuration says."""

CONTAINER_LOG_LINKS = Path("/var/log/containers")
"""The kubelet links every container's log here whatever its configuration says."""

START_TIMEOUT = 120.0
"""Seconds containerd and the kubelet may take to come up; generous for a loaded 2-core host."""

_MNT_DETACH = 2


class RealNodeUnavailable(RuntimeError):
    """This host cannot run a real node; the message names every missing piece."""


def host_limitations() -> list[str]:
    """What this host lacks that installing packages cannot add: Linux, root, kernel features."""
    if platform.system() != "Linux":
        return [f"Linux (this is {platform.system()})"]
    missing = []
    if os.geteuid() != 0:
        missing.append("root (containers need it; run as root)")
    filesystems = Path("/proc/filesystems").read_text()
    if "\toverlay" not in filesystems:
        missing.append("the overlay file system in the kernel (modprobe overlay)")
    if "\tfuse" not in filesystems or not Path("/dev/fuse").exists():
        missing.append("FUSE in the kernel and /dev/fuse (modprobe fuse)")
    if not Path("/sys/fs/cgroup").is_dir():
        missing.append("cgroups mounted at /sys/fs/cgroup")
    return missing


@dataclass(frozen=True)
class RealNodeBinaries:
    """What a real node runs; kubelet is the control-plane binary, called as `kubelet`."""

    kubelet: Path
    containerd_dir: Path
    runc: Path
    busybox: Path

    def containerd(self, name: str = "containerd") -> Path:
        return self.containerd_dir / name


def containerd_binaries() -> Path:
    """Where hack/realnode/build.sh installs containerd, its shim, ctr and pause."""
    return cache_root() / "realnode" / "current" / "bin"


def find_realnode_binaries(control_plane_dir: Path) -> RealNodeBinaries:
    """The real node's binaries, or RealNodeUnavailable naming everything missing and the fix."""
    missing = host_limitations()
    kubelet = control_plane_dir / "kubelet"
    if not kubelet.exists():
        missing.append(
            f"a kubelet in {control_plane_dir} (rebuild the control plane: make cluster-binaries)"
        )
    containerd_dir = containerd_binaries()
    if not (containerd_dir.parent / "complete").is_file():
        missing.append("containerd v2 built from the Go module proxy (make realnode)")
    runc, busybox = shutil.which("runc"), shutil.which("busybox")
    for name, found in (("runc", runc), ("busybox", busybox)):
        if found is None:
            missing.append(f"{name} (make realnode installs it)")
    if not (CNI_PLUGINS / "loopback").exists():
        missing.append(f"the CNI loopback plugin in {CNI_PLUGINS} (make realnode installs it)")
    if missing:
        raise RealNodeUnavailable("a real node needs " + "; ".join(missing))
    assert runc is not None and busybox is not None
    return RealNodeBinaries(kubelet, containerd_dir, Path(runc), Path(busybox))


def host_address() -> str:
    """The host's own address (not loopback): the node's InternalIP and its pods' IP.

    The address of the interface of the default route, else the first global address.
    """
    routes = json.loads(_run_text(["ip", "-j", "route", "show", "default"]) or "[]")
    devices = [route["dev"] for route in routes if "dev" in route]
    addresses = json.loads(_run_text(["ip", "-j", "addr", "show", "scope", "global"]) or "[]")
    candidates = [
        (link.get("ifname") not in devices, info["local"])
        for link in addresses
        for info in link.get("addr_info", [])
        if info.get("family") in ("inet", "inet6")
    ]
    if not candidates:
        raise RealNodeUnavailable("a real node needs a network address other than loopback")
    return str(sorted(candidates)[0][1])


def _run_text(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cgroup_mounts() -> list[Path]:
    """The cgroup hierarchies to create the node's cgroup root in: the unified one on cgroup v2,
    else every v1 hierarchy (the kubelet checks that the root exists in each)."""
    base = Path("/sys/fs/cgroup")
    if (base / "cgroup.controllers").exists():
        return [base]
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "cgroup.procs").exists())


def _mount_points_under(directory: Path) -> list[str]:
    """Mount points at or below `directory`, deepest first (the order to unmount them)."""
    prefix = str(directory)
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(points, key=lambda p: (-p.count("/"), p))


def _processes() -> Iterator[tuple[int, list[str]]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                yield int(entry.name), [a.decode(errors="replace") for a in argv if a]


def _argument(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None


def cgroup_root_of(directory: Path) -> str:
    """The node's cgroup root: derived from its directory, so it is unique on the host and a
    later sweep finds it again."""
    return "fluidpy-" + hashlib.sha256(str(directory).encode()).hexdigest()[:10]


def _containerd_socket(directory: Path) -> Path:
    return directory / "containerd" / "containerd.sock"


NODE_DIRECTORY = "node"
"""Where in a cluster's directory its real node lives."""


def sweep_cluster(cluster_directory: Path) -> None:
    """sweep() the real node of the cluster in `cluster_directory`, if it ever had one."""
    directory = cluster_directory / NODE_DIRECTORY
    if directory.exists():
        sweep(directory, cgroup_root_of(directory), _containerd_socket(directory))


def ctr(binary: Path, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run containerd's `ctr` against the node in `directory`, in the CRI's namespace."""
    return subprocess.run(
        [
            str(binary),
            f"--address={_containerd_socket(directory)}",
            f"--namespace={CRI_NAMESPACE}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def import_image(ctr_binary: Path, directory: Path, archive: Path) -> None:
    """Import an OCI image archive into the node in `directory`; pods then run it with
    `imagePullPolicy: Never`, no registry involved."""
    result = ctr(ctr_binary, directory, "images", "import", "--local", str(archive))
    if result.returncode != 0:
        raise RuntimeError(f"importing {archive} failed: {result.stderr.strip()}")


class RealNode:
    """containerd and a kubelet registered as node `localhost` of one local cluster."""

    def __init__(self, directory: Path, server: str, pki: PKIFiles, binaries: RealNodeBinaries):
        from fluidpy.testing.localcluster import _Component

        self.dir = directory
        self.server = server
        self.pki = pki
        self.binaries = binaries
        self.cgroup_root = cgroup_root_of(directory)
        self.kubelet_port = _free_port()
        self.healthz_port = _free_port()
        self.address = host_address()
        self.containerd = _Component(
            "containerd",
            [str(binaries.containerd()), f"--config={directory / 'containerd.toml'}"],
            directory / "containerd.log",
        )
        self.kubelet = _Component(
            "kubelet",
            [
                str(binaries.kubelet),
                f"--config={directory / 'kubelet.yaml'}",
                f"--kubeconfig={directory / 'kubelet.kubeconfig'}",
                f"--root-dir={directory / 'kubelet'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={self.address}",
                f"--node-labels={NODE_LABEL}=true",
                "--v=1",
            ],
            directory / "kubelet.log",
        )

    @property
    def containerd_socket(self) -> Path:
        return _containerd_socket(self.dir)

    @property
    def mount_root(self) -> Path:
        """A host directory whose mounts propagate: for hostPath volumes of pods that mount
        (Bidirectional) or read mounts (HostToContainer), such as a FUSE client's."""
        return self.dir / "mnt"

    @property
    def processes(self) -> dict[str, int]:
        return {
            c.name: c.process.pid for c in (self.containerd, self.kubelet) if c.process is not None
        }

    # Files ----------------------------------------------------------------------------------

    def write_pki(self) -> list[str]:
        """Issue the node's certificates (its client and its kubelet's serving certificate);
        return the API server flags that go with them (NodeRestriction; the cluster adds the
        Node authorizer and the API server's kubelet client certificate)."""
        pki_dir = self.dir / "pki"
        pki_dir.mkdir(parents=True, exist_ok=True)
        issue_certificate(
            self.pki,
            pki_dir / "node.crt",
            pki_dir / "node.key",
            common_name=f"system:node:{NODE_NAME}",
            organization="system:nodes",
        )
        issue_certificate(
            self.pki,
            pki_dir / "kubelet.crt",
            pki_dir / "kubelet.key",
            common_name=NODE_NAME,
            server=True,
            dns_names=(NODE_NAME,),
            ip_addresses=("127.0.0.1", self.address),
        )
        return ["--enable-admission-plugins=NodeRestriction"]

    def _write_configs(self) -> None:
        d = self.dir
        for sub in ("containerd", "cni", "kubelet", "pod-logs", "volume-plugins", "mnt"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "cni" / "10-loopback.conflist").write_text(
            # The node is Ready only once the runtime's network is; a loopback-only network
            # makes it so without creating any interface (hostNetwork pods use none).
            json.dumps(
                {"cniVersion": "1.0.0", "name": "loopback", "plugins": [{"type": "loopback"}]}
            )
        )
        (d / "containerd.toml").write_text(self._containerd_config())
        (d / "kubelet.yaml").write_text(yaml.safe_dump(self._kubelet_config()))
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority": str(self.pki.ca_cert),
                    },
                }
            ],
            "users": [
                {
                    "name": "node",
                    "user": {
                        "client-certificate": str(d / "pki" / "node.crt"),
                        "client-key": str(d / "pki" / "node.key"),
                    },
                }
            ],
            "contexts": [{"name": "node", "context": {"cluster": "local", "user": "node"}}],
            "current-context": "node",
        }
        (d / "kubelet.kubeconfig").write_text(yaml.safe_dump(kubeconfig))

    def _containerd_config(self) -> str:
        c = self.dir / "containerd"
        return f"""\
version = 3
root = "{c / "root"}"
state = "{c / "state"}"
[grpc]
  address = "{self.containerd_socket}"
[ttrpc]
  address = "{self.containerd_socket}.ttrpc"
[plugins]
  [plugins.'io.containerd.internal.v1.opt']
    path = "{c / "opt"}"
  [plugins.'io.containerd.nri.v1.nri']
    # NRI's socket is one fixed path per host: two nodes would fight over it.
    disable = true
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "{PAUSE_IMAGE}"
  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    # Hosts that withhold CAP_SYS_RESOURCE (some VMs) refuse a negative oom_score_adj, and
    # every sandbox would fail to start; clamp it to containerd's own.
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          SystemdCgroup = false
          BinaryName = "{self.binaries.runc}"
          Root = "{c / "runc"}"
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ["{CNI_PLUGINS}"]
      conf_dir = "{self.dir / "cni"}"
"""

    def _kubelet_config(self) -> dict[str, object]:
        d = self.dir
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # cgroup v1 hosts (no reboot possible) still run with this; v2 hosts ignore it.
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": f"/{self.cgroup_root}",
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "address": "127.0.0.1",
            "port": self.kubelet_port,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": self.healthz_port,
            "tlsCertFile": str(d / "pki" / "kubelet.crt"),
            "tlsPrivateKeyFile": str(d / "pki" / "kubelet.key"),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(self.pki.ca_cert)},
            },
            "authorization": {"mode": "Webhook"},
            "registerWithTaints": [{"key": NODE_LABEL, "value": "true", "effect": "NoSchedule"}],
            "podLogsDir": str(d / "pod-logs"),
            "volumePluginDir": str(d / "volume-plugins"),
            "resolvConf": "/etc/resolv.conf",
            "makeIPTablesUtilChains": False,
            "failSwapOn": False,
            # A test machine's disk is often fuller than a node's would be: evict only when
            # truly out of space, and never collect the images imported by hand.
            "evictionHard": {
                "nodefs.available": "1%",
                "imagefs.available": "1%",
                "memory.available": "100Mi",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
            "nodeStatusReportFrequency": "10s",
            # ConfigMap volumes (a CacheRuntime's runtime.json) follow changes at each pod sync:
            # every 10 s instead of every minute.
            "syncFrequency": "10s",
        }

    # Lifecycle ------------------------------------------------------------------------------

    def start(self, node_ready: Callable[[], bool], progress: Callable[[str], None]) -> None:
        """Start containerd, import the base images, start the kubelet, and wait until
        `node_ready` (the cluster's view of the Node) is true."""
        from fluidpy.testing.localcluster import _wait_until

        self._write_configs()
        self._share_mounts()
        for hierarchy in _cgroup_mounts():
            (hierarchy / self.cgroup_root).mkdir(exist_ok=True)
        progress("starting containerd")
        self.containerd.start()
        _wait_until("containerd", self._containerd_ready, START_TIMEOUT, self.containerd.failure)
        progress("importing the pause and busybox images")
        self._import_base_images()
        progress(f"starting the kubelet of node {NODE_NAME} ({self.address})")
        self.kubelet.start()
        _wait_until("kubelet", self._kubelet_healthy, START_TIMEOUT, self.kubelet.failure)
        _wait_until(f"node {NODE_NAME} Ready", node_ready, START_TIMEOUT, self.kubelet.failure)

    def _share_mounts(self) -> None:
        """Make the node's directory a shared mount of its own, so mounts made below it by
        Bidirectional volumes propagate (most hosts without systemd mount / private)."""
        if not _mount_points_under(self.dir):
            subprocess.run(["mount", "--bind", str(self.dir), str(self.dir)], check=True)
        subprocess.run(["mount", "--make-rshared", str(self.dir)], check=True)

    def _containerd_ready(self) -> bool:
        return self.ctr("version").returncode == 0

    def _kubelet_healthy(self) -> bool:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.healthz_port}/healthz", timeout=5
        ) as reply:
            return bool(reply.status == 200)

    def ctr(self, *args: str) -> subprocess.CompletedProcess[str]:
        return ctr(self.binaries.containerd("ctr"), self.dir, *args)

    def import_image(self, archive: Path) -> None:
        import_image(self.binaries.containerd("ctr"), self.dir, archive)

    def _import_base_images(self) -> None:
        images = self.dir / "images"
        images.mkdir(exist_ok=True)
        pause = write_image(
            images / "pause.tar",
            PAUSE_IMAGE,
            {"/pause": self.binaries.containerd("pause")},
            entrypoint=["/pause"],
        )
        applets = _run_text([str(self.binaries.busybox), "--list"]).split()
        busybox = write_image(
            images / "busybox.tar",
            BUSYBOX_IMAGE,
            {"/bin/busybox": self.binaries.busybox},
            symlinks={f"/bin/{a}": "busybox" for a in applets if a != "busybox"},
            directories=["/tmp", "/etc", "/proc", "/sys", "/dev", "/root"],
            command=["/bin/sh"],
        )
        for archive in (pause, busybox):
            self.import_image(archive)
            archive.unlink()

    def stop(self) -> None:
        """Stop the kubelet, remove every container, stop containerd, then sweep what remains."""
        self.kubelet.stop()
        if self.containerd.process is not None and self.containerd.process.poll() is None:
            tasks = self.ctr("tasks", "ls", "--quiet").stdout.split()
            if tasks:
                # Deleting a task makes its shim unmount the rootfs, remove its socket and exit.
                self.ctr("tasks", "delete", "--force", *tasks)
        self.containerd.stop()
        sweep(self.dir, self.cgroup_root, self.containerd_socket)


def sweep(directory: Path, cgroup_root: str, containerd_socket: Path) -> None:
    """Remove what a real node left on the host: processes in its cgroups, its containerd's
    shims and their sockets, mounts below its directory, its cgroups and its log links.

    Safe to call on a node that stopped cleanly (it then finds nothing), and the only way to
    clean up after a node whose supervisor was killed."""
    hierarchies = [h / cgroup_root for h in _cgroup_mounts() if (h / cgroup_root).is_dir()]
    for _ in range(20):
        pids = {
            int(pid)
            for hierarchy in hierarchies
            for procs in hierarchy.rglob("cgroup.procs")
            for pid in _read(procs).split()
        }
        shims = [
            (pid, argv)
            for pid, argv in _processes()
            if argv
            and argv[0].endswith("containerd-shim-runc-v2")
            and _argument(argv, "-address") == str(containerd_socket)
        ]
        for pid in pids | {pid for pid, _ in shims}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _pid, argv in shims:
            shim_id = _argument(argv, "-id")
            namespace = _argument(argv, "-namespace") or CRI_NAMESPACE
            digest = hashlib.sha256(f"{containerd_socket}/{namespace}/{shim_id}".encode())
            with contextlib.suppress(FileNotFoundError):
                (SHIM_SOCKETS / digest.hexdigest()).unlink()
        if not pids and not shims:
            break
        time.sleep(0.1)
    libc = ctypes.CDLL(None, use_errno=True)
    for _ in range(10):
        points = _mount_points_under(directory)
        if not points:
            break
        for point in points:
            libc.umount2(point.encode(), _MNT_DETACH)
    for hierarchy in hierarchies:
        for cgroup in sorted(hierarchy.rglob("*"), key=lambda p: -len(p.parts)):
            if cgroup.is_dir():
                with contextlib.suppress(OSError):
                    cgroup.rmdir()
        with contextlib.suppress(OSError):
            hierarchy.rmdir()
    if CONTAINER_LOG_LINKS.is_dir():
        logs = str(directory / "pod-logs")
        for link in CONTAINER_LOG_LINKS.iterdir():
            with contextlib.suppress(OSError):
                if link.is_symlink() and os.readlink(link).startswith(logs):
                    link.unlink()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
