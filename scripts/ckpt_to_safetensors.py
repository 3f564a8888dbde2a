#!/usr/bin/env python3
"""Convert official KP2D KeypointNet checkpoints to kp2d-tui weights (.safetensors) and back.

usage: ckpt_to_safetensors.py MODEL.ckpt OUT.safetensors
       ckpt_to_safetensors.py --to-ckpt WEIGHTS.safetensors OUT.ckpt
       ckpt_to_safetensors.py --self-test

Forward: reads checkpoint['state_dict'] of a released TRI-ML/KP2D model.ckpt (keys conv1a.0.weight, ...,
convFbb.bias; a 'keypoint_net.' prefix is stripped, io_net.* entries are dropped) and writes every tensor
under the same key: float tensors as F32, num_batches_tracked as I64 scalars, in state_dict order.
Reverse (--to-ckpt): writes {'state_dict': OrderedDict(...)} in PyTorch module order, which
KeypointNet().load_state_dict() accepts (num_batches_tracked int64, everything else float32).
Needs PyTorch for the conversions (pip install torch). The safetensors container is read and written
here directly, so the `safetensors` package is not needed. --self-test checks that container code
without PyTorch.
"""
import argparse
import collections
import json
import struct
import sys

PREFIX = "keypoint_net."
MODULE_ORDER = ["conv1a", "conv1b", "conv2a", "conv2b", "conv3a", "conv3b", "conv4a", "conv4b",
                "convDa", "convDb", "convPa", "convPb", "convFa", "convFb", "convFaa", "convFbb"]
LEAF_ORDER = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
              "1.num_batches_tracked", "weight", "bias"]


def fail(msg):
    sys.exit(f"ckpt_to_safetensors: {msg}")


# ---- safetensors container (8-byte LE header length, JSON header, little-endian data) ----

