#!/usr/bin/env python3
"""Writes Tests/Fixtures/parity/*.safetensors: whole-model and module parity fixtures computed
by real PyTorch with the replica in dbfem_torch.py, read by Tests/MERNNTests/TorchParityTests.swift
on every `swift test` run. CI has no torch; the files are committed.

Rerun (deterministic: every random draw is seeded; ~20 minutes on two cores, most of it the
kink flips below):

    python -m venv /tmp/venv && /tmp/venv/bin/pip install torch safetensors numpy
    /tmp/venv/bin/python Scripts/torch/make_parity_fixtures.py            # writes Tests/Fixtures/parity
    /tmp/venv/bin/python Scripts/torch/make_parity_fixtures.py --out DIR  # elsewhere
    /tmp/venv/bin/python Scripts/torch/make_parity_fixtures.py --only cbam

Independence: the weights are made by PyTorch (torch.manual_seed, the replica's own init, BN
affine parameters perturbed, BN running statistics from three train-mode forwards of PyTorch),
never by mer-script. Every reference is computed in float64 from float32-representable
inputs, so the Swift float32 engine and PyTorch's float32 are measured against the same
truth; PyTorch float32's own spread against it is written into each file's metadata
(`torch32_rel`) so the Swift test's tolerances can be read beside it.

Weights are rounded to float16-representable values before anything is computed, so the
quick DBFEM state dict (4.9 M parameters) is stored losslessly as F16 (~10 MB, not 20).

Adam runs with eps 1e-3 (lr 1e-3): with the default 1e-8 the first step moves a weight by
lr * g / (|g| + 1e-8), i.e. +-lr by the sign of g, and for the few weights whose gradient is
within float32 rounding of 0 that sign is rounding noise; the step-2 forward of PyTorch
float32 then differed from float64 by ~1e-4 (param2 4e-2), hiding everything else.

Kinks. ReLU / LeakyReLU at 0 and the winner of every max (max-pool windows, CBAM / CAFFM
max descriptors) are branch decisions: float32 rounding can flip one whose float64 margin
is within rounding, and a flipped one changes gradients by a whole term, not by rounding.
A decision is "near" when its float64 margin is below MARGIN (10) times PyTorch float32's
max error on that tensor (for a max: the top-two gap against twice that). Ties among exact
zeros of ReLU outputs are not decisions: the ReLU behind them passes no gradient either way.
  - CBAM / CAFFM: the input seed is searched (from 100 up) until there is no near decision.
  - DBFEM: the ~1.9 M decisions per forward always include a hundred or more near ones, so
    instead each is flipped alone in float64 (its derivative only: values do not move,
    asserted), and per element of every stored quantity the MAX_FLIPS (8) largest absolute
    changes are summed into `kink.<key>`. The Swift test allows twice that on top of its
    rounding tolerance: up to 8 near decisions taken otherwise by mer-script (PyTorch
    float32 takes none here), flips interacting only at second order. A step-1 flip also
    moves every step-2 quantity (through Adam's first step), so those allowances are wide.

Files (names in `state.` are PyTorch state-dict names, which mer-script loads):
  dbfem_quick_weights.safetensors   nn.DBFEM{config="quick", dropout=0} state dict (F16, I64)
  dbfem_quick_reference.safetensors input x (2, 2, 64, 48), labels y; eval logits, train
      logits, loss; BN buffers after that train forward (state1.*); parameter gradients
      grad1.* (SUBSET) and for every parameter grad1_digest.* = [sum g, sum |g|, sum g^2,
      sum g*theta0, sum |g*theta0|]; after one Adam step a second train forward: logits2,
      loss2, grad2.* (SUBSET), state2.*; after the second step param2.* (SUBSET) and for
      every parameter update_digest.* of (theta2 - theta0): [sum, sum |.|, sum ^2];
      kink.* allowances.
  cbam.safetensors, caffm.safetensors  the module alone (non-square maps, CAFFM with a
      7x5 local map pooled to the 4x3 global grid): state.*, inputs, train-mode output,
      loss = sum(out * proj) for a stored random `proj`, input and parameter gradients,
      BN buffers after the forward, eval-mode output.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dbfem_torch import CAFFM, CBAM, DBFEM  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MARGIN = 10.0
MAX_FLIPS = 8
LR = 1e-3
ADAM_EPS = 1e-3
LABELS = [1, 3]
DBFEM_INPUT = (2, 2, 64, 48)  # non-square: a swapped H/W anywhere shows up as a shape or value error

# Gradients / updated parameters stored in full: one or more of every kind of layer
# (first conv of each branch, a last-stage conv and BN, CBAM MLP and spatial conv, an
# Inception 1x7, CAFFM projections, MLP and 7x7 conv, the classifier); all others by digest.
SUBSET = [
    "global_branch.blocks.0.body.0.weight", "global_branch.blocks.0.short.0.weight",
    "global_branch.blocks.3.short.0.weight", "global_branch.blocks.3.body.7.weight",
    "global_branch.blocks.3.body.7.bias",
    "global_cbam.ca.mlp.0.weight", "global_cbam.ca.mlp.0.bias", "global_cbam.ca.mlp.2.weight",
    "global_cbam.sa.conv.weight", "global_cbam.sa.bn.weight", "global_cbam.sa.bn.bias",
    "local_branch.Conv2d_1a_3x3.conv.weight", "local_branch.Conv2d_1a_3x3.bn.weight",
    "local_branch.Mixed_6b.branch7x7_2.conv.weight",
    "local_cbam.ca.mlp.0.weight", "local_cbam.sa.conv.weight",
    "fusion.proj_g.0.weight", "fusion.proj_l.1.weight", "fusion.proj_l.1.bias",
    "fusion.mlp.0.weight", "fusion.mlp.2.weight", "fusion.mlp.2.bias", "fusion.conv.weight",
    "head.weight", "head.bias",
]


# ---------------------------------------------------------------------------------------
# Kinks: record every ReLU / LeakyReLU input and every max in call order; flip one branch
# ---------------------------------------------------------------------------------------

class KinkRecorder:
    """While `active`, records one site per call of F.relu / F.leaky_relu (the input),
    F.max_pool2d (its windows as rows) and Tensor.amax (the reduced lines as rows), in call
    order; nn.ReLU / nn.LeakyReLU / nn.MaxPool2d call the functional forms, so they count too.
    `flip = (site, element)` changes one branch decision's derivative without changing any
    value: at a ReLU site `element` is the flat index whose derivative d becomes the other
    side's (1 <-> slope); at a max site it is (row, winner, runner_up), and the gradient of
    that output goes to the runner-up instead of the winner. `first` numbers the first call."""

    def __init__(self, flip=None, first=0):
        self.sites, self.active, self.flip, self.count = [], False, flip, first

    def _next(self):
        """Numbers this call; True if it is the one to flip."""
        self.count += 1
        return self.flip is not None and self.flip[0] == self.count - 1

    def __enter__(self):
        self.saved = (F.relu, F.leaky_relu, F.max_pool2d, torch.Tensor.amax)
        relu, leaky, pool, amax = self.saved
        rec = self

        def act(x, y, slope):
            if not rec.active:
                return y
            flip = rec._next()
            if rec.flip is None:
                rec.sites.append(("relu", x.detach().clone(), None))
            if flip:
                e = rec.flip[1]
                d = 1.0 if x.detach().reshape(-1)[e] > 0 else slope
                other = slope if d == 1.0 else 1.0
                one = torch.zeros(x.numel(), dtype=x.dtype)
                one[e] = other - d
                y = y + one.view_as(x) * (x - x.detach())
            return y

        def relu_(x, *a, **k):
            return act(x, relu(x, *a, **k), 0.0)

        def leaky_(x, negative_slope=0.01, *a, **k):
            return act(x, leaky(x, negative_slope, *a, **k), negative_slope)

        def reroute(x, y, index):
            r, p1, p2 = rec.flip[1]
            xf = x.reshape(-1)
            a, b = index[r, p1], index[r, p2]
            corr = (xf[b] - xf[b].detach()) - (xf[a] - xf[a].detach())
            one = torch.zeros(y.numel(), dtype=y.dtype)
            one[r] = 1.0
            return y + one.view_as(y) * corr

        def pool_(x, kernel_size, stride=None, padding=0, *a, **k):
            y = pool(x, kernel_size, stride, padding, *a, **k)
            if not rec.active:
                return y
            flip = rec._next()
            ks = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
            st = ks if stride is None or stride == [] else (stride if isinstance(stride, int) else stride[0])
            pd = padding if isinstance(padding, int) else padding[0]
            n, c, h, w = x.shape

            def windows(t, fill):
                t = F.pad(t, (pd,) * 4, value=fill) if pd else t
                return F.unfold(t.reshape(n * c, 1, *t.shape[2:]), ks, stride=st).transpose(1, 2).reshape(-1, ks * ks)
            if rec.flip is None:
                rec.sites.append(("max", windows(x.detach(), float("-inf")).clone(), None))
            if flip:
                index = windows(torch.arange(x.numel(), dtype=torch.float64).reshape(x.shape), -1.0).long()
                y = reroute(x, y, index)
            return y

        def amax_(x, dim, keepdim=False):
            y = amax(x, dim, keepdim)
            if not rec.active:
                return y
            flip = rec._next()
            d = dim if isinstance(dim, int) else dim[0]
            if rec.flip is None:
                rec.sites.append(("max", x.detach().movedim(d, -1).reshape(-1, x.shape[d]).clone(), None))
            if flip:
                index = torch.arange(x.numel()).reshape(x.shape).movedim(d, -1).reshape(-1, x.shape[d])
                y = reroute(x, y, index)
            return y

        F.relu, F.leaky_relu, F.max_pool2d, torch.Tensor.amax = relu_, leaky_, pool_, amax_
        return self

    def __exit__(self, *exc):
        F.relu, F.leaky_relu, F.max_pool2d, torch.Tensor.amax = self.saved


def near_kinks(sites64, sites32, margin):
    """Branch decisions whose float64 margin is below `margin` times PyTorch float32's max
    error on that tensor: ReLU inputs with |v| small, max rows whose top two differ by less
    than twice that (both move). Rows whose top two are both exactly 0 (ReLU zeros) are
    left out: whichever zero wins, the ReLU behind it passes no gradient. Returns the flip
    specs (site, element), the smallest ratio margin / error seen, and how many of the near
    decisions PyTorch float32 itself took the other way."""
    assert [k for k, *_ in sites64] == [k for k, *_ in sites32], "the two runs took different paths"
    flips, worst, taken = [], float("inf"), 0
    for i, ((kind, a, _), (_, b, _)) in enumerate(zip(sites64, sites32)):
        err = (b.double() - a).abs().max().item()
        if err == 0:
            continue
        if kind == "relu":
            v = a.reshape(-1).abs()
            worst = min(worst, v.min().item() / err)
            near = torch.nonzero(v < margin * err).flatten()
            flips += [(i, int(e)) for e in near]
            taken += int(((a.reshape(-1)[near] > 0) != (b.reshape(-1)[near] > 0)).sum())
        else:
            top = a.topk(2, dim=1)
            gap = top.values[:, 0] - top.values[:, 1]
            live = ~((top.values[:, 0] == 0) & (top.values[:, 1] == 0))
            if live.any():
                worst = min(worst, gap[live].min().item() / (2 * err))
            for r in torch.nonzero(live & (gap < 2 * margin * err)).flatten().tolist():
                flips.append((i, (r, int(top.indices[r, 0]), int(top.indices[r, 1]))))
                taken += int(b[r, top.indices[r, 1]] > b[r, top.indices[r, 0]])
    return flips, worst, taken


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------

def f16_exact(model: nn.Module):
    """Rounds every floating parameter and buffer to the nearest float16 value (kept in
    float32), so the F16 file is exact."""
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def perturb_bn(model: nn.Module, gen: torch.Generator):
    """Non-trivial BN affine parameters (PyTorch inits them to 1 and 0)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.75 + 0.5 * torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def rel(a, ref):
    """max |a - ref| / max |ref|: the metric the Swift test applies to mer-script."""
    d = (a.double() - ref.double()).abs().max().item()
    s = ref.double().abs().max().item()
    return d / s if s > 0 else d


