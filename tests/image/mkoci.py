#!/usr/bin/env python3
"""Build test images for tests/integration/70-image.sh and bench/image.sh.

  mkoci.py layout OUT --ref TAG [--config JSON] [--gzip] [--arm64-decoy] LAYER.tar...
      An OCI image layout directory (oci-layout, index.json, blobs/sha256/...).
      --arm64-decoy: index.json points at an image index holding this image for
      linux/amd64 and a one-layer image for linux/arm64 (to check platform choice).
  mkoci.py evil OUT.tar KIND
      A layer with an entry escaping the target: dotdot, abs, symlink, hardlink.
  mkoci.py random OUT.tar MB
      A layer holding MB megabytes of random data (incompressible).
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def put_blob(out, data):
    d = hashlib.sha256(data).hexdigest()
    p = os.path.join(out, "blobs", "sha256", d)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)
    return "sha256:" + d, len(data)


def image(out, layers, cfg, gz, arch="amd64"):
    diff_ids, descs = [], []
    for data in layers:
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
        if gz:
            data = gzip.compress(data, compresslevel=1, mtime=0)
        d, n = put_blob(out, data)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else ""),
                      "digest": d, "size": n})
    config = {"architecture": arch, "os": "linux", "config": cfg,
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cd, cn = put_blob(out, json.dumps(config).encode())
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
           "layers": descs}
    md, mn = put_blob(out, json.dumps(man).encode())
    return {"mediaType": man["mediaType"], "digest": md, "size": mn}


def layout(argv):
    out = argv.pop(0)
    ref, cfg, gz, decoy, layers = None, {}, False, False, []
    while argv:
        a = argv.pop(0)
        if a == "--ref":
            ref = argv.pop(0)
        elif a == "--config":
            cfg = json.loads(argv.pop(0))
        elif a == "--gzip":
            gz = True
        elif a == "--arm64-decoy":
            decoy = True
        else:
            with open(a, "rb") as f:
                layers.append(f.read())
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    desc = image(out, layers, cfg, gz)
    if decoy:
        other = image(out, layers[:1], cfg, gz, arch="arm64")
        idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [dict(other, platform={"os": "linux", "architecture": "arm64"}),
                             dict(desc, platform={"os": "linux", "architecture": "amd64"})]}
        d, n = put_blob(out, json.dumps(idx).encode())
        desc = {"mediaType": idx["mediaType"], "digest": d, "size": n}
    desc["annotations"] = {"org.opencontainers.image.ref.name": ref}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [desc]}, f)


def add(t, name, kind=tarfile.REGTYPE, data=b"", link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def evil(argv):
    out, kind = argv
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        add(t, "etc", tarfile.DIRTYPE)
        add(t, "etc/ok", data=b"fine\n")
        if kind == "dotdot":
            add(t, "etc/../../hutch-escape-dotdot", data=b"escaped\n")
        elif kind == "abs":
            add(t, "/tmp/hutch-escape-abs", data=b"escaped\n")
        elif kind == "symlink":
            add(t, "up", tarfile.SYMTYPE, link="/tmp")
            add(t, "up/hutch-escape-symlink", data=b"escaped\n")
        elif kind == "relsymlink":
            add(t, "up", tarfile.SYMTYPE, link="../../../../../../../../tmp")
            add(t, "up/hutch-escape-relsymlink", data=b"escaped\n")
        elif kind == "hardlink":
            add(t, "passwd", tarfile.LNKTYPE, link="../../../../../etc/passwd")
        else:
            sys.exit("unknown kind " + kind)


def random_layer(argv):
    out, mb = argv[0], int(argv[1])
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("big.bin")
        ti.size = mb << 20
        ti.mode = 0o644
        t.addfile(ti, _RandomReader(ti.size))


class _RandomReader:
    def __init__(self, n):
        self.n = n

    def read(self, k=-1):
        k = self.n if k < 0 else min(k, self.n)
        self.n -= k
        return os.urandom(k)


if __name__ == "__main__":
    cmd = sys.argv[1]
    {"layout": layout, "evil": evil, "random": random_layer}[cmd](sys.argv[2:])
