#!/usr/bin/env python3
"""Cross-checks mer-script's DBFEM against the PyTorch replica in dbfem_torch.py, and times
the two side by side. Not part of CI: needs `pip install torch safetensors` and the release
binaries (.build/release/mer-script, .build/release/mer-bench).

    python Scripts/torch/crosscheck.py                 # check quick + paper, then timing
    python Scripts/torch/crosscheck.py --no-time       # only the numerical check
    python Scripts/torch/crosscheck.py --no-check      # only the timing
    python Scripts/torch/crosscheck.py --configs quick --rounds 2 --reps 5
    python Scripts/torch/crosscheck.py --no-check --autocast bf16   # both engines in bf16 autocast

Check (per config): mer-script (dump_dbfem.lua) builds nn.DBFEM{config=..., dropout=0},
takes a few Adam steps on random data, saves weights, a fixed input, the eval-mode output,
the train-mode output, the loss, every parameter's gradient and the state after the train
forward. The replica loads the weights (strict=True) and recomputes all of it in float32,
and again in float64 as the reference both float32 engines are measured against.

Timing: the same protocol on both sides (time_dbfem.lua for mer-script): fixed random batch,
warm-up calls, then `reps` timed calls; train step = zero_grad + forward + cross-entropy +
backward + Adam step; inference = 1 sample, eval mode, no grad. 2 threads each. With
`--autocast bf16` the forward (and so its backward) runs under torch.autocast("cpu",
dtype=torch.bfloat16) and mer.autocast("bf16", ...) respectively. Rounds are
interleaved (torch, mer, torch, mer, ...) because the machine may be shared; the median over
all timed calls is reported, with mer-bench's FMA peak before and after as a load indicator.
"""
from __future__ import annotations

import argparse
import json
import re
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dbfem_torch import DBFEM, ResNet12Block, load_mer_state_dict  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MER = os.path.join(ROOT, ".build", "release", "mer-script")
BENCH = os.path.join(ROOT, ".build", "release", "mer-bench")
HERE = os.path.join(ROOT, "Scripts", "torch")
SIZE = {"quick": 64, "paper": 112}
TRAIN_BATCH = {"quick": 32, "paper": 16}


def need(path):
    if not os.path.exists(path):
        sys.exit(f"missing {path}: build it first (swift build -c release)")


def one(path):
    """The single tensor of a file written by t:save(path)."""
    d = load_file(path)
    assert len(d) == 1, f"{path}: expected one tensor, got {list(d)}"
    return next(iter(d.values()))


def diff(a: torch.Tensor, ref: torch.Tensor):
    """(max |a - ref|, that divided by max |ref|)."""
    a, ref = a.double().reshape(ref.shape), ref.double()
    d = (a - ref).abs().max().item()
    scale = ref.abs().max().item()
    return d, d / scale if scale > 0 else float("inf") if d > 0 else 0.0


def fmt(d):
    return f"max abs {d[0]:.3e}  rel {d[1]:.3e}"


# ---------------------------------------------------------------------------------------
# Numerical cross-check
# ---------------------------------------------------------------------------------------

# BatchNorms whose output goes straight into a ReLU / LeakyReLU (a kink of the gradient).
KINK_BN = re.compile(r"(body\.[14]|(?<!sa)\.bn|proj_[gl]\.1|bn1)$")


