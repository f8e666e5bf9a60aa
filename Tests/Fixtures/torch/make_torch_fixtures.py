"""Fixtures written by real PyTorch (2.x, CPU), read by Tests/MERNNTests/TorchFixtureTests.swift.

Run once by hand (`pip install torch safetensors`); CI only reads the committed files.
- sequential.safetensors: torch's own state_dict() of an nn.Sequential after three training
  passes (so BatchNorm running stats and the int64 num_batches_tracked are real), saved with
  safetensors.torch.save_file; io.safetensors: an input and the eval-mode output.
- optim.safetensors: one parameter, three gradients, and the parameter after each step of
  Adam, AdamW and SGD (momentum + Nesterov + weight decay) as torch.optim computes them.
"""
import torch
from safetensors.torch import save_file

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
    torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3))
model.train()
for _ in range(3):
    model(torch.randn(5, 2, 8, 8))
model.eval()
x = torch.randn(2, 2, 8, 8)
with torch.no_grad():
    y = model(x)
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, "sequential.safetensors")
save_file({"x": x, "y": y}, "io.safetensors")

p0 = torch.randn(5, 3)
grads = [torch.randn(5, 3) for _ in range(3)]
out = {"p0": p0.clone()}
for i, g in enumerate(grads):
    out[f"g{i}"] = g.clone()
for name, make in [
    ("adam", lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.01)),
    ("adamw", lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.01)),
    ("sgd", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
]:
    p = torch.nn.Parameter(p0.clone())
    opt = make(p)
    for i, g in enumerate(grads):
        p.grad = g.clone()
        opt.step()
        out[f"{name}{i}"] = p.detach().clone()
save_file(out, "optim.safetensors")
print("torch", torch.__version__, "keys", list(model.state_dict().keys()))
