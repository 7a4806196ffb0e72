#!/usr/bin/env python3
"""democache: a small cache system that plugs into fluidpy through a CacheRuntimeClass.

One program plays every role. The role comes from FLUID_RUNTIME_COMPONENT_TYPE, and everything
else it knows comes from the other FLUID_* variables and from runtime.json, as the integration
guide describes:

* master: lists the under-file-system, i.e. the Dataset's `local:///<dir>` mount points (a
  directory mounted into the pod). It serves the listing and a summary of the cache.
* worker: serves 1 MiB blocks of UFS files. A block read once is kept in the first tiered-store
  level (`tieredStore.levels[0].path`), up to its quota, and later reads come from there.
* client: a read-only FUSE file system at FLUID_RUNTIME_MOUNT_PATH. It takes names and sizes
  from the master and every byte from the workers, which it finds in runtime.json's topology
  (pod IPs).

Pods use the host network, so each server listens on a port derived from its pod's name. Anyone
who knows the pod name from the topology can compute that port. The commands `mount-ufs` and
`report-summary` print the JSON a CacheRuntimeClass's executionEntries (mountUFS, reportSummary)
expect, and `probe` is the components' readiness check.

It is written for this repository. It is an example, not a product: it has no authentication and
no eviction, and it only handles `local://` mount points.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import http.server
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

BLOCK_SIZE = 1 << 20
PORT_RANGE = (20000, 40000)
QUANTITY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9}


def log(message: str) -> None:
    print(f"democache[{os.environ.get('FLUID_RUNTIME_COMPONENT_TYPE', '?')}] {message}", flush=True)


def config() -> dict[str, Any]:
    """runtime.json, read afresh: fluidpy rewrites it as pods come and go."""
    result: dict[str, Any] = json.loads(Path(os.environ["FLUID_RUNTIME_CONFIG_PATH"]).read_text())
    return result


def port_of(pod_name: str) -> int:
    """The port a pod of this runtime listens on (host network: pods share the node's ports)."""
    key = f"{os.environ['FLUID_DATASET_NAMESPACE']}/{os.environ['FLUID_DATASET_NAME']}/{pod_name}"
    low, high = PORT_RANGE
    return low + int(hashlib.sha256(key.encode()).hexdigest(), 16) % (high - low)


def pods(conf: dict[str, Any], component: str) -> list[tuple[str, int]]:
    """(IP, port) of the component's pods that have an IP, from the topology."""
    topology = (conf.get("topology") or {}).get(component) or {}
    return [
        (pod["podIP"], port_of(pod["podName"]))
        for pod in topology.get("podConfigs") or []
        if pod.get("podIP")
    ]


def ufs_roots(conf: dict[str, Any]) -> dict[str, Path]:
    """Each mount's directory in the pod, by mount name (`local:///data` -> /data)."""
    roots = {}
    for mount in conf.get("mounts") or []:
        point = mount["mountPoint"]
        if not point.startswith("local://"):
            raise SystemExit(f"democache only reads local:// mount points, not {point!r}")
        roots[mount["name"]] = Path(point[len("local://") :])
    return roots


def ufs_listing(conf: dict[str, Any]) -> dict[str, int]:
    """Every UFS file as `/<mount name>/<path>` with its size."""
    files = {}
    for name, root in ufs_roots(conf).items():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[f"/{name}/{path.relative_to(root)}"] = path.stat().st_size
    return files


def ufs_path(conf: dict[str, Any], path: str) -> Path:
    name, _, rest = path.lstrip("/").partition("/")
    root = ufs_roots(conf)[name]
    resolved = (root / rest).resolve()
    if root.resolve() not in resolved.parents:
        raise PermissionError(path)
    return resolved


def get_json(address: tuple[str, int], path: str) -> Any:
    with urllib.request.urlopen(f"http://{address[0]}:{address[1]}{path}", timeout=10) as reply:
        return json.loads(reply.read())


def quantity(text: str) -> int:
    for suffix, factor in QUANTITY.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


class Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        route = self.routes.get(url.path)
        if route is None:
            self.send_error(404)
            return
        try:
            body = route(dict(urllib.parse.parse_qsl(url.query)))
        except FileNotFoundError:
            self.send_error(404)
            return
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(routes: dict[str, Any]) -> None:
    pod_name, pod_ip = os.environ["POD_NAME"], os.environ["POD_IP"]
    Handler.routes = {"/healthz": lambda _: {"ok": True}, **routes}
    server = http.server.ThreadingHTTPServer((pod_ip, port_of(pod_name)), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log(f"{pod_name} listening on {pod_ip}:{port_of(pod_name)}")
    server.serve_forever()


# master ---------------------------------------------------------------------------------------


def summary(conf: dict[str, Any]) -> dict[str, Any]:
    """The cache's figures: the UFS, and what the workers hold and served."""
    total = sum(ufs_listing(conf).values())
    cached = capacity = hits = reads = 0
    for worker in pods(conf, "worker"):
        stats = get_json(worker, "/stats")
        cached += stats["cachedBytes"]
        capacity += stats["capacityBytes"]
        hits += stats["hits"]
        reads += stats["hits"] + stats["misses"]
    return {
        "ufsTotal": total,
        "cached": cached,
        "cacheCapacity": capacity,
        "cachedPercentage": round(100.0 * cached / total, 1) if total else 0.0,
        "cacheHitRatio": round(hits / reads, 3) if reads else 0.0,
    }


def run_master() -> None:
    listing = ufs_listing(config())
    log(f"UFS has {len(listing)} files, {sum(listing.values())} bytes")
    serve(
        {
            "/files": lambda _: ufs_listing(config()),
            "/summary": lambda _: summary(config()),
        }
    )


# worker ---------------------------------------------------------------------------------------


class BlockStore:
    """UFS blocks kept in the first tiered-store level, up to its quota."""

    def __init__(self, conf: dict[str, Any]) -> None:
        level = conf["worker"]["tieredStore"]["levels"][0]
        self.dir = Path(level["path"]) / "democache-blocks"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.capacity = quantity(level["quota"]) if level.get("quota") else 0
        self.hits = self.misses = 0
        self.lock = threading.Lock()

    def used(self) -> int:
        return sum(p.stat().st_size for p in self.dir.iterdir())

    def block(self, query: dict[str, str]) -> bytes:
        path, index = query["path"], int(query["index"])
        cached = self.dir / f"{hashlib.sha256(path.encode()).hexdigest()}-{index}"
        if cached.exists():
            with self.lock:
                self.hits += 1
            return cached.read_bytes()
        with ufs_path(config(), path).open("rb") as ufs:
            ufs.seek(index * BLOCK_SIZE)
            data = ufs.read(BLOCK_SIZE)
        with self.lock:
            self.misses += 1
            if not self.capacity or self.used() + len(data) <= self.capacity:
                partial = cached.with_suffix(".partial")
                partial.write_bytes(data)
                partial.rename(cached)
        return data

    def stats(self, _: dict[str, str]) -> dict[str, int]:
        return {
            "cachedBytes": self.used(),
            "capacityBytes": self.capacity,
            "hits": self.hits,
            "misses": self.misses,
        }


def run_worker() -> None:
    store = BlockStore(config())
    log(f"caching blocks in {store.dir} (quota {store.capacity} bytes)")
    serve({"/block": store.block, "/stats": store.stats})


# client ---------------------------------------------------------------------------------------


def mounted_here(path: str) -> bool:
    """Whether a democache FUSE mount sits at `path`."""
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    return any(line.split(" ")[1:3] == [path, "fuse.democache"] for line in mounts)


def run_client() -> None:
    import fusepy  # type: ignore[import-not-found]  # in the image only (Debian python3-fusepy)

    mount_path = os.environ["FLUID_RUNTIME_MOUNT_PATH"]

    class CacheFS(fusepy.Operations):  # type: ignore[misc]
        def __init__(self) -> None:
            self.listing: dict[str, int] = {}
            self.listed = 0.0

        def files(self) -> dict[str, int]:
            if time.monotonic() - self.listed > 2:
                masters = pods(config(), "master")
                self.listing = get_json(masters[0], "/files")
                self.listed = time.monotonic()
            return self.listing

        def directories(self) -> set[str]:
            found = {"/"}
            for path in self.files():
                parts = path.split("/")[1:-1]
                found.update("/" + "/".join(parts[: i + 1]) for i in range(len(parts)))
            return found

        def getattr(self, path: str, fh: Any = None) -> dict[str, Any]:
            now = time.time()
            times = {"st_atime": now, "st_mtime": now, "st_ctime": now}
            if path in self.directories():
                return {"st_mode": stat.S_IFDIR | 0o555, "st_nlink": 2, **times}
            size = self.files().get(path)
            if size is None:
                raise fusepy.FuseOSError(errno.ENOENT)
            return {"st_mode": stat.S_IFREG | 0o444, "st_nlink": 1, "st_size": size, **times}

        def readdir(self, path: str, fh: Any) -> list[str]:
            prefix = path.rstrip("/") + "/"
            names = {
                entry[len(prefix) :].split("/")[0]
                for entry in [*self.files(), *self.directories()]
                if entry.startswith(prefix) and entry != prefix
            }
            return [".", "..", *sorted(names)]

        def read(self, path: str, size: int, offset: int, fh: Any) -> bytes:
            workers = pods(config(), "worker")
            if not workers:
                raise fusepy.FuseOSError(errno.EIO)
            end = min(offset + size, self.files().get(path, 0))
            data = b""
            for index in range(offset // BLOCK_SIZE, (end - 1) // BLOCK_SIZE + 1 if end else 0):
                pick = int(hashlib.sha256(f"{path}:{index}".encode()).hexdigest(), 16)
                worker = workers[pick % len(workers)]
                query = urllib.parse.urlencode({"path": path, "index": index})
                url = f"http://{worker[0]}:{worker[1]}/block?{query}"
                with urllib.request.urlopen(url, timeout=30) as reply:
                    data += reply.read()
            start = offset - (offset // BLOCK_SIZE) * BLOCK_SIZE
            return data[start : start + (end - offset)] if end > offset else b""

    # A client that died without unmounting leaves a dead mount ("transport endpoint is not
    # connected"); clear it before mounting again. Only ours: below it is the Bidirectional
    # mount of the target path that makes our mount visible on the node.
    if mounted_here(mount_path):
        subprocess.run(["umount", "-l", mount_path], capture_output=True, check=False)

    # No Python handler for SIGTERM: libfuse installs its own only where none is set, and its
    # handler is what ends the loop and unmounts (Python's would wait for the loop to return).
    log(f"mounting at {mount_path}")
    fusepy.FUSE(
        CacheFS(),
        mount_path,
        foreground=True,
        ro=True,
        allow_other=True,
        fsname="democache",
        subtype="democache",
    )
    log("unmounted")


# execution entries and probes -------------------------------------------------------------------


def mount_ufs() -> None:
    """mountUFS: the mount paths the master can read, as `{"mounted": [...]}`."""
    roots = ufs_roots(config())
    mounted = sorted(f"/{name}" for name, root in roots.items() if root.is_dir())
    print(json.dumps({"mounted": mounted}))


def report_summary() -> None:
    """reportSummary: the cache's figures as strings, the fields Fluid's Dataset status shows."""
    figures = summary(config())
    print(
        json.dumps(
            {
                "cached": str(figures["cached"]),
                "cachedPercentage": f"{figures['cachedPercentage']}%",
                "cacheCapacity": str(figures["cacheCapacity"]),
                "cacheHitRatio": f"{figures['cacheHitRatio'] * 100:.1f}%",
            }
        )
    )


def probe() -> None:
    """Readiness: this pod's server answers (the client: its mount is a democache mount)."""
    if os.environ["FLUID_RUNTIME_COMPONENT_TYPE"] == "client":
        target = os.environ["FLUID_RUNTIME_MOUNT_PATH"]
        if not mounted_here(target):
            raise SystemExit(f"{target} is not mounted")
        return
    get_json((os.environ["POD_IP"], port_of(os.environ["POD_NAME"])), "/healthz")


def main() -> int:
    parser = argparse.ArgumentParser(description="democache: an example cache system")
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "probe", "mount-ufs", "report-summary"],
        help="run the component FLUID_RUNTIME_COMPONENT_TYPE names (default), or one check",
    )
    command = parser.parse_args().command
    if command == "probe":
        probe()
    elif command == "mount-ufs":
        mount_ufs()
    elif command == "report-summary":
        report_summary()
    else:
        roles = {"master": run_master, "worker": run_worker, "client": run_client}
        roles[os.environ["FLUID_RUNTIME_COMPONENT_TYPE"]]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