def replica_run(cfg, dump, dtype, flips=(), store=False):
    """Loads the dumped weights and recomputes eval output, train output, loss, grads and
    the post-forward state in `dtype`. `flips`: (kind, module name, flat index) triples
    whose train-mode pre-activation is negated there (it is ~1e-6, so only the next
    ReLU's derivative changes): kind "bn" = the output of a BatchNorm followed by a ReLU,
    "res" = the residual sum body + short of a ResNet12 block (before its LeakyReLU)."""
    model = DBFEM.from_config(cfg, dropout=0.0)
    load_mer_state_dict(model, os.path.join(dump, "weights.safetensors"))
    model = model.to(dtype)
    mods = dict(model.named_modules())
    pre = {}      # name -> train-mode pre-activation
    body_out = {}

    def negate(out, base, index):
        delta = torch.zeros_like(out).flatten()
        delta[index] = -2 * base.detach().flatten()[index]
        return out + delta.view_as(out)

    for kind, name, index in flips:
        if kind == "bn":
            mods[name].register_forward_hook(
                lambda m, i, o, index=index: negate(o, o, index) if m.training else o)
        else:
            mods[name + ".short"].register_forward_hook(
                lambda m, i, o, name=name, index=index: negate(o, body_out[name] + o, index) if m.training else o)
    for name, mod in mods.items():
        if isinstance(mod, ResNet12Block):
            mod.body.register_forward_hook(lambda m, i, o, name=name: body_out.__setitem__(name, o.detach()))
            if store:
                mod.short.register_forward_hook(
                    lambda m, i, o, name=name: pre.__setitem__(("res", name), (body_out[name] + o).detach()) if m.training else None)
        elif store and isinstance(mod, torch.nn.BatchNorm2d) and KINK_BN.search(name):
            mod.register_forward_hook(lambda m, i, o, name=name: pre.__setitem__(("bn", name), o.detach()) if m.training else None)
    x = one(os.path.join(dump, "x.safetensors")).to(dtype)
    with open(os.path.join(dump, "labels.txt")) as f:
        y = torch.tensor([int(v) - 1 for v in f.read().split()])
    model.eval()
    with torch.no_grad():
        eval_out = model(x)
    model.train()
    model.zero_grad(set_to_none=True)
    train_out = model(x)
    loss = F.cross_entropy(train_out, y)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return dict(eval_out=eval_out, train_out=train_out.detach(), loss=loss.detach(), grads=grads, state=state, pre=pre)


def explain_kinks(cfg, dump, mer_grads, names, max_flips=12, tol=1e-4, tries=3):
    """float32 rounding can put a pre-activation that is ~1e-6 from 0 on the other side of a
    ReLU kink; the gradient then differs by a whole term there (one channel of the bias grad
    of the BN(s) feeding it is off by (1 - slope) * dL/dact), and the error spreads to every
    layer before it. Greedily find such sites: take the BN feeding a kink (directly, or via a
    ResNet12 residual sum: its short.1) latest in forward order whose bias grad has a channel
    off by more than 3e-4 of the tensor's max; among the `tries` elements of that channel
    nearest 0 (|v| < tol) flip, in the float64 reference, the one that best removes that
    error (it must remove at least half); repeat. Returns the flips and the float64 run."""
    order = [n for n in names if n.endswith(".bias")]
    flips = []
    r = replica_run(cfg, dump, torch.float64, store=True)

    def channel_err(run, n, ch):
        return abs(mer_grads[n][ch].item() - run["grads"][n][ch].item())

    for _ in range(max_flips):
        site = None
        for n in reversed(order):
            mod = n[: -len(".bias")]
            if KINK_BN.search(mod) and ("bn", mod) in r["pre"]:
                key = ("bn", mod)
            elif re.search(r"blocks\.\d+\.short\.1$", mod) and ("res", mod[: -len(".short.1")]) in r["pre"]:
                key = ("res", mod[: -len(".short.1")])
            else:
                continue
            ref = r["grads"][n]
            err = (mer_grads[n].double() - ref).abs()
            if err.max().item() > 3e-4 * ref.abs().max().item():
                site = (key, n, int(err.argmax()))
                break
        if site is None:
            break
        (kind, mod), bias_name, ch = site
        out = r["pre"][(kind, mod)]
        chan = out[:, ch].abs().flatten()
        before = channel_err(r, bias_name, ch)
        best = None
        for k in chan.argsort()[:tries].tolist():
            if chan[k].item() > tol:
                break
            n_, hw = divmod(k, out.shape[2] * out.shape[3])
            index = (n_ * out.shape[1] + ch) * out.shape[2] * out.shape[3] + hw
            trial = flips + [(kind, mod, index, out.flatten()[index].item())]
            rt = replica_run(cfg, dump, torch.float64, flips=[f[:3] for f in trial], store=True)
            e = channel_err(rt, bias_name, ch)
            if best is None or e < best[0]:
                best = (e, trial, rt)
        if best is None or best[0] > 0.5 * before:
            break
        _, flips, r = best
    return flips, r


