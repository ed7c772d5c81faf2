#!/usr/bin/env python3
"""Writes lockdrop's OCI image layout tarball (scripts/release.sh calls it).

    oci.py OUT.tar VERSION EPOCH ARCH=BINARY...

One image per architecture, each FROM scratch with a single file /lockdrop
(mode 0755, root:root), under one multi-arch image index tagged VERSION, so
`COPY --from=lockdrop:VERSION /lockdrop /sbin/lockdrop` picks the builder's
architecture. Written by hand rather than by an engine: no daemon, and every
byte is fixed by the inputs (sorted keys, no whitespace, mtimes = EPOCH, the
commit time; uncompressed layers, so no compressor version shows up in a
digest).

The tarball holds both formats `docker load` and `podman load` read:
- the OCI image layout (oci-layout, index.json, blobs/sha256/...): podman,
  skopeo, containerd, and Docker >= 25 with the containerd image store load
  the whole index under the name docker.io/library/lockdrop:VERSION;
- manifest.json (the docker-archive format older Docker reads, one image per
  tag): lockdrop:VERSION-ARCH for each architecture and lockdrop:VERSION for
  x86_64, pointing at the same blobs.
"""
import hashlib
import io
import json
import sys
import tarfile
import time

# uname -m -> OCI platform (architecture, variant)
PLATFORM = {
    "x86_64": ("amd64", None),
    "aarch64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "riscv64": ("riscv64", None),
    "s390x": ("s390x", None),
    "armv5tel": ("arm", "v5"),
}


def dumps(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def tarinfo(name, size, mode, epoch, kind=tarfile.REGTYPE):
    t = tarfile.TarInfo(name)
    t.size, t.mode, t.mtime, t.type = size, mode, epoch, kind
    t.uid = t.gid = 0
    t.uname = t.gname = "root"
    return t


def main():
    out, version, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pairs = [a.split("=", 1) for a in sys.argv[4:]]
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    blobs = {}  # digest -> bytes

    def blob(data, media):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return {"mediaType": media, "digest": d, "size": len(data)}

    manifests, legacy = [], []
    for arch, path in pairs:
        with open(path, "rb") as f:
            binary = f.read()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
            t.addfile(tarinfo("lockdrop", len(binary), 0o755, epoch), io.BytesIO(binary))
        layer = blob(buf.getvalue(), "application/vnd.oci.image.layer.v1.tar")
        os_arch, variant = PLATFORM[arch]
        platform = {"architecture": os_arch, "os": "linux"}
        if variant:
            platform["variant"] = variant
        config = dict(platform)
        config.update({
            "created": created,
            "config": {"Entrypoint": ["/lockdrop"]},
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
            "history": [{"created": created, "created_by": "scripts/release.sh: COPY lockdrop /lockdrop"}],
        })
        cfg = blob(dumps(config), "application/vnd.oci.image.config.v1+json")
        man = blob(dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": cfg, "layers": [layer]}),
                   "application/vnd.oci.image.manifest.v1+json")
        man["platform"] = platform
        manifests.append(man)
        tags = ["lockdrop:%s-%s" % (version, arch)]
        if arch == "x86_64":
            tags.insert(0, "lockdrop:" + version)
        legacy.append({"Config": "blobs/sha256/" + cfg["digest"][7:], "RepoTags": tags,
                       "Layers": ["blobs/sha256/" + layer["digest"][7:]]})

    inner = blob(dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": manifests}), "application/vnd.oci.image.index.v1+json")
    inner["annotations"] = {
        "io.containerd.image.name": "docker.io/library/lockdrop:" + version,
        "org.opencontainers.image.ref.name": version,
    }
    index = dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": [inner]})

    files = [("oci-layout", dumps({"imageLayoutVersion": "1.0.0"})),
             ("index.json", index),
             ("manifest.json", dumps(legacy))]
    files += [("blobs/sha256/" + d[7:], data) for d, data in sorted(blobs.items())]
    with open(out, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for d in ("blobs/", "blobs/sha256/"):
            t.addfile(tarinfo(d, 0, 0o755, epoch, tarfile.DIRTYPE))
        for name, data in files:
            t.addfile(tarinfo(name, len(data), 0o644, epoch), io.BytesIO(data))


if __name__ == "__main__":
    main()
