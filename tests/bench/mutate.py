#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# make bench, delta install: derives a release tree from another, reproducibly (same inputs,
# same output): rewrites a share of the files (a byte in every 64 changed, as a rebuild
# changes a binary all over), adds files, removes some. Also computes the floor of a delta:
# the gzip -6 size of the new image's blocks that the old image lacks.
import hashlib
import os
import shutil
import sys
import zlib


def keystream(seed, n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (seed.encode(), i)).digest()
        i += 1
    return out[:n]


def mutate(src, dst, share, seed, add, remove):
    shutil.copytree(src, dst, symlinks=True)
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(dst) for f in fs
                   if not os.path.islink(os.path.join(r, f)))
    step = max(1, round(1 / share))
    for i, path in enumerate(files):
        if i % step != step // 2:
            continue
        data = bytearray(open(path, "rb").read())
        ks = keystream(seed + path, len(data) // 64 + 1)
        for j in range(0, len(data), 64):
            data[j] ^= ks[j // 64] | 1
        open(path, "wb").write(data)
    for k, path in enumerate(files[-remove:] if remove else []):
        os.unlink(path)
    for name, source in add:
        shutil.copyfile(source, os.path.join(dst, name))


def floor(old, new, bs=4096):
    have = set()
    with open(old, "rb") as f:
        while True:
            b = f.read(bs)
            if not b:
                break
            have.add(hashlib.sha256(b).digest())
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    total = 0
    with open(new, "rb") as f:
        while True:
            b = f.read(bs)
            if not b:
                break
            if hashlib.sha256(b).digest() not in have:
                total += len(z.compress(b))
    return total + len(z.flush())


if __name__ == "__main__":
    if sys.argv[1] == "mutate":  # mutate SRC DST SHARE SEED [NAME=FILE...] [-N]
        adds = [tuple(a.split("=", 1)) for a in sys.argv[6:] if "=" in a]
        rm = sum(int(a[1:]) for a in sys.argv[6:] if a.startswith("-"))
        mutate(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5], adds, rm)
    elif sys.argv[1] == "floor":  # floor OLD NEW: bytes
        print(floor(sys.argv[2], sys.argv[3]))
