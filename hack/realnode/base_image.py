"""The base image of the real node's images: Debian minbase with Python, made by debootstrap.

No registry is reachable from our machines, but the Debian mirror is. The image is an OCI
archive cached in ~/.cache/fluidpy/realnode/, keyed on everything that goes into it (this
script, the suite, the package list, the mirror); a finished one is reused. It carries what the
manager's Dockerfile needs (python, venv, pip's CA certificates) and what the example cache
system's FUSE client needs (fuse3, fusepy). Prints the archive's path on its last line.

Usage: python hack/realnode/base_image.py [--mirror URL]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fluidpy.testing._binaries import cache_root
from fluidpy.testing._oci import write_image

SUITE = "bookworm"
"""Debian 12: the distribution of the machines (and of python:3.12-slim's base)."""
PACKAGES = (
    "python3",
    "python3-venv",
    "python-is-python3",
    "ca-certificates",
    "fuse3",
    "python3-fusepy",
)
REFERENCE = "localhost/fluidpy-base:bookworm"
MIRROR = "http://deb.debian.org/debian"


def archive_path(mirror: str) -> Path:
    oci_writer = Path(write_image.__code__.co_filename)
    inputs = "\n".join(
        [Path(__file__).read_text(), oci_writer.read_text(), SUITE, mirror, *PACKAGES]
    )
    key = hashlib.sha256(inputs.encode()).hexdigest()[:16]
    return cache_root() / "realnode" / f"base-{SUITE}-{key}.tar"


def build(archive: Path, mirror: str) -> None:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="fluidpy-base-", dir=archive.parent))
    rootfs = work / "rootfs"
    try:
        print(f"[realnode] debootstrap {SUITE} minbase with {', '.join(PACKAGES)}", file=sys.stderr)
        log = work / "debootstrap.log"
        with log.open("w") as out:
            result = subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(PACKAGES)}",
                    SUITE,
                    str(rootfs),
                    mirror,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(f"[realnode] ERROR: debootstrap failed:\n{tail}")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists", "var/cache/debconf"):
            for entry in (rootfs / cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        (rootfs / "etc" / "hostname").unlink(missing_ok=True)
        partial = archive.with_suffix(".partial")
        write_image(partial, REFERENCE, rootfs=rootfs, command=["python3"])
        partial.rename(archive)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = archive.stat().st_size / 2**20
    print(
        f"[realnode] base image built in {time.monotonic() - started:.0f} s: {archive} "
        f"({size:.0f} MiB)",
        file=sys.stderr,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mirror", default=os.environ.get("DEBIAN_MIRROR", MIRROR), help=f"default: {MIRROR}"
    )
    args = parser.parse_args()
    archive = archive_path(args.mirror)
    archive.parent.mkdir(parents=True, exist_ok=True)
    if archive.exists():
        print(f"[realnode] reusing the base image {archive}", file=sys.stderr)
    else:
        build(archive, args.mirror)
    print(archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
