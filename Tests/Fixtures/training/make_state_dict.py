#!/usr/bin/env python3
"""A PyTorch-style state dict with mixed dtypes, for Tests/MERNNTests/CheckpointTests.swift.

The model is PyTorch's

    nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(48, 2))

whose state dict holds, as torch.save would give it after some training,
`1.num_batches_tracked` as a 0-d int64 and the running statistics. Some entries are stored
as F16 and F64 (the engine converts them to float32 on load). The expected output for a
fixed input is computed here in numpy float64, eval mode (running statistics, eps 1e-5),
from the values as float32 holds them. Writes (numpy + `pip install safetensors`):

  bn_state_dict.safetensors  the state dict only (loads strictly by name)
  bn_io.safetensors          input (F32, 2x2x6x6) and expected (F64, 2x2)

    python3 Tests/Fixtures/training/make_state_dict.py
"""
import os

import numpy as np
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(77)

sd = {
    "0.weight": rng.uniform(-0.4, 0.4, (3, 2, 3, 3)).astype(np.float16),
    "0.bias": rng.uniform(-0.3, 0.3, (3,)).astype(np.float64),
    "1.weight": rng.uniform(0.5, 1.5, (3,)).astype(np.float32),
    "1.bias": rng.uniform(-0.2, 0.2, (3,)).astype(np.float32),
    "1.running_mean": rng.uniform(-0.5, 0.5, (3,)).astype(np.float64),
    "1.running_var": rng.uniform(0.3, 2.0, (3,)).astype(np.float16),
    "1.num_batches_tracked": np.array(1234, dtype=np.int64),
    "4.weight": rng.uniform(-0.15, 0.15, (2, 48)).astype(np.float32),
    "4.bias": rng.uniform(-0.1, 0.1, (2,)).astype(np.float32),
}
x = rng.normal(size=(2, 2, 6, 6)).astype(np.float32)

# What the float32 engine holds after loading.
p = {k: v.astype(np.float32).astype(np.float64) for k, v in sd.items()}
xd = x.astype(np.float64)

z = np.zeros((2, 3, 4, 4))
for i in range(3):
    for j in range(3):
        z += np.einsum("oc,nchw->nohw", p["0.weight"][:, :, i, j], xd[:, :, i:i + 4, j:j + 4])
z += p["0.bias"][None, :, None, None]
bn = (z - p["1.running_mean"][None, :, None, None]) / np.sqrt(p["1.running_var"][None, :, None, None] + 1e-5)
bn = bn * p["1.weight"][None, :, None, None] + p["1.bias"][None, :, None, None]
f = np.maximum(bn, 0).reshape(2, 48)
expected = f @ p["4.weight"].T + p["4.bias"]

save_file(sd, os.path.join(HERE, "bn_state_dict.safetensors"), metadata={"format": "pt"})
save_file({"input": x, "expected": expected}, os.path.join(HERE, "bn_io.safetensors"))
print("expected:", expected.tolist())
