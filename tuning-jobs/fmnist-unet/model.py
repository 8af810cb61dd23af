"""Small class-conditional UNet (epsilon prediction) for 28x28x1 Fashion-MNIST.

Scriptable with torch.jit.script (dynamic batch). forward(x[B,1,28,28] f32, t[B] f32 = DDPM index 0..999,
y[B] int64 = class 0..9 or 10 = null/unconditional) -> predicted noise [B,1,28,28].
"""
import math
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F


def groups(c: int) -> int:
    return 8 if c % 8 == 0 else 1


class TimestepEmbedding(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        half = dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        args = t.float()[:, None] * self.freqs[None, :]
        return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups(cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2 = nn.GroupNorm(groups(cout), cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        if cin != cout:
            self.skip = nn.Conv2d(cin, cout, 1)
        else:
            self.skip = nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]  # time+class embedding added as a per-channel bias
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    def __init__(self, c: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups(c), c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # [b, heads, d, hw]
        scale = 1.0 / math.sqrt(float(c // self.heads))
        att = torch.softmax(torch.einsum("bhdi,bhdj->bhij", q * scale, k), dim=-1)
        out = torch.einsum("bhij,bhdj->bhdi", att, v).reshape(b, c, h, w)
        return x + self.proj(out)


class UNet(nn.Module):
    def __init__(self, ch: int = 32, mults: List[int] = [1, 2, 2], num_res: int = 2,
                 num_classes: int = 10, attn_lowest: bool = True, dropout: float = 0.0):
        super().__init__()
        emb_dim = 4 * ch
        self.num_classes = num_classes
        self.temb = TimestepEmbedding(ch)
        self.time_mlp = nn.Sequential(nn.Linear(ch, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_emb = nn.Embedding(num_classes + 1, emb_dim)  # index num_classes = null label
        self.emb_act = nn.SiLU()
        self.conv_in = nn.Conv2d(1, ch, 3, padding=1)

        chans = [ch * m for m in mults]
        nlev = len(chans)
        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        skip_ch = [ch]
        cur = ch
        for i, c in enumerate(chans):
            blocks = nn.ModuleList()
            for _ in range(num_res):
                blocks.append(ResBlock(cur, c, emb_dim, dropout))
                cur = c
                skip_ch.append(cur)
            self.down_blocks.append(blocks)
            if i < nlev - 1:
                self.downsamples.append(nn.Conv2d(cur, cur, 3, stride=2, padding=1))  # 28->14->7
                skip_ch.append(cur)
        self.mid1 = ResBlock(cur, cur, emb_dim, dropout)
        self.mid_attn = AttnBlock(cur) if attn_lowest else nn.Identity()
        self.mid2 = ResBlock(cur, cur, emb_dim, dropout)

        self.up_blocks = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for i in reversed(range(nlev)):
            c = chans[i]
            blocks = nn.ModuleList()
            for _ in range(num_res + 1):
                blocks.append(ResBlock(cur + skip_ch.pop(), c, emb_dim, dropout))
                cur = c
            self.up_blocks.append(blocks)
            if i > 0:
                self.upsamples.append(nn.Conv2d(cur, cur, 3, padding=1))
        self.norm_out = nn.GroupNorm(groups(cur), cur)
        self.conv_out = nn.Conv2d(cur, 1, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(self.temb(t)) + self.class_emb(y)
        emb = self.emb_act(emb)
        h = self.conv_in(x)
        hs: List[torch.Tensor] = [h]
        for i, blocks in enumerate(self.down_blocks):
            for blk in blocks:
                h = blk(h, emb)
                hs.append(h)
            for j, ds in enumerate(self.downsamples):
                if j == i:
                    h = ds(h)
                    hs.append(h)
        h = self.mid1(h, emb)
        h = self.mid_attn(h)
        h = self.mid2(h, emb)
        for i, blocks in enumerate(self.up_blocks):
            for blk in blocks:
                h = blk(torch.cat([h, hs.pop()], dim=1), emb)
            for j, us in enumerate(self.upsamples):
                if j == i:
                    # nearest x2 upsampling to the skip's size (7->14->28)
                    h = us(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def build_model(cfg: dict) -> UNet:
    return UNet(ch=cfg["ch"], mults=list(cfg["mults"]), num_res=cfg["num_res"], num_classes=10,
                attn_lowest=cfg["attn"], dropout=cfg.get("dropout", 0.0))
