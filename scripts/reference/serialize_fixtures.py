"""Files for torchnode's torch.save / torch.load tests (test/serialize.test.ts), written by Python's torch.

make(dir) writes, under dir:
  py_small.pt   a small model's state_dict + SGD state + epoch (the fuzz test damages copies of it)
  legacy.pt     the pre-1.6 (non-zip) torch.save format
  script.pt     a TorchScript archive (torch.jit.save), not a torch.save file
  flat.zip      a zip whose file is not in a folder
  nopkl.zip     a zip laid out like a torch file but without data.pkl
  global.pt     a checkpoint naming a global outside the weights-only allow-list (datetime.date)
  cuda.pt       tensors whose storages say they were saved on 'cuda:0' (location_tag patched)
  oob.pt        a torch file whose pickle gives a tensor more elements than its storage holds
  overlap.pt    a torch file whose zip lists one 1 MiB record under 64 names (a zip bomb by overlap)
  misc.pt       Python values of every kind a checkpoint may hold (tuples, Size, device, dtype, set, ...)
  proto2.pt, proto4.pt, proto5.pt   one checkpoint pickled with protocols 2 (the default), 4 and 5
"""
import collections
import datetime
import io
import os
import struct
import zipfile

import torch
from torch import nn


def _rezip(src, dst, edit):
    """Copies the zip src to dst with edit(name, data) -> data applied to every record."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit(info.filename, zin.read(info.filename)))


def _overlap(src, dst, copies=64):
    """Rewrites src with every record stored once, then adds `copies` central-directory entries that
    point at data/0's bytes under new names (data/1, data/2, ...)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    raw = buf.getvalue()
    eocd = raw.rfind(b"PK\x05\x06")
    n, cd_size, cd_off = struct.unpack("<HII", raw[eocd + 10:eocd + 20])
    cd, pos, extra = raw[cd_off:cd_off + cd_size], 0, []
    while pos < len(cd):
        name_len, extra_len, comment_len = struct.unpack("<HHH", cd[pos + 28:pos + 34])
        end = pos + 46 + name_len + extra_len + comment_len
        name = cd[pos + 46:pos + 46 + name_len]
        if name.endswith(b"/data/0"):
            for k in range(1, copies + 1):
                new_name = name[:-1] + str(k).encode()
                entry = cd[pos:pos + 28] + struct.pack("<H", len(new_name)) + cd[pos + 30:pos + 46] + new_name + cd[pos + 46 + name_len:end]
                extra.append(entry)
        pos = end
    cd += b"".join(extra)
    tail = raw[eocd:eocd + 8] + struct.pack("<HHII", n + len(extra), n + len(extra), len(cd), cd_off) + raw[eocd + 20:]
    with open(dst, "wb") as f:
        f.write(raw[:cd_off] + cd + tail)


def make(d):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    nn.functional.cross_entropy(model(torch.randn(2, 3, 6, 6)), torch.tensor([0, 2])).backward()
    opt.step()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, os.path.join(d, "py_small.pt"))

    torch.save({"a": torch.ones(2)}, os.path.join(d, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), os.path.join(d, "script.pt"))
    with zipfile.ZipFile(os.path.join(d, "flat.zip"), "w") as z:
        z.writestr("hello.txt", "hello")
    with zipfile.ZipFile(os.path.join(d, "nopkl.zip"), "w") as z:
        z.writestr("x/version", "3\n")
        z.writestr("x/hello.txt", "hello")
    torch.save({"w": torch.ones(2), "when": datetime.date(2020, 1, 1)}, os.path.join(d, "global.pt"))

    saved_tag = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        base = torch.arange(6.0).view(2, 3)
        torch.save({"w": base, "t": base.t()}, os.path.join(d, "cuda.pt"))
    finally:
        torch.serialization.location_tag = saved_tag

    ones = os.path.join(d, "ones.pt")
    torch.save({"t": torch.ones(2)}, ones)
    # size (2,) -> (255,): BININT1 0 (offset), BININT1 2, TUPLE1 becomes BININT1 0, BININT1 255, TUPLE1
    _rezip(ones, os.path.join(d, "oob.pt"),
           lambda name, data: data.replace(b"K\x00K\x02\x85", b"K\x00K\xff\x85", 1) if name.endswith("data.pkl") else data)
    os.remove(ones)

    big = os.path.join(d, "big.pt")
    torch.save({"t": torch.zeros(1 << 18)}, big)
    _overlap(big, os.path.join(d, "overlap.pt"))
    os.remove(big)

    torch.save({
        "tuple": (1, 2.5, "x"),
        "size": torch.Size([2, 3]),
        "device": torch.device("cpu"),
        "cuda_device": torch.device("cuda", 1),
        "dtype": torch.float16,
        "set": {1, 2},
        "bytes": b"ab\x00\xff",
        "big": 2 ** 70,
        "negbig": -(2 ** 70),
        "none": None,
        "nested": [[1, [2]], {"a": {"b": 3}}],
        "int_keys": {0: "a", 1: "b"},
        "tuple_keys": {(1, 2): "x"},
        "param": nn.Parameter(torch.ones(2)),
        "counter": collections.Counter("aab"),
        "float": 2.0,
        "shared": [torch.arange(4)] * 2,
    }, os.path.join(d, "misc.pt"))

    ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1, "names": ["a", "b"] * 3, "t": (1, 2, 3, 4)}
    for proto in (2, 4, 5):
        torch.save(ck, os.path.join(d, f"proto{proto}.pt"), pickle_protocol=proto)
