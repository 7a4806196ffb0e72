"""One-layer OCI image archives written from files, for a real node that has no registry.

`ctr images import` reads the archive and tags the image from the index's
`io.containerd.image.name` annotation, so a pod can run it with `imagePullPolicy: Never`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


def _descriptor(media_type: str, blob: bytes) -> dict[str, object]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
    }


def _layer(
    rootfs: Path | None,
    files: Mapping[str, Path],
    symlinks: Mapping[str, str],
    directories: Sequence[str],
) -> tuple[bytes, str]:
    """The gzipped layer and the digest of its uncompressed tar (the image config's diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if rootfs is not None:
            for child in sorted(rootfs.iterdir()):
                tar.add(str(child), arcname=child.name)
        for name in sorted(directories):
            info = tarfile.TarInfo(name.strip("/"))
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name.strip("/") == "tmp" else 0o755
            tar.addfile(info)
        for name, source in sorted(files.items()):
            info = tar.gettarinfo(str(source), arcname=name.lstrip("/"))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with source.open("rb") as stream:
                tar.addfile(info, stream)
        for name, target in sorted(symlinks.items()):
            info = tarfile.TarInfo(name.lstrip("/"))
            info.type = tarfile.SYMTYPE
            info.linkname = target
            info.mode = 0o777
            tar.addfile(info)
    uncompressed = raw.getvalue()
    # mtime=0: the same files give the same layer digest, so re-imports are no-ops.
    compressed = gzip.compress(uncompressed, compresslevel=1, mtime=0)
    return compressed, "sha256:" + hashlib.sha256(uncompressed).hexdigest()


def write_image(
    archive: Path,
    reference: str,
    files: Mapping[str, Path] | None = None,
    *,
    rootfs: Path | None = None,
    symlinks: Mapping[str, str] | None = None,
    directories: Sequence[str] = (),
    entrypoint: Sequence[str] = (),
    command: Sequence[str] = (),
) -> Path:
    """Write an OCI image-layout tar of one layer tagged `reference` (e.g. localhost/pause:local)
    holding a whole `rootfs` directory, or `files` (path in the image -> file on this host),
    `symlinks` (path -> target) and empty `directories`."""
    layer, diff_id = _layer(rootfs, files or {}, symlinks or {}, directories)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Entrypoint": list(entrypoint) or None,
                "Cmd": list(command) or None,
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            # One history entry per layer: buildah refuses an image whose history and layers
            # do not match.
            "history": [{"created_by": "fluidpy.testing._oci"}],
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": _descriptor(CONFIG, config),
            "layers": [_descriptor(LAYER, layer)],
        },
        sort_keys=True,
    ).encode()
    tag = reference.rsplit(":", 1)[-1]
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": [
                {
                    **_descriptor(MANIFEST, manifest),
                    "annotations": {
                        "io.containerd.image.name": reference,
                        "org.opencontainers.image.ref.name": tag,
                    },
                }
            ],
        }
    ).encode()
    entries = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": index,
    }
    for blob in (layer, config, manifest):
        entries["blobs/sha256/" + hashlib.sha256(blob).hexdigest()] = blob
    with tarfile.open(archive, "w") as tar:
        for name, blob in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(blob))
    return archive
