#!/usr/bin/env python3
"""Reference training trajectory for Tests/MERNNTests/TrajectoryTests.swift.

A small CNN, PyTorch's

    nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(4 * 4 * 4, 3))

is written out here in numpy float64 — forward, mean cross-entropy and the backward pass by
hand (checked against central differences before anything is saved) — and trained for 5
Adam steps (lr 0.01, PyTorch's defaults otherwise, the update of torch/optim/adam.py) on
one fixed batch of 6 images 2x8x8. Nothing here uses the engine under test or PyTorch.

Writes (numpy + `pip install safetensors`; run from anywhere):
  trajectory_init.safetensors  the initial weights, float32, under PyTorch's state-dict names
                               0.weight, 0.bias, 4.weight, 4.bias
  trajectory.safetensors       input (F32), target (I64 class indices), losses (F64: the loss
                               before each step and after the last, 6 values) and the final
                               weights final.<name> (F64)

    python3 Tests/Fixtures/training/make_trajectory.py
"""
import os

import numpy as np
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
N, CIN, H, W, COUT, K, CLASSES = 6, 2, 8, 8, 4, 3, 3
FEAT = COUT * (H // 2) * (W // 2)

rng = np.random.default_rng(20240611)


def f32(a):
    """Values the float32 engine can hold exactly (so both sides start from the same numbers)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


# PyTorch's default init ranges: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
b_conv = 1 / np.sqrt(CIN * K * K)
b_lin = 1 / np.sqrt(FEAT)
params = {
    "0.weight": f32(rng.uniform(-b_conv, b_conv, (COUT, CIN, K, K))),
    "0.bias": f32(rng.uniform(-b_conv, b_conv, (COUT,))),
    "4.weight": f32(rng.uniform(-b_lin, b_lin, (CLASSES, FEAT))),
    "4.bias": f32(rng.uniform(-b_lin, b_lin, (CLASSES,))),
}
x = f32(rng.normal(size=(N, CIN, H, W)))
y = np.array([0, 2, 1, 1, 0, 2], dtype=np.int64)


def im2col(x):
    """cols[n, c, i, j, h, w] = padded x[n, c, h + i, w + j] (padding 1, stride 1)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((x.shape[0], CIN, K, K, H, W))
    for i in range(K):
        for j in range(K):
            cols[:, :, i, j] = xp[:, :, i:i + H, j:j + W]
    return cols


def forward(p, with_cache=False):
    cols = im2col(x)
    z = np.einsum("ocij,ncijhw->nohw", p["0.weight"], cols) + p["0.bias"][None, :, None, None]
    a = np.maximum(z, 0)
    win = a.reshape(N, COUT, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, COUT, H // 2, W // 2, 4)
    arg = win.argmax(-1)        # first maximum in row-major window order, as PyTorch picks
    pooled = win.max(-1)
    f = pooled.reshape(N, FEAT)
    logits = f @ p["4.weight"].T + p["4.bias"]
    shifted = logits - logits.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    loss = -logp[np.arange(N), y].mean()
    if not with_cache:
        return loss
    return loss, dict(cols=cols, z=z, arg=arg, f=f, logp=logp)


def backward(p):
    loss, c = forward(p, with_cache=True)
    dlogits = np.exp(c["logp"])
    dlogits[np.arange(N), y] -= 1
    dlogits /= N
    g = {"4.weight": dlogits.T @ c["f"], "4.bias": dlogits.sum(0)}
    dpooled = (dlogits @ p["4.weight"]).reshape(N, COUT, H // 2, W // 2)
    dwin = np.zeros((N, COUT, H // 2, W // 2, 4))
    np.put_along_axis(dwin, c["arg"][..., None], dpooled[..., None], axis=-1)
    da = dwin.reshape(N, COUT, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, COUT, H, W)
    dz = da * (c["z"] > 0)
    g["0.weight"] = np.einsum("nohw,ncijhw->ocij", dz, c["cols"])
    g["0.bias"] = dz.sum((0, 2, 3))
    return loss, g


def check_gradients(p):
    """Central differences on a sample of every parameter's elements."""
    _, g = backward(p)
    h = 1e-6
    for name, t in p.items():
        for idx in list(np.ndindex(t.shape))[::max(1, t.size // 12)]:
            saved = t[idx]
            t[idx] = saved + h
            plus = forward(p)
            t[idx] = saved - h
            minus = forward(p)
            t[idx] = saved
            num = (plus - minus) / (2 * h)
            assert abs(num - g[name][idx]) <= 1e-7 + 1e-5 * abs(num), (name, idx, num, g[name][idx])


def adam(p, steps, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch.optim.Adam, single-tensor path, in float64."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(t) for k, t in p.items()}
    losses = []
    for t in range(1, steps + 1):
        loss, g = backward(p)
        losses.append(loss)
        for k in p:
            m[k] += (g[k] - m[k]) * (1 - beta1)
            v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k]
            step_size = lr / (1 - beta1 ** t)
            denom = np.sqrt(v[k]) / np.sqrt(1 - beta2 ** t) + eps
            p[k] = p[k] - step_size * m[k] / denom
    losses.append(forward(p))
    return np.array(losses)


init = {k: v.copy() for k, v in params.items()}
check_gradients({k: v.copy() for k, v in params.items()})
losses = adam(params, 5)

save_file({k: v.astype(np.float32) for k, v in init.items()}, os.path.join(HERE, "trajectory_init.safetensors"),
          metadata={"format": "pt"})
out = {"input": x.astype(np.float32), "target": y, "losses": losses}
out.update({"final." + k: v for k, v in params.items()})
save_file(out, os.path.join(HERE, "trajectory.safetensors"))
back = load_file(os.path.join(HERE, "trajectory.safetensors"))
assert np.array_equal(back["losses"], losses)
print("losses:", losses.tolist())
for k, v in params.items():
    print(k, "moved by", np.abs(v - init[k]).max())