def digest(g, theta=None):
    g = g.double()
    out = [g.sum(), g.abs().sum(), (g * g).sum()]
    if theta is not None:
        gt = g * theta.double()
        out += [gt.sum(), gt.abs().sum()]
    return torch.stack(out)


def bn_buffers(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


def f32(d):
    """float64 references stored as float32 (rounding 6e-8 relative: far below every tolerance)."""
    return {k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in d.items()}


# ---------------------------------------------------------------------------------------
# DBFEM quick
# ---------------------------------------------------------------------------------------

def dbfem_weights():
    torch.manual_seed(0)
    model = DBFEM.from_config("quick", dropout=0.0)
    gen = torch.Generator().manual_seed(1)
    perturb_bn(model, gen)
    model.train()
    with torch.no_grad():  # PyTorch's own running statistics (and num_batches_tracked = 3)
        for _ in range(3):
            model(torch.randn(4, *DBFEM_INPUT[1:], generator=gen) * 1.5 + 0.3)
    f16_exact(model)
    return {k: v.clone() for k, v in model.state_dict().items()}


def dbfem_run(state, x, y, dtype, rec=None, resume=None, keep=None):
    """Eval logits, then two Adam steps in train mode, each: forward, cross-entropy,
    backward (gradients recorded), step. `resume`: a snapshot `keep`-ed after step 1 (a dict
    it fills), to rerun only step 2."""
    model = DBFEM.from_config("quick", dropout=0.0)
    model.load_state_dict(state)
    model = model.to(dtype)
    theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    x = x.to(dtype)
    out = {}
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=ADAM_EPS)
    if resume is None:
        model.eval()
        with torch.no_grad():
            out["eval_logits"] = model(x)
        steps = (1, 2)
    else:
        model.load_state_dict(resume["model"])
        opt.load_state_dict(resume["opt"])
        steps = (2,)
    model.train()
    for step in steps:
        opt.zero_grad(set_to_none=True)
        if rec:
            rec.active = True
        logits = model(x)
        if rec:
            rec.active = False
        loss = F.cross_entropy(logits, y)
        loss.backward()
        out["train_logits" if step == 1 else "logits2"] = logits.detach()
        out["loss" if step == 1 else "loss2"] = loss.detach().reshape(1)
        for n, p in model.named_parameters():
            if n in SUBSET:
                out[f"grad{step}.{n}"] = p.grad.detach().clone()
            if step == 1:
                out[f"grad1_digest.{n}"] = digest(p.grad, theta0[n])
        for k, v in bn_buffers(model).items():
            out[f"state{step}.{k}"] = v
        opt.step()
        if step == 1 and keep is not None:
            keep["model"] = copy.deepcopy(model.state_dict())
            keep["opt"] = copy.deepcopy(opt.state_dict())
    for n, p in model.named_parameters():
        if n in SUBSET:
            out[f"param2.{n}"] = p.detach().clone()
        out[f"update_digest.{n}"] = digest(p.detach() - theta0[n])
    return out


