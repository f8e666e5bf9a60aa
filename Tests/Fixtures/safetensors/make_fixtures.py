#!/usr/bin/env python3
"""Writes the safetensors fixtures read by Tests/MERTensorTests/SafeTensorsTests.swift.

Every file is written by the reference implementation (`pip install safetensors`, numpy).
`safetensors.numpy` has no bfloat16 (numpy lacks the dtype), so the BF16 file is written by
the same Rust serializer that `save_file` calls, `safetensors.serialize_file`, fed a
`TensorSpec` pointing at raw uint16 bit patterns with dtype "bfloat16" (tested with 0.8.0). Run from anywhere:

    python3 Tests/Fixtures/safetensors/make_fixtures.py

It prints the values each file holds as float32 (what the Swift test hard-codes).
"""
import os

import numpy as np
import safetensors
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def show(fname, tensors):
    print(f"== {fname}")
    for k, v in tensors.items():
        with np.errstate(over="ignore"):
            as_f32 = np.asarray(v).astype(np.float32)
        print(f"  {k}: dtype={v.dtype} shape={list(v.shape)} float32={as_f32.ravel().tolist()}")


def write(fname, tensors, metadata=None):
    save_file(tensors, path(fname), metadata=metadata)
    back = load_file(path(fname))
    for k in tensors:
        assert back[k].dtype == tensors[k].dtype and back[k].shape == tensors[k].shape
        assert np.array_equal(back[k], tensors[k], equal_nan=tensors[k].dtype.kind == "f")
    show(fname, tensors)


write("f32.safetensors", {
    "a": np.array([[0.0, 1.0, -2.5], [3.25, 1e-8, -1e30]], dtype=np.float32),
    "scalar": np.array(7.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
})

# F16: ±0, 1, -2, max finite, smallest subnormal, two more subnormals, ±inf, NaN.
f16_bits = np.array([0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0200, 0x83FF,
                     0x7C00, 0xFC00, 0x7E00], dtype=np.uint16)
write("f16.safetensors", {"h": f16_bits.view(np.float16)})

write("f64.safetensors", {"d": np.array([1.0 / 3.0, -0.1, 1e300, 1e-50, 2.0 ** 100], dtype=np.float64)})

write("ints.safetensors", {
    "num_batches_tracked": np.array(12345, dtype=np.int64),
    "i64": np.array([-1, 0, 2 ** 40], dtype=np.int64),
    "i32": np.array([-2147483648, 16777217], dtype=np.int32),
    "i16": np.array([-32768, 5], dtype=np.int16),
    "i8": np.array([-128, 127], dtype=np.int8),
})

write("bool_u8.safetensors", {
    "mask": np.array([True, False, True, True]),
    "pix": np.array([[0, 1], [128, 255]], dtype=np.uint8),
})

write("state_dict.safetensors", {
    "0.weight": np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32),
    "0.bias": np.array([0.1, -0.2], dtype=np.float32),
    "1.running_mean": np.array([0.0, 1.5], dtype=np.float32),
    "1.running_var": np.array([1.0, 4.0], dtype=np.float32),
    "1.num_batches_tracked": np.array(7, dtype=np.int64),
}, metadata={"format": "pt", "epoch": "3"})

# BF16: 1, -3, +inf, NaN, the smallest subnormal (2^-133), 1.0078125 (1 + 2^-7).
bf16_bits = np.array([0x3F80, 0xC040, 0x7F80, 0x7FC0, 0x0001, 0x3F81], dtype="<u2")
spec = safetensors.TensorSpec(dtype="bfloat16", shape=[6], data_ptr=bf16_bits.ctypes.data,
                              data_len=bf16_bits.nbytes)
safetensors.serialize_file({"b": spec}, path("bf16.safetensors"), metadata=None)
with open(path("bf16.safetensors"), "rb") as fh:
    (name, info), = safetensors.deserialize(fh.read())
assert name == "b" and info["dtype"] == "BF16" and bytes(info["data"]) == bf16_bits.tobytes()
print("== bf16.safetensors")
print(f"  b: dtype=BF16 shape=[6] float32="
      f"{(bf16_bits.astype(np.uint32) << 16).view(np.float32).tolist()}")

for name in sorted(os.listdir(HERE)):
    if name.endswith(".safetensors"):
        with open(path(name), "rb") as fh:
            data = fh.read()
        n = int.from_bytes(data[:8], "little")
        print(f"{name}: {len(data)} bytes, header {data[8:8 + n].decode()!r}")