def crosscheck(cfg, batch, warm, seed, keep):
    need(MER)
    dump = tempfile.mkdtemp(prefix=f"dbfem_{cfg}_") if not keep else os.path.join(keep, cfg)
    os.makedirs(dump, exist_ok=True)
    cmd = [MER, "--seed", str(seed), "--threads", "2", os.path.join(HERE, "dump_dbfem.lua"), cfg, dump, str(batch), str(warm)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)

    # strict load check on the raw file, as a user would do it
    sd = load_file(os.path.join(dump, "weights.safetensors"))
    m32 = DBFEM.from_config(cfg, dropout=0.0)
    missing = set(m32.state_dict()) ^ set(sd)
    assert not missing, f"state-dict names differ: {sorted(missing)[:10]}"
    nbt = float(sd["global_branch.blocks.0.body.1.num_batches_tracked"])

    r32 = replica_run(cfg, dump, torch.float32)
    r64 = replica_run(cfg, dump, torch.float64)
    mer = dict(eval_out=one(os.path.join(dump, "eval_out.safetensors")),
               train_out=one(os.path.join(dump, "train_out.safetensors")))
    with open(os.path.join(dump, "loss.txt")) as f:
        mer["loss"] = torch.tensor(float(f.read()))
    with open(os.path.join(dump, "names.txt")) as f:
        names = f.read().split()
    assert names == list(dict(m32.named_parameters())), "parameter order differs"
    mer["grads"] = {n: one(os.path.join(dump, "grad", n + ".safetensors")) for n in names}
    mer["state"] = load_file(os.path.join(dump, "after_train.safetensors"))

    res = {"config": cfg, "batch": batch, "warm_steps": warm, "num_batches_tracked": nbt, "dump": dump}
    print(f"\n== {cfg}: {len(names)} parameter tensors, {sum(p.numel() for p in m32.parameters()):,} params,"
          f" batch {batch}, BN num_batches_tracked {nbt:.0f} after warm-up; reference = replica in float64")
    for key in ("eval_out", "train_out", "loss"):
        dm, dt, mt = diff(mer[key], r64[key]), diff(r32[key], r64[key]), diff(mer[key], r32[key])
        res[key] = {"mer_vs_f64": dm, "torch32_vs_f64": dt, "mer_vs_torch32": mt}
        print(f"{key:10s} mer-vs-f64: {fmt(dm)} | torch32-vs-f64: {fmt(dt)} | mer-vs-torch32: {fmt(mt)}")
    print(f"{'':10s} eval logits[0] mer {[round(v, 5) for v in mer['eval_out'][0].tolist()]}"
          f"  torch {[round(v, 5) for v in r32['eval_out'][0].tolist()]}")

    # gradients: per tensor relative error against the float64 reference
    rows = []
    for n in names:
        rows.append((n, diff(mer["grads"][n], r64["grads"][n]), diff(r32["grads"][n], r64["grads"][n]),
                     diff(mer["grads"][n], r32["grads"][n])))
    worst_m = max(rows, key=lambda r: r[1][1])
    worst_t = max(rows, key=lambda r: r[2][1])
    med_m = statistics.median(r[1][1] for r in rows)
    med_t = statistics.median(r[2][1] for r in rows)
    res["grads"] = {"worst_mer_vs_f64": [worst_m[0], worst_m[1]], "worst_torch32_vs_f64": [worst_t[0], worst_t[2]],
                    "median_rel_mer_vs_f64": med_m, "median_rel_torch32_vs_f64": med_t, "named": {}}
    print(f"grads      {len(rows)} tensors; rel = max|err| / max|ref grad| per tensor")
    print(f"           median rel  mer-vs-f64 {med_m:.3e}   torch32-vs-f64 {med_t:.3e}")
    print(f"           worst mer-vs-f64     {worst_m[0]}: {fmt(worst_m[1])}")
    print(f"           worst torch32-vs-f64 {worst_t[0]}: {fmt(worst_t[2])}")
    for n in ("head.weight", "head.bias", "global_branch.blocks.0.body.0.weight", "local_branch.Conv2d_1a_3x3.conv.weight",
              "fusion.conv.weight", "global_cbam.sa.conv.weight"):
        r = next(r for r in rows if r[0] == n)
        res["grads"]["named"][n] = {"mer_vs_f64": r[1], "torch32_vs_f64": r[2], "mer_vs_torch32": r[3]}
        print(f"           {n:40s} mer-vs-f64 {fmt(r[1])} | torch32-vs-f64 {fmt(r[2])}")

    flips, rk = explain_kinks(cfg, dump, mer["grads"], names)
    rowsk = [(n, diff(mer["grads"][n], rk["grads"][n])) for n in names]
    worst_k = max(rowsk, key=lambda r: r[1][1])
    med_k = statistics.median(r[1][1] for r in rowsk)
    res["grads"]["kink_flips"] = [list(f) for f in flips]
    res["grads"]["kink_corrected"] = {"worst": [worst_k[0], worst_k[1]], "median_rel": med_k,
                                      "named": {n: diff(mer["grads"][n], rk["grads"][n]) for n in res["grads"]["named"]}}
    print(f"           ReLU-kink sites where mer-script's float32 pre-activation fell on the other side of 0: {len(flips)}")
    for f in flips:
        print(f"             {f[1]}{' (body + short)' if f[0] == 'res' else ''} element {f[2]}: float64 value {f[3]:+.2e}")
    print(f"           with those derivatives flipped in the float64 reference: median rel {med_k:.3e},"
          f" worst {worst_k[0]}: {fmt(worst_k[1])}")
    for n in res["grads"]["named"]:
        print(f"             {n:40s} {fmt(res['grads']['kink_corrected']['named'][n])}")

    # state after the train-mode forward: running stats (momentum 0.1, unbiased var) and counters
    worst = ("", (0.0, 0.0))
    for k, ref in r64["state"].items():
        if ref.is_floating_point():
            d = diff(mer["state"][k], ref)
            if d[1] > worst[1][1]:
                worst = (k, d)
        else:
            assert float(mer["state"][k]) == float(ref), f"{k}: mer {float(mer['state'][k])} torch {float(ref)}"
    res["state_after_train"] = {"worst": [worst[0], worst[1]]}
    print(f"BN state   after one train forward, worst {worst[0]}: {fmt(worst[1])} (num_batches_tracked equal)")
    return res


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------