def spread(r32, r64, keys):
    return {k: rel(r32[k], r64[k]) for k in keys if r64[k].is_floating_point()}


def make_dbfem(out_dir, seed):
    """The reference in float64 with PyTorch's branch decisions, and for every decision
    within MARGIN x float32 rounding of its threshold, how much flipping it alone changes
    each stored quantity (float64, first order): the Swift test allows the sum of those
    changes on top of its rounding tolerance, since mer-script may take either branch."""
    state = dbfem_weights()
    y = torch.tensor(LABELS)
    x = torch.randn(*DBFEM_INPUT, generator=torch.Generator().manual_seed(seed))
    snap = {}
    with KinkRecorder() as rec64:
        r64 = dbfem_run(state, x, y, torch.float64, rec64, keep=snap)
    with KinkRecorder() as rec32:
        r32 = dbfem_run(state, x, y, torch.float32, rec32)
    per_forward = len(rec64.sites) // 2
    flips, worst, taken = near_kinks(rec64.sites, rec32.sites, MARGIN)
    del rec64, rec32
    print(f"dbfem: {per_forward} kink tensors per forward, {len(flips)} decisions within {MARGIN:g} x float32"
          f" rounding (worst ratio {worst:.3f}), {taken} of them taken the other way by PyTorch float32;"
          f" flipping each in float64 ...", flush=True)
    # Per element, the MAX_FLIPS largest changes over all flips (a running top-k).
    top = {k: torch.zeros((MAX_FLIPS,) + v.shape, dtype=v.dtype) for k, v in r64.items() if v.is_floating_point()}
    total = {k: torch.zeros_like(v) for k, v in r64.items() if v.is_floating_point()}
    for j, flip in enumerate(flips):
        step2 = flip[0] >= per_forward
        with KinkRecorder(flip=flip, first=per_forward if step2 else 0) as rec:
            rf = dbfem_run(state, x, y, torch.float64, rec, resume=snap if step2 else None)
        # A flip changes derivatives only: the values of its own forward (and earlier) must not move.
        unmoved = {"logits2", "loss2"} if step2 else {"eval_logits", "train_logits", "loss"}
        for k, v in rf.items():
            if not v.is_floating_point():
                assert torch.equal(v, r64[k]), k
                continue
            d = (v - r64[k]).abs()
            if k in unmoved or k.startswith("state2." if step2 else "state1."):
                assert d.max().item() == 0, f"flip {flip} moved the value {k}"
            top[k] = torch.cat([top[k], d[None]]).topk(MAX_FLIPS, dim=0).values
            total[k] += d
        if j % 20 == 0:
            print(f"  {j + 1}/{len(flips)}", flush=True)
    bound = {k: v.sum(0) for k, v in top.items()}
    torch32 = spread(r32, r64, r64.keys())
    meta = {"torch": torch.__version__, "input_seed": str(seed), "kink_margin": f"{MARGIN:g}",
            "kink_max_flips": str(MAX_FLIPS),
            "kink_decisions": str(len(flips)), "kink_decisions_torch32_took_otherwise": str(taken),
            "torch32_rel": json.dumps({k: float(f"{v:.3e}") for k, v in torch32.items()}, sort_keys=True)}
    save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()},
              os.path.join(out_dir, "dbfem_quick_weights.safetensors"),
              metadata={"torch": torch.__version__, "note": "float16-exact weights of nn.DBFEM{config='quick', dropout=0}"})
    ref = {"x": x, "y": y, **r64, **{f"kink.{k}": v for k, v in bound.items() if v.abs().max() > 0}}
    save_file(f32(ref), os.path.join(out_dir, "dbfem_quick_reference.safetensors"), metadata=meta)
    kinds = ("eval_logits", "train_logits", "loss", "state1.", "grad1.", "grad1_digest.", "logits2",
             "loss2", "grad2.", "state2.", "param2.", "update_digest.")
    def of(p, k):
        return k.startswith(p) if p.endswith(".") else k == p
    worst = {p: max((v for k, v in torch32.items() if of(p, k)), default=0.0) for p in kinds}
    print("dbfem: PyTorch float32 vs float64, worst rel per kind:", json.dumps({k: f"{v:.2e}" for k, v in worst.items()}))
    kb = {p: max((bound[k].abs().max().item() / max(r64[k].abs().max().item(), 1e-30) for k in bound if of(p, k)),
                 default=0.0) for p in kinds}
    print(f"dbfem: kink allowance (sum of the {MAX_FLIPS} largest flip effects) / max |ref|, worst per kind:",
          json.dumps({k: f"{v:.2e}" for k, v in kb.items()}))
    ks = {p: max((total[k].abs().max().item() / max(r64[k].abs().max().item(), 1e-30) for k in total if of(p, k)),
                 default=0.0) for p in kinds}
    print("dbfem: for comparison, the sum over all flips / max |ref|:", json.dumps({k: f"{v:.2e}" for k, v in ks.items()}))


