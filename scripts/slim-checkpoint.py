#!/usr/bin/env python3
"""scripts/slim-checkpoint.py SRC DST - a model folder's copy at half the size.

Copies SRC's config.json (and checkpoint.json / trainer_state.json when
present) to DST and writes DST/model.safetensors with every F32 tensor as
F16 (attnscope converts F16 back to F32 when it loads them). Used to keep a
bundled model's training checkpoints for `attnscope report --checkpoints`
under the bundle's size limit: head classes and scores are read from them,
never training. DST is written in a temporary folder first and renamed, so
a failure leaves no half-written checkpoint. Needs python3-numpy."""
import json
import os
import shutil
import struct
import sys

import numpy as np


def slim(src_file, dst_file):
    with open(src_file, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out, blobs, offset = {}, [], 0
    for name, t in header.items():
        if name == "__metadata__":
            out[name] = t
            continue
        a, b = t["data_offsets"]
        raw = data[a:b]
        dtype = t["dtype"]
        if dtype == "F32":
            raw = np.frombuffer(raw, dtype="<f4").astype("<f2").tobytes()
            dtype = "F16"
        out[name] = {"dtype": dtype, "shape": t["shape"],
                     "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(out, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(dst_file, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: scripts/slim-checkpoint.py SRC_MODEL_DIR DST_DIR")
    src, dst = sys.argv[1], sys.argv[2].rstrip("/")
    for need in ("config.json", "model.safetensors"):
        if not os.path.isfile(os.path.join(src, need)):
            sys.exit("slim-checkpoint: %s/%s is missing" % (src, need))
    tmp = dst + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name in ("config.json", "checkpoint.json", "trainer_state.json"):
        if os.path.isfile(os.path.join(src, name)):
            shutil.copy(os.path.join(src, name), tmp)
    slim(os.path.join(src, "model.safetensors"), os.path.join(tmp, "model.safetensors"))
    shutil.rmtree(dst, ignore_errors=True)
    os.rename(tmp, dst)


if __name__ == "__main__":
    main()