def torch_times(cfg, mode, batch, warmup, reps, cache, autocast="off"):
    key = (cfg, mode)
    if key not in cache:
        torch.manual_seed(0)
        model = DBFEM.from_config(cfg)
        x = torch.randn(batch, 2, SIZE[cfg], SIZE[cfg])
        y = torch.arange(batch) % 5
        if mode == "train":
            model.train()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)

            def call():
                opt.zero_grad(set_to_none=True)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast == "bf16"):
                    loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
        else:
            model.eval()

            def call():
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast == "bf16"):
                    model(x)
        cache[key] = call
    call = cache[key]
    for _ in range(warmup):
        call()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def mer_times(cfg, mode, batch, warmup, reps, autocast="off"):
    cmd = [MER, "--threads", "2", os.path.join(HERE, "time_dbfem.lua"), cfg, mode, str(batch), str(warmup), str(reps),
           autocast]
    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    line = next(l for l in p.stdout.splitlines() if l.startswith("RESULT "))
    return [float(v) for v in json.loads(line[len("RESULT "):])["times_ms"]]


def fma_peak():
    need(BENCH)
    p = subprocess.run([BENCH, "--quick", "--no-conv", "--json"], check=True, capture_output=True, text=True)
    j = json.loads(p.stdout[p.stdout.index("{"):])
    model = {m["config"]: m.get("train_ms_per_sample") for m in j.get("model", [])}
    return {"peak_gflops_per_core": j["peak_gflops_per_core"], "peak_gflops_all": j["peak_gflops_all"],
            "mer_bench_train_ms_per_sample": model}


