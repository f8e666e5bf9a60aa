"""An independent PyTorch replica of mer-script's DBFEM (Sources/MERNN/Models/DBFEM.swift).

Not part of CI: needs `pip install torch safetensors`. The module tree, the child order and
every state-dict name match the Swift model, so a file written by `m:save(path)` in
mer-script loads with `strict=True`:

    from dbfem_torch import DBFEM, load_mer_state_dict
    model = DBFEM.from_config("quick", dropout=0.0)
    load_mer_state_dict(model, "weights.safetensors")

Layer facts copied from the Swift sources (Sources/MERNN/...):
  - BatchNorm2d: eps 1e-5, momentum 0.1, except Inception's BasicConv2d (eps 1e-3).
  - ResNet12 block: 3 x conv3x3 (no bias) with BN, LeakyReLU 0.1 between; 1x1 conv + BN
    shortcut; add, LeakyReLU 0.1, max-pool 2x2 (floor).
  - Inception branch: torchvision's inception_v3 names; the stem convs are padded
    (Conv2d_1a_3x3: 3x3/2 pad 1, Conv2d_2a_3x3 and Conv2d_4a_3x3: pad 1); maxpool1 3x3/2
    (no padding); widths x 0.9 rounded half away from zero (Swift's `.rounded()`), >= 1.
  - CBAM: channel attention (one shared MLP c -> c/r -> c, both Linear with bias; avg and max
    descriptors), then spatial attention sigmoid(BN(conv7x7([max_c; mean_c]))) with no conv bias.
  - CAFFM: 1x1 conv-BN-ReLU projections to c, adaptive avg pool of the local map to the
    global grid, MLP 2c -> 2c/r -> c over [avg; max] pooled [g'; l'], 7x7 conv (4 -> 1, no
    bias) over [mean g', max g', mean l', max l'], w = sigmoid(a_c + a_s), y = l' + w (g' - l').
  - head: global average pool -> dropout -> Linear.
"""
from __future__ import annotations

import dataclasses
import math
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------
# Options (DBFEMOptions)
# ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class DBFEMOptions:
    in_channels: int = 2
    classes: int = 5
    global_: str = "resnet12"          # "resnet12" | "resnet18" | "resnet34"
    widths: Optional[List[int]] = None   # None: the branch's default
    fusion: str = "caffm"              # "caffm" | "concat"
    attention: bool = True
    branches: str = "both"             # "both" | "global" | "local"
    fused_channels: int = 256
    reduction: int = 16
    dropout: float = 0.5
    inception_width: float = 0.9

    @staticmethod
    def paper(**kw) -> "DBFEMOptions":
        return DBFEMOptions(**kw)

    @staticmethod
    def quick(**kw) -> "DBFEMOptions":
        kw.setdefault("widths", [32, 64, 128, 256])
        return DBFEMOptions(**kw)


def scaled(c: int, width: float) -> int:
    """InceptionBranch.scaled: max(1, Int((Float(c) * width).rounded())) in float32,
    rounding half away from zero (Swift's default), not Python's banker's rounding."""
    v = np.float32(c) * np.float32(width)
    r = math.floor(abs(float(v)) + 0.5)
    return max(1, int(math.copysign(r, float(v))))


# ---------------------------------------------------------------------------------------
# Global branch: ResNet12 (and torchvision-style ResNet18/34)
# ---------------------------------------------------------------------------------------

class ResNet12Block(nn.Module):
    slope = 0.1

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.in_channels, self.out_channels = cin, cout

        def conv3(ci):
            return nn.Conv2d(ci, cout, 3, padding=1, bias=False)

        self.body = nn.Sequential(conv3(cin), nn.BatchNorm2d(cout), nn.LeakyReLU(self.slope),
                                  conv3(cout), nn.BatchNorm2d(cout), nn.LeakyReLU(self.slope),
                                  conv3(cout), nn.BatchNorm2d(cout))
        self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        reset_convs_kaiming_fan_out(self)

    def forward(self, x):
        return F.max_pool2d(F.leaky_relu(self.body(x) + self.short(x), self.slope), 2)


