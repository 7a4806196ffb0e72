#!/usr/bin/env python3
"""democache: a small cache system that plugs into fluidpy through a CacheRuntimeClass.

One program plays every role. The role comes from FLUID_RUNTIME_COMPONENT_TYPE, and everything
else it knows comes from the other FLUID_* variables and from runtime.json, as the integration
guide describes:

* master: keeps the mount table, i.e. which `local:///<dir>` directories (the Dataset's mount
  points, mounted into the pod) it serves and under which path. The table starts empty and only
  `mount-ufs` changes it, as a cache system's mount operation does; the master serves the file
  listing of its mounts and a summary of the cache.
* worker: serves 1 MiB blocks of UFS files, resolving paths through the master's mount table. A
  block read once is kept in the first tiered-store level (`tieredStore.levels[0].path`), up to
  its quota, and later reads come from there.
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
import urllib.error
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


def wanted_mounts(conf: dict[str, Any]) -> dict[str, str]:
    """The mount table runtime.json asks for: each mount's directory in the pod (`local:///data`
    -> /data) by its mount path (the mount's `path`, else `/<name>`, as Fluid expects)."""
    table = {}
    for mount in conf.get("mounts") or []:
        point = mount["mountPoint"]
        if not point.startswith("local://"):
            raise SystemExit(f"democache only reads local:// mount points, not {point!r}")
        path = (mount.get("path") or f"/{mount.get('name') or ''}").rstrip("/")
        if not path:
            raise SystemExit(f"mount {point!r} has neither a path nor a name to mount it under")
        table[path] = point[len("local://") :]
    return table


def listing(table: dict[str, str]) -> dict[str, int]:
    """Every file of the mounted UFS as `<mount path>/<path>` with its size."""
    files = {}
    for path, root in table.items():
        for found in sorted(Path(root).rglob("*")):
            if found.is_file():
                files[f"{path}/{found.relative_to(root)}"] = found.stat().st_size
    return files


def resolve(table: dict[str, str], path: str) -> Path:
    """The UFS file behind `<mount path>/<path>`, never outside the mount's directory."""
    mount = max((m for m in table if path.startswith(m + "/")), key=len, default=None)
    if mount is None:
        raise FileNotFoundError(path)
    root = Path(table[mount]).resolve()
    resolved = (root / path[len(mount) + 1 :]).resolve()
    if root not in resolved.parents:
        raise PermissionError(path)
    return resolved


def this_pod() -> tuple[str, int]:
    """This pod's server: execution entries and probes run in the pod they ask about."""
    return os.environ["POD_IP"], port_of(os.environ["POD_NAME"])


class ServerError(Exception):
    """A democache server answered with an error; the message is its answer."""


def request_json(server: tuple[str, int], path: str, body: Any = None) -> Any:
    """GET (or POST `body`) as JSON; an error reply raises ServerError with its message."""
    data = None if body is None else json.dumps(body).encode()
    url = f"http://{server[0]}:{server[1]}{path}"
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as error:
        raise ServerError(f"{path}: {error.read().decode(errors='replace')}") from error


def human_size(size: float) -> str:
    """`3.01MiB`: how Fluid's cache systems write sizes in a Dataset's status."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    while size >= 1024 and len(units) > 1:
        size, units = size / 1024, units[1:]
    return f"{size:.2f}{units[0]}"


def quantity(text: str) -> int:
    for suffix, factor in QUANTITY.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes by method and path (`GET /files`); a route takes the query, or the JSON body of
    a POST, and returns JSON or bytes. A ValueError becomes a 400 with its message."""

    routes: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        self.answer(f"GET {url.path}", dict(urllib.parse.parse_qsl(url.query)))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.answer(f"POST {self.path}", json.loads(self.rfile.read(length) or b"null"))

    def answer(self, route_key: str, argument: Any) -> None:
        route = self.routes.get(route_key)
        if route is None:
            self.send_error(404)
            return
        try:
            body = route(argument)
        except FileNotFoundError:
            self.send_error(404)
            return
        except ValueError as error:
            self.reply(400, str(error).encode())
            return
        self.reply(200, body if isinstance(body, bytes) else json.dumps(body).encode())

    def reply(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(routes: dict[str, Any]) -> None:
    Handler.routes = {"GET /healthz": lambda _: {"ok": True}, **routes}
    server = http.server.ThreadingHTTPServer(this_pod(), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log(f"{os.environ['POD_NAME']} listening on {this_pod()[0]}:{this_pod()[1]}")
    server.serve_forever()


# master ---------------------------------------------------------------------------------------


class MountTable:
    """The directories the master serves, by mount path. It starts empty: a master learns its
    mounts from mount operations (the engine's mountUFS entry), not from its config file, so a
    mount change takes effect when the engine asks for it, and a restarted master serves
    nothing until the engine mounts again (the engine notices the restart)."""

    def __init__(self) -> None:
        self.table: dict[str, str] = {}
        self.lock = threading.Lock()

    def current(self, _: Any = None) -> dict[str, str]:
        with self.lock:
            return dict(self.table)

    def replace(self, wanted: dict[str, str]) -> dict[str, list[str]]:
        """Mount exactly `wanted` (mount path -> directory), or nothing if a directory is
        missing: the mount table is never half changed."""
        missing = [f"{path} ({root})" for path, root in wanted.items() if not Path(root).is_dir()]
        if missing:
            raise ValueError(
                f"cannot mount {', '.join(missing)}: not a directory in the master's pod;"
                " mount the directory into the master with the runtime's volumes"
            )
        with self.lock:
            if wanted != self.table:
                log(f"mount table {sorted(self.table)} -> {sorted(wanted)}")
            self.table = dict(wanted)
            return {"mounted": sorted(self.table)}


def summary(table: dict[str, str]) -> dict[str, str]:
    """reportSummary's figures, as strings: what the workers hold and served, against the
    mounted UFS."""
    total = sum(listing(table).values())
    cached = capacity = hits = reads = 0
    for worker in pods(config(), "worker"):
        stats = request_json(worker, "/stats")
        cached += stats["cachedBytes"]
        capacity += stats["capacityBytes"]
        hits += stats["hits"]
        reads += stats["hits"] + stats["misses"]
    return {
        "cached": human_size(cached),
        "cachedPercentage": f"{min(100.0, 100.0 * cached / total) if total else 0.0:.1f}%",
        "cacheCapacity": human_size(capacity),
        "cacheHitRatio": f"{100.0 * hits / reads if reads else 0.0:.1f}%",
    }


def run_master() -> None:
    mounts = MountTable()
    log("serving no mounts until mount-ufs")
    serve(
        {
            "GET /mounts": mounts.current,
            "POST /mounts": mounts.replace,
            "GET /files": lambda _: listing(mounts.current()),
            "GET /summary": lambda _: summary(mounts.current()),
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
        masters = pods(config(), "master")
        if not masters:
            raise FileNotFoundError(path)
        with resolve(request_json(masters[0], "/mounts"), path).open("rb") as ufs:
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
    serve({"GET /block": store.block, "GET /stats": store.stats})


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
                if not masters:
                    raise fusepy.FuseOSError(errno.EIO)
                try:
                    self.listing = request_json(masters[0], "/files")
                except (ServerError, OSError) as error:
                    log(f"listing from the master failed: {error}")
                    raise fusepy.FuseOSError(errno.EIO) from error
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

        def block(self, workers: list[tuple[str, int]], path: str, index: int) -> bytes:
            """The block from the worker its path and index hash to, else from the next
            worker that answers: a worker may still be starting, or may not know the master
            yet. Every failure is an EIO: fusepy turns other exceptions into nonsense."""
            pick = int(hashlib.sha256(f"{path}:{index}".encode()).hexdigest(), 16)
            query = urllib.parse.urlencode({"path": path, "index": index})
            for turn in range(len(workers)):
                host, port = workers[(pick + turn) % len(workers)]
                try:
                    with urllib.request.urlopen(
                        f"http://{host}:{port}/block?{query}", timeout=30
                    ) as reply:
                        data: bytes = reply.read()
                        return data
                except OSError as error:
                    log(f"block {index} of {path} from {host}:{port} failed: {error}")
            raise fusepy.FuseOSError(errno.EIO)

        def read(self, path: str, size: int, offset: int, fh: Any) -> bytes:
            workers = pods(config(), "worker")
            if not workers:
                raise fusepy.FuseOSError(errno.EIO)
            end = min(offset + size, self.files().get(path, 0))
            if end <= offset:
                return b""
            first = offset // BLOCK_SIZE
            data = b"".join(
                self.block(workers, path, index)
                for index in range(first, (end - 1) // BLOCK_SIZE + 1)
            )
            start = offset - first * BLOCK_SIZE
            return data[start : start + (end - offset)]

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
    """mountUFS: make the master's mount table what runtime.json lists now, and print it as
    `{"mounted": [...]}`. The kubelet refreshes runtime.json some seconds after the engine
    rewrites it, so right after a Dataset change this may still print the old table; the engine
    compares it with the Dataset's mounts and runs the entry again until they agree."""
    print(json.dumps(request_json(this_pod(), "/mounts", wanted_mounts(config()))))


def report_summary() -> None:
    """reportSummary: the master's figures (cached, cachedPercentage, cacheCapacity,
    cacheHitRatio), the strings Fluid's Dataset status shows."""
    print(json.dumps(request_json(this_pod(), "/summary")))


def probe() -> None:
    """Readiness: this pod's server answers (the client: its mount is a democache mount). A
    worker is ready only once it knows a master that answers: it resolves every read through
    the master's mount table, and its runtime.json may predate the master's IP (the kubelet
    refreshes the file some seconds after the engine writes it), so a worker that reported
    ready any earlier would let the Dataset bind while its reads still fail."""
    component = os.environ["FLUID_RUNTIME_COMPONENT_TYPE"]
    if component == "client":
        target = os.environ["FLUID_RUNTIME_MOUNT_PATH"]
        if not mounted_here(target):
            raise SystemExit(f"{target} is not mounted")
        return
    request_json(this_pod(), "/healthz")
    if component == "worker":
        masters = pods(config(), "master")
        if not masters:
            raise SystemExit("runtime.json lists no master with an IP yet")
        request_json(masters[0], "/healthz")


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
    if command == "run":
        roles = {"master": run_master, "worker": run_worker, "client": run_client}
        roles[os.environ["FLUID_RUNTIME_COMPONENT_TYPE"]]()
        return 0
    checks = {"probe": probe, "mount-ufs": mount_ufs, "report-summary": report_summary}
    try:
        checks[command]()
    except (ServerError, OSError) as error:
        # One line on stderr: the engine quotes it in the Dataset's events and conditions.
        print(f"democache {command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