def timing(configs, rounds, reps, infer_reps, autocast="off"):
    torch.set_num_threads(2)
    need(MER)
    print(f"\n== timing: torch {torch.__version__} ({torch.get_num_threads()} threads) vs mer-script --threads 2;"
          f" {rounds} interleaved rounds each; autocast {autocast}")
    before = fma_peak()
    print("mer-bench --quick --no-conv --json before:", json.dumps(before), flush=True)
    cache = {}
    rows = []
    for cfg in configs:
        for mode in ("train", "infer"):
            batch = TRAIN_BATCH[cfg] if mode == "train" else 1
            warmup, n = (2, reps) if mode == "train" else (5, infer_reps)
            t_all, m_all, per_round = [], [], []
            for r in range(rounds):
                t = torch_times(cfg, mode, batch, warmup if r == 0 else 1, n, cache, autocast)
                m = mer_times(cfg, mode, batch, warmup, n, autocast)
                t_all += t
                m_all += m
                per_round.append((statistics.median(t), statistics.median(m)))
                print(f"  {cfg:5s} {mode:5s} round {r + 1}: torch median {statistics.median(t):9.2f} ms/call,"
                      f" mer {statistics.median(m):9.2f} ms/call", flush=True)
            tm, mm = statistics.median(t_all), statistics.median(m_all)
            unit = batch
            rows.append(dict(config=cfg, mode=mode, batch=batch, torch_ms=tm / unit, mer_ms=mm / unit, ratio=mm / tm,
                             per_round=per_round, torch_min=min(t_all) / unit, mer_min=min(m_all) / unit))
        cache.clear()
    after = fma_peak()
    print("mer-bench --quick --no-conv --json after: ", json.dumps(after))
    print("\n| config | what | batch | PyTorch ms | mer-script ms | mer/PyTorch | (min: PyTorch / mer) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        what = "train ms/sample" if r["mode"] == "train" else "1-sample inference ms"
        print(f"| {r['config']} ({SIZE[r['config']]} px) | {what} | {r['batch']} | {r['torch_ms']:.2f} | {r['mer_ms']:.2f} |"
              f" {r['ratio']:.2f} | {r['torch_min']:.2f} / {r['mer_min']:.2f} |")
    return {"before": before, "after": after, "rows": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="quick,paper")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--no-time", action="store_true")
    ap.add_argument("--check-batch", type=int, default=4)
    ap.add_argument("--warm-steps", type=int, default=3, help="Adam steps before the check (moves BN stats)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="directory to keep the dumps in (default: a temporary one)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=4, help="timed train steps per round")
    ap.add_argument("--infer-reps", type=int, default=15, help="timed inferences per round")
    ap.add_argument("--json", help="write all results to this file")
    ap.add_argument("--autocast", choices=["off", "bf16"], default="off",
                    help="time both engines under bf16 autocast (torch.autocast / mer.autocast)")
    a = ap.parse_args()
    configs = [c for c in a.configs.split(",") if c]
    results = {}
    if not a.no_check:
        results["check"] = [crosscheck(c, a.check_batch, a.warm_steps, a.seed, a.keep) for c in configs]
    if not a.no_time:
        results["timing"] = timing(configs, a.rounds, a.reps, a.infer_reps, a.autocast)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