class ResNet12(nn.Module):
    def __init__(self, cin: int, widths: Sequence[int] = (64, 160, 320, 640)):
        super().__init__()
        self.widths = list(widths)
        blocks, c = [], cin
        for w in widths:
            blocks.append(ResNet12Block(c, w))
            c = w
        self.blocks = nn.Sequential(*blocks)

    @property
    def out_channels(self):
        return self.widths[-1]

    def forward(self, x):
        return self.blocks(x)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.downsample = None

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, depth: int, cin: int, widths: Sequence[int] = (64, 128, 256, 512)):
        super().__init__()
        counts = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}[depth]
        self.widths = list(widths)
        stem = widths[0]
        self.conv1 = nn.Conv2d(cin, stem, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = stem
        for i, (n, w) in enumerate(zip(counts, widths)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(c, w, 2 if b == 0 and i > 0 else 1))
                c = w
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        reset_convs_kaiming_fan_out(self)

    @property
    def out_channels(self):
        return self.widths[3]

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x


def reset_convs_kaiming_fan_out(root: nn.Module):
    for m in root.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


# ---------------------------------------------------------------------------------------
# Local branch: Inception-v3 style
# ---------------------------------------------------------------------------------------

class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    @property
    def out_channels(self):
        return self.conv.out_channels

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class InceptionA(nn.Module):
    def __init__(self, cin, pool_features, width=1.0):
        super().__init__()
        r = lambda c: scaled(c, width)
        self.branch1x1 = BasicConv2d(cin, r(64), 1)
        self.branch5x5_1 = BasicConv2d(cin, r(48), 1)
        self.branch5x5_2 = BasicConv2d(r(48), r(64), 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, r(64), 1)
        self.branch3x3dbl_2 = BasicConv2d(r(64), r(96), 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(r(96), r(96), 3, padding=1)
        self.branch_pool = BasicConv2d(cin, r(pool_features), 1)
        self.out_channels = r(64) + r(64) + r(96) + r(pool_features)

    def forward(self, x):
        return torch.cat([self.branch1x1(x),
                          self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1))], 1)


class InceptionReduction(nn.Module):
    def __init__(self, cin, width=1.0):
        super().__init__()
        r = lambda c: scaled(c, width)
        self.branch3x3 = BasicConv2d(cin, r(384), 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, r(64), 1)
        self.branch3x3dbl_2 = BasicConv2d(r(64), r(96), 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(r(96), r(96), 3, stride=2)
        self.out_channels = r(384) + r(96) + cin

    def forward(self, x):
        return torch.cat([self.branch3x3(x),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          F.max_pool2d(x, 3, stride=2)], 1)


class InceptionB(nn.Module):
    def __init__(self, cin, channels7x7=128, width=1.0):
        super().__init__()
        r = lambda c: scaled(c, width)
        c7, c192 = r(channels7x7), r(192)
        row = lambda a, b: BasicConv2d(a, b, (1, 7), padding=(0, 3))
        col = lambda a, b: BasicConv2d(a, b, (7, 1), padding=(3, 0))
        self.branch1x1 = BasicConv2d(cin, c192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = row(c7, c7)
        self.branch7x7_3 = col(c7, c192)
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = col(c7, c7)
        self.branch7x7dbl_3 = row(c7, c7)
        self.branch7x7dbl_4 = col(c7, c7)
        self.branch7x7dbl_5 = row(c7, c192)
        self.branch_pool = BasicConv2d(cin, c192, 1)
        self.out_channels = 4 * c192

    def forward(self, x):
        s = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for m in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = m(d)
        return torch.cat([self.branch1x1(x), s, d, self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1))], 1)


class InceptionBranch(nn.Module):
    def __init__(self, cin, width=1.0):
        super().__init__()
        r = lambda c: scaled(c, width)
        a1 = InceptionA(r(192), 32, width)
        a2 = InceptionA(a1.out_channels, 64, width)
        red = InceptionReduction(a2.out_channels, width)
        b = InceptionB(red.out_channels, width=width)
        self.out_channels = b.out_channels
        # Registration order as in Swift (state-dict order).
        self.Conv2d_1a_3x3 = BasicConv2d(cin, r(32), 3, stride=2, padding=1)
        self.Conv2d_2a_3x3 = BasicConv2d(r(32), r(64), 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, 2)
        self.Conv2d_3b_1x1 = BasicConv2d(r(64), r(80), 1)
        self.Conv2d_4a_3x3 = BasicConv2d(r(80), r(192), 3, padding=1)
        self.Mixed_5b = a1
        self.Mixed_5c = a2
        self.Mixed_6a = red
        self.Mixed_6b = b

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x


# ---------------------------------------------------------------------------------------
# Attention and fusion
# ---------------------------------------------------------------------------------------

class ChannelAttention(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels))

    def forward(self, x):
        flat = x.flatten(2)
        w = torch.sigmoid(self.mlp(flat.mean(2)) + self.mlp(flat.amax(2)))
        return x * w[:, :, None, None]


class SpatialAttention(nn.Module):
    def __init__(self, kernel=7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x):
        pooled = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.bn(self.conv(pooled)))


class CBAM(nn.Module):
    def __init__(self, channels, reduction=16, kernel=7):
        super().__init__()
        self.ca = ChannelAttention(channels, reduction)
        self.sa = SpatialAttention(kernel)

    def forward(self, x):
        return self.sa(self.ca(x))


