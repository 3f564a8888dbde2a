#!/usr/bin/env python3
"""Convert official KP2D KeypointNet checkpoints to kp2d-tui weights (.safetensors) and back.

usage: ckpt_to_safetensors.py MODEL.ckpt OUT.safetensors
       ckpt_to_safetensors.py --to-ckpt WEIGHTS.safetensors OUT.ckpt

Forward: reads checkpoint['state_dict'] of a released TRI-ML/KP2D model.ckpt (keys conv1a.0.weight, ...,
convFbb.bias; a 'keypoint_net.' prefix is stripped, io_net.* entries are dropped) and writes every tensor
under the same key: float tensors as F32, num_batches_tracked as I64, in state_dict order.
Reverse (--to-ckpt): writes {'state_dict': OrderedDict(...)} that KeypointNet().load_state_dict() accepts,
with num_batches_tracked as int64 and everything else as float32.
Needs PyTorch and the safetensors package (pip install torch safetensors).
"""
import argparse
import collections
import sys

PREFIX = "keypoint_net."


def fail(msg):
    sys.exit(f"ckpt_to_safetensors: {msg}")


def keypoint_net_entries(state_dict):
    keys = list(state_dict.keys())
    if any(k.startswith(PREFIX) for k in keys):
        return [(k[len(PREFIX):], state_dict[k]) for k in keys if k.startswith(PREFIX)]
    return [(k, state_dict[k]) for k in keys]


def to_safetensors(src, dst):
    import torch
    from safetensors.torch import save_file

    try:
        ckpt = torch.load(src, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - report any load failure with the file name
        fail(f"{src}: cannot read checkpoint ({e})")
    state_dict = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state_dict, dict):
        fail(f"{src}: no 'state_dict' mapping in the checkpoint; expected a KP2D model.ckpt")
    entries = keypoint_net_entries(state_dict)
    if not any(k == "conv1a.0.weight" for k, _ in entries):
        fail(f"{src}: no 'conv1a.0.weight' in the state dict; this is not a KeypointNet checkpoint")
    out = collections.OrderedDict()
    for k, v in entries:
        if not torch.is_tensor(v):
            fail(f"{src}: entry '{k}' is not a tensor")
        if k.endswith("num_batches_tracked"):
            out[k] = v.detach().to(torch.int64).reshape([]).contiguous()
        else:
            out[k] = v.detach().to(torch.float32).contiguous()
    save_file(out, dst, metadata={"source": src})
    print(f"wrote {dst}: {len(out)} tensors")


def to_ckpt(src, dst):
    import torch
    from safetensors import safe_open

    try:
        f = safe_open(src, framework="pt")
    except Exception as e:  # noqa: BLE001
        fail(f"{src}: cannot read safetensors ({e})")
    with f:
        entries = [(k, f.get_tensor(k)) for k in f.keys()]
    entries = keypoint_net_entries(collections.OrderedDict(entries))
    if not any(k == "conv1a.0.weight" for k, _ in entries):
        fail(f"{src}: no 'conv1a.0.weight'; this is not a KeypointNet weights file")
    # safetensors stores tensors sorted by name; restore PyTorch's module order.
    order = ["conv1a", "conv1b", "conv2a", "conv2b", "conv3a", "conv3b", "conv4a", "conv4b",
             "convDa", "convDb", "convPa", "convPb", "convFa", "convFb", "convFaa", "convFbb"]
    leaf = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
            "1.num_batches_tracked", "weight", "bias"]

    def rank(key):
        mod, _, rest = key.partition(".")
        return (order.index(mod) if mod in order else len(order), leaf.index(rest) if rest in leaf else len(leaf), key)

    state_dict = collections.OrderedDict()
    for k, v in sorted(entries, key=lambda kv: rank(kv[0])):
        state_dict[k] = v.to(torch.int64) if k.endswith("num_batches_tracked") else v.to(torch.float32)
    torch.save({"state_dict": state_dict}, dst)
    print(f"wrote {dst}: {len(state_dict)} tensors")


def main():
    p = argparse.ArgumentParser(
        description="Convert KP2D KeypointNet checkpoints (.ckpt) to safetensors and back.",
        usage="%(prog)s MODEL.ckpt OUT.safetensors | %(prog)s --to-ckpt WEIGHTS.safetensors OUT.ckpt")
    p.add_argument("--to-ckpt", action="store_true", help="convert a .safetensors back to a .ckpt")
    p.add_argument("src")
    p.add_argument("dst")
    a = p.parse_args()
    try:
        import torch  # noqa: F401
        import safetensors  # noqa: F401
    except ImportError as e:
        fail(f"needs PyTorch and safetensors ({e}); pip install torch safetensors")
    if a.to_ckpt:
        to_ckpt(a.src, a.dst)
    else:
        to_safetensors(a.src, a.dst)


if __name__ == "__main__":
    main()