# ---------------------------------------------------------------------------------------
# CBAM and CAFFM alone
# ---------------------------------------------------------------------------------------

def module_run(make, state, inputs, proj, dtype, rec=None):
    m = make()
    m.load_state_dict(state)
    m = m.to(dtype).train()
    xs = [t.to(dtype).requires_grad_(True) for t in inputs]
    if rec:
        rec.active = True
    y = m(*xs)
    if rec:
        rec.active = False
    (y * proj.to(dtype)).sum().backward()
    out = {"out": y.detach()}
    for i, t in enumerate(xs):
        out[f"input_grad{i}"] = t.grad
    for n, p in m.named_parameters():
        out[f"grad.{n}"] = p.grad
    for k, v in bn_buffers(m).items():
        out[f"state_after.{k}"] = v
    m.eval()
    with torch.no_grad():
        out["eval_out"] = m(*[t.detach() for t in xs])
    return out


def make_module(name, make, shapes, out_dir, max_seeds):
    torch.manual_seed(2)
    m = make()
    gen = torch.Generator().manual_seed(3)
    perturb_bn(m, gen)
    with torch.no_grad():
        for b in m.modules():
            if isinstance(b, nn.BatchNorm2d):
                b.running_mean.copy_(0.3 * torch.randn(b.running_mean.shape, generator=gen))
                b.running_var.copy_(0.5 + torch.rand(b.running_var.shape, generator=gen))
                b.num_batches_tracked.fill_(2)
    f16_exact(m)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    for seed in range(max_seeds):
        g = torch.Generator().manual_seed(100 + seed)
        inputs = [torch.randn(s, generator=g) for s in shapes]
        probe = make()(*inputs)
        proj = torch.randn(probe.shape, generator=g)
        with KinkRecorder() as rec64:
            r64 = module_run(make, state, inputs, proj, torch.float64, rec64)
        with KinkRecorder() as rec32:
            r32 = module_run(make, state, inputs, proj, torch.float32, rec32)
        flips, margin, _ = near_kinks(rec64.sites, rec32.sites, MARGIN)
        print(f"{name} input seed {100 + seed}: smallest kink margin {margin:.2f} x float32 rounding")
        if not flips:
            break
    else:
        sys.exit(f"{name}: no input seed with every kink margin >= {MARGIN}")
    torch32 = spread(r32, r64, r64.keys())
    ref = {**{f"state.{k}": v for k, v in state.items()}, **{f"input{i}": t for i, t in enumerate(inputs)},
           "proj": proj, **r64}
    meta = {"torch": torch.__version__, "input_seed": str(100 + seed), "kink_margin": f"{margin:.3f}",
            "torch32_rel": json.dumps({k: float(f"{v:.3e}") for k, v in torch32.items()}, sort_keys=True)}
    save_file(f32(ref), os.path.join(out_dir, f"{name}.safetensors"), metadata=meta)
    print(f"{name}: PyTorch float32 vs float64 worst rel {max(torch32.values()):.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "parity"))
    ap.add_argument("--max-seeds", type=int, default=200)
    ap.add_argument("--only", choices=["dbfem", "cbam", "caffm"])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)
    if a.only in (None, "cbam"):
        # 48 channels, reduction 16 -> hidden 3; a 6x5 map.
        make_module("cbam", lambda: CBAM(48, 16), [(3, 48, 6, 5)], a.out, a.max_seeds)
    if a.only in (None, "caffm"):
        # global 40 ch on 4x3, local 56 ch on 7x5 (adaptive-pooled to 4x3 with overlapping
        # windows), fused 32 ch, MLP 64 -> 4 -> 32.
        make_module("caffm", lambda: CAFFM(40, 56, 32, 16), [(3, 40, 4, 3), (3, 56, 7, 5)], a.out, a.max_seeds)
    if a.only in (None, "dbfem"):
        make_dbfem(a.out, 1000)


if __name__ == "__main__":
    main()
