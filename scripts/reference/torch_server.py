"""Reference values from Python's PyTorch for torchnode's parity tests.

Reads one JSON request per line on stdin: {"id": n, "code": "...", "inputs": {name: tensor}} and runs
`code` with torch and the inputs bound as names; the code leaves its answer in `out` (a tensor, number,
bool, string, None, or lists/tuples/dicts of these). Writes {"id": n, "out": ...} or {"id": n, "error": "..."}.
Tensors travel as {"__tensor__": [dtype, shape, base64 of the raw little-endian bytes]} both ways, so
values are exact (no decimal round trip) and NaN/inf survive.
"""
import base64
import ctypes
import json
import sys
import traceback

import torch

sys.path.insert(0, __import__("os").path.dirname(__file__))  # the reference models beside this file

DTYPES = {
    "float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "int64": torch.int64, "int32": torch.int32, "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8,
    "bool": torch.bool, "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64,
    "float8_e5m2": torch.float8_e5m2, "float8_e4m3fn": torch.float8_e4m3fn, "float8_e5m2fnuz": torch.float8_e5m2fnuz,
    "float8_e4m3fnuz": torch.float8_e4m3fnuz, "float8_e8m0fnu": torch.float8_e8m0fnu,
}
NAMES = {v: k for k, v in DTYPES.items()}


def raw_bytes(t):
    """The bytes of a tensor (one memcpy, no numpy needed)."""
    t = t.detach().cpu().contiguous()
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""


def decode(v):
    if isinstance(v, dict) and "__tensor__" in v:
        dtype, shape, data = v["__tensor__"]
        raw = bytearray(base64.b64decode(data))
        t = torch.frombuffer(raw, dtype=DTYPES[dtype]) if raw else torch.empty(0, dtype=DTYPES[dtype])
        return t.reshape(shape).clone()
    if isinstance(v, dict):
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def encode(v):
    if isinstance(v, torch.Tensor):
        return {"__tensor__": [NAMES[v.dtype], list(v.shape), base64.b64encode(raw_bytes(v)).decode()]}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {str(k): encode(x) for k, x in v.items()}
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return {"__float__": repr(v)}
    if isinstance(v, torch.Size):
        return list(v)
    return v


def save_raw(tensors, path):
    """Writes {name: tensor} as path.json (names, dtypes, shapes, offsets) + path.bin (raw bytes)."""
    index, offset = [], 0
    with open(path + ".bin", "wb") as f:
        for name, t in tensors.items():
            raw = raw_bytes(t)
            f.write(raw)
            index.append({"name": name, "dtype": NAMES[t.dtype], "shape": list(t.shape), "offset": offset, "bytes": len(raw)})
            offset += len(raw)
    with open(path + ".json", "w") as f:
        json.dump(index, f)


def load_raw(path):
    with open(path + ".json") as f:
        index = json.load(f)
    with open(path + ".bin", "rb") as f:
        data = f.read()
    out = {}
    for e in index:
        raw = bytearray(data[e["offset"]:e["offset"] + e["bytes"]])
        t = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[e["dtype"]])
        out[e["name"]] = t.reshape(e["shape"]).clone()
    return out


def main():
    torch.set_num_threads(1)
    sys.stdout.write(json.dumps({"ready": torch.__version__}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        req = json.loads(line)
        scope = {"torch": torch, "F": torch.nn.functional, "nn": torch.nn, "save_raw": save_raw, "load_raw": load_raw}
        scope.update({k: decode(v) for k, v in req.get("inputs", {}).items()})
        try:
            exec(req["code"], scope)
            line = json.dumps({"id": req["id"], "out": encode(scope.get("out"))})
        except Exception as e:  # the test shows Python's error (an unencodable result included)
            line = json.dumps({"id": req["id"], "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()})
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
