"""PyTorch's side of mer-bench: sgemm and the same conv layers, timed the same way
(best of several runs) on this machine. Not part of CI (needs `pip install torch`).

    python3 Scripts/torch/kernels_torch.py            # prints a table
"""
import time
import torch

def best(fn, reps=5):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)

LAYERS = [  # name, (n, cin, h, w, cout, kh, kw, ph, pw)
    ("resnet12 64->64 3x3 @56", (32, 64, 56, 56, 64, 3, 3, 1, 1)),
    ("resnet12 2->64 3x3 @112", (32, 2, 112, 112, 64, 3, 3, 1, 1)),
    ("resnet12 64->160 3x3 @56", (32, 64, 56, 56, 160, 3, 3, 1, 1)),
    ("resnet12 160->320 3x3 @28", (32, 160, 28, 28, 320, 3, 3, 1, 1)),
    ("resnet12 320->640 3x3 @14", (32, 320, 14, 14, 640, 3, 3, 1, 1)),
    ("inception 1x7 128->128 @17", (32, 128, 17, 17, 128, 1, 7, 0, 3)),
    ("inception 7x1 128->128 @17", (32, 128, 17, 17, 128, 7, 1, 3, 0)),
    ("1x1 256->64 @28", (32, 256, 28, 28, 64, 1, 1, 0, 0)),
]

torch.manual_seed(0)
print(f"torch {torch.__version__}")
for threads in (1, 2):
    torch.set_num_threads(threads)
    for n in (512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        t = best(lambda: a @ b, reps=3 if n == 2048 else 5)
        print(f"sgemm {n}^3 threads {threads}: {2 * n**3 / t / 1e9:7.1f} GFLOP/s")
for threads in (1, 2):
    torch.set_num_threads(threads)
    for name, (n, cin, h, w, cout, kh, kw, ph, pw) in LAYERS:
        x = torch.randn(n, cin, h, w, requires_grad=True)
        conv = torch.nn.Conv2d(cin, cout, (kh, kw), padding=(ph, pw), bias=False)
        y = conv(x)
        g = torch.randn_like(y)
        fwd = best(lambda: conv(x), reps=3)
        def bwd():
            x.grad = None; conv.weight.grad = None
            torch.autograd.backward(conv(x), g)
        total = best(bwd, reps=3)  # forward + backward
        flops = 2 * n * cout * y.shape[2] * y.shape[3] * cin * kh * kw
        print(f"{name:28s} threads {threads}: fwd {fwd*1e3:8.2f} ms  bwd {(total-fwd)*1e3:8.2f} ms  {3*flops/total/1e9:7.1f} GFLOP/s")