def write_safetensors(path, entries, metadata=None):
    """entries: list of (key, dtype 'F32'|'I64', shape list, flat list of numbers), written in order."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for key, dtype, shape, values in entries:
        count = 1
        for d in shape:
            count *= d
        if len(values) != count:
            raise ValueError(f"{key}: {len(values)} values for shape {shape}")
        fmt = "<%d%s" % (count, "f" if dtype == "F32" else "q")
        data = struct.pack(fmt, *values)
        header[key] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    """Returns (OrderedDict key -> (dtype, shape, flat list), metadata), keys in data order."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("header length runs past the end of the file")
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    out = collections.OrderedDict()
    for key, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dtype, shape, (b, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dtype not in ("F32", "I64"):
            raise ValueError(f"tensor '{key}' has dtype {dtype}; only F32 and I64 are supported")
        size = 4 if dtype == "F32" else 8
        count = (end - b) // size
        values = list(struct.unpack("<%d%s" % (count, "f" if dtype == "F32" else "q"), raw[base + b:base + end]))
        out[key] = (dtype, shape, values)
    return out, metadata


# ---- state dict helpers ----

def keypoint_net_items(items):
    items = list(items)
    if any(k.startswith(PREFIX) for k, _ in items):
        return [(k[len(PREFIX):], v) for k, v in items if k.startswith(PREFIX)]
    return items


def module_rank(key):
    mod, _, rest = key.partition(".")
    return (MODULE_ORDER.index(mod) if mod in MODULE_ORDER else len(MODULE_ORDER),
            LEAF_ORDER.index(rest) if rest in LEAF_ORDER else len(LEAF_ORDER), key)


def to_safetensors(src, dst):
    import torch

    try:
        ckpt = torch.load(src, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - report any load failure with the file name
        fail(f"{src}: cannot read checkpoint ({e})")
    state_dict = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state_dict, dict):
        fail(f"{src}: no 'state_dict' mapping in the checkpoint; expected a KP2D model.ckpt")
    items = keypoint_net_items(state_dict.items())
    if not any(k == "conv1a.0.weight" for k, _ in items):
        fail(f"{src}: no 'conv1a.0.weight' in the state dict; this is not a KeypointNet checkpoint")
    entries = []
    for k, v in items:
        if not torch.is_tensor(v):
            fail(f"{src}: entry '{k}' is not a tensor")
        v = v.detach().cpu()
        if k.endswith("num_batches_tracked"):
            entries.append((k, "I64", [], [int(v.reshape(-1)[0].item())]))
        else:
            v = v.to(torch.float32).contiguous()
            entries.append((k, "F32", list(v.shape), v.reshape(-1).tolist()))
    write_safetensors(dst, entries, metadata={"source": src})
    print(f"wrote {dst}: {len(entries)} tensors")


def to_ckpt(src, dst):
    import torch

    try:
        tensors, _ = read_safetensors(src)
    except (OSError, ValueError, KeyError) as e:
        fail(f"{src}: not a readable safetensors file ({e})")
    items = keypoint_net_items(tensors.items())
    if not any(k == "conv1a.0.weight" for k, _ in items):
        fail(f"{src}: no 'conv1a.0.weight'; this is not a KeypointNet weights file")
    state_dict = collections.OrderedDict()
    for k, (dtype, shape, values) in sorted(items, key=lambda kv: module_rank(kv[0])):
        if k.endswith("num_batches_tracked"):
            state_dict[k] = torch.tensor(int(values[0]), dtype=torch.int64)
        else:
            state_dict[k] = torch.tensor(values, dtype=torch.float32).reshape(shape)
    torch.save({"state_dict": state_dict}, dst)
    print(f"wrote {dst}: {len(state_dict)} tensors")


def self_test():
    import os
    import tempfile

    entries = [("conv1a.0.weight", "F32", [2, 1, 1, 1], [0.5, -1.25]),
               ("conv1a.1.num_batches_tracked", "I64", [], [7]),
               ("convFbb.bias", "F32", [3], [1.0, 2.0, 3.0])]
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.safetensors")
        write_safetensors(p, entries, metadata={"source": "self-test"})
        back, meta = read_safetensors(p)
        assert meta == {"source": "self-test"}, meta
        assert [(k, *v) for k, v in back.items()] == entries, back
        with open(p, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
        assert n % 8 == 0
    prefixed = keypoint_net_items([("keypoint_net.conv1a.0.weight", 1), ("io_net.x", 2)])
    assert prefixed == [("conv1a.0.weight", 1)], prefixed
    keys = ["convFbb.bias", "conv1a.1.weight", "convFbb.weight", "conv1a.0.weight", "conv1a.1.num_batches_tracked"]
    assert sorted(keys, key=module_rank) == ["conv1a.0.weight", "conv1a.1.weight", "conv1a.1.num_batches_tracked",
                                             "convFbb.weight", "convFbb.bias"]
    print("self-test passed")


def main():
    p = argparse.ArgumentParser(
        description="Convert KP2D KeypointNet checkpoints (.ckpt) to safetensors and back.",
        usage="%(prog)s MODEL.ckpt OUT.safetensors | %(prog)s --to-ckpt WEIGHTS.safetensors OUT.ckpt | %(prog)s --self-test")
    p.add_argument("--to-ckpt", action="store_true", help="convert a .safetensors back to a .ckpt")
    p.add_argument("--self-test", action="store_true", help="check the safetensors code (no PyTorch needed)")
    p.add_argument("src", nargs="?")
    p.add_argument("dst", nargs="?")
    a = p.parse_args()
    if a.self_test:
        self_test()
        return
    if not a.src or not a.dst:
        p.error("need SRC and DST")
    try:
        import torch  # noqa: F401
    except ImportError as e:
        fail(f"needs PyTorch ({e}); pip install torch")
    if a.to_ckpt:
        to_ckpt(a.src, a.dst)
    else:
        to_safetensors(a.src, a.dst)


if __name__ == "__main__":
    main()