class CAFFM(nn.Module):
    def __init__(self, cg, cl, c, reduction=16, kernel=7):
        super().__init__()
        proj = lambda cin: nn.Sequential(nn.Conv2d(cin, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.proj_g = proj(cg)
        self.proj_l = proj(cl)
        hidden = max(1, 2 * c // reduction)
        self.mlp = nn.Sequential(nn.Linear(2 * c, hidden), nn.ReLU(), nn.Linear(hidden, c))
        self.conv = nn.Conv2d(4, 1, kernel, padding=kernel // 2, bias=False)

    def forward(self, g, l):
        gp = self.proj_g(g)
        lp = self.proj_l(l)
        if lp.shape[2:] != gp.shape[2:]:
            lp = F.adaptive_avg_pool2d(lp, gp.shape[2:])
        u = torch.cat([gp, lp], 1).flatten(2)
        a_c = (self.mlp(u.mean(2)) + self.mlp(u.amax(2)))[:, :, None, None]
        maps = torch.cat([gp.mean(1, keepdim=True), gp.amax(1, keepdim=True),
                          lp.mean(1, keepdim=True), lp.amax(1, keepdim=True)], 1)
        w = torch.sigmoid(a_c + self.conv(maps))
        return lp + w * (gp - lp)


class ConcatFusion(nn.Module):
    def forward(self, g, l):
        if l.shape[2:] != g.shape[2:]:
            l = F.adaptive_avg_pool2d(l, g.shape[2:])
        return torch.cat([g, l], 1)


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------

class DBFEM(nn.Module):
    def __init__(self, o: DBFEMOptions = DBFEMOptions()):
        super().__init__()
        self.options = o
        use_global, use_local = o.branches != "local", o.branches != "global"
        cg = cl = 0
        # Children registered in the Swift order: global_branch, global_cbam, local_branch,
        # local_cbam, fusion, dropout, head (absent ones skipped).
        if use_global:
            if o.global_ == "resnet12":
                self.global_branch = ResNet12(o.in_channels, o.widths or [64, 160, 320, 640])
            else:
                self.global_branch = ResNet(18 if o.global_ == "resnet18" else 34, o.in_channels,
                                            o.widths or [64, 128, 256, 512])
            cg = self.global_branch.out_channels
            if o.attention:
                self.global_cbam = CBAM(cg, o.reduction)
        if use_local:
            self.local_branch = InceptionBranch(o.in_channels, o.inception_width)
            cl = self.local_branch.out_channels
            if o.attention:
                self.local_cbam = CBAM(cl, o.reduction)
        if use_global and use_local:
            if o.fusion == "caffm":
                self.fusion = CAFFM(cg, cl, o.fused_channels, o.reduction)
                self.feature_channels = o.fused_channels
            else:
                self.fusion = ConcatFusion()
                self.feature_channels = cg + cl
        else:
            self.feature_channels = cg if use_global else cl
        self.dropout = nn.Dropout(o.dropout)
        self.head = nn.Linear(self.feature_channels, o.classes)

    @staticmethod
    def from_config(config: str = "paper", **kw) -> "DBFEM":
        if config not in ("paper", "quick"):
            raise ValueError(f"config must be 'paper' or 'quick', got {config!r}")
        if "global" in kw:
            kw["global_"] = kw.pop("global")
        return DBFEM(getattr(DBFEMOptions, config)(**kw))

    def features(self, x):
        g = l = None
        if hasattr(self, "global_branch"):
            g = self.global_branch(x)
            if hasattr(self, "global_cbam"):
                g = self.global_cbam(g)
        if hasattr(self, "local_branch"):
            l = self.local_branch(x)
            if hasattr(self, "local_cbam"):
                l = self.local_cbam(l)
        if hasattr(self, "fusion"):
            return self.fusion(g, l)
        return g if g is not None else l

    def forward(self, x):
        f = self.features(x)
        return self.head(self.dropout(f.mean((2, 3))))


def load_mer_state_dict(model: nn.Module, path: str, strict: bool = True):
    """Loads a mer-script `m:save(path)` file. mer-script writes every tensor as F32,
    num_batches_tracked included (PyTorch keeps it int64 0-d): converted here."""
    from safetensors.torch import load_file
    sd = load_file(path)
    own = model.state_dict()
    for k, v in list(sd.items()):
        if k.endswith("num_batches_tracked"):
            sd[k] = v.round().to(torch.int64).reshape(())
        elif k in own:
            sd[k] = v.to(own[k].dtype)
    model.load_state_dict(sd, strict=strict)
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    for cfg, s in (("quick", 64), ("paper", 112)):
        m = DBFEM.from_config(cfg)
        y = m(torch.randn(2, 2, s, s))
        print(cfg, f"{count_parameters(m):,} params", tuple(y.shape))
