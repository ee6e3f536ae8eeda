#!/usr/bin/env python3
"""PyTorch peers of `tsae bench harvest` and `tsae bench sae-step`: the same shapes and thread count, so the two
implementations are compared on one machine in one sitting. Needs PyTorch (Debian: apt-get install python3-torch
libopenblas0-pthread, then run with /usr/bin/python3: without OpenBLAS Debian's PyTorch uses the reference BLAS, about
30x slower, which is no fair peer); CI does not run it.

  /usr/bin/python3 tests/peers/pytorch_peers.py harvest   [--threads 2] [--batch 8] [--layer 6]
  /usr/bin/python3 tests/peers/pytorch_peers.py sae-step  [--threads 2] [--d-in 768 --d-sae 6144 --batch 4096 --steps 5]

harvest: a random GPT-2-small-shaped model (12 blocks, 768 wide, 12 heads, context 128, vocab 50257, Hugging Face
GPT-2's block structure) under no_grad, best of 3 timed passes after a warm-up, stopped after block L and in full.
sae-step: SAELens' standard ReLU SAE training step in float32 (x - b_dec, encoder, ReLU, decoder, summed-square MSE,
decoder-norm-weighted L1, backward, gradient clipping at 1, Adam), mean over timed steps after one warm-up step.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gemm_peak():
    # Into one output buffer, as `tsae bench` measures it: a fresh output each time would time its page faults too.
    a, b, c = torch.randn(4096, 768), torch.randn(768, 6144), torch.empty(4096, 6144)
    torch.mm(a, b, out=c)
    best = math.inf
    for _ in range(5):
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return 2 * 4096 * 768 * 6144 / best / 1e9


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))  # [B, H, T, hd]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        attn = scores.masked_fill(mask, float("-inf")).softmax(-1) @ v                       # [B, H, T, hd]
        x = x + self.c_proj(attn.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self, vocab=50257, d=768, layers=12, heads=12, positions=1024):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.h = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids, stop_after=None):
        t = ids.shape[1]
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        x = self.wte(ids) + self.wpe(torch.arange(t))
        for i, block in enumerate(self.h):
            x = block(x, mask)
            if i == stop_after:
                return x
        return self.ln_f(x) @ self.wte.weight.T


def harvest(args):
    torch.manual_seed(0)
    model = Gpt2().eval()
    ids = torch.randint(0, 50257, (args.batch, 128))
    tokens = args.batch * 128

    def best(stop):
        with torch.no_grad():
            model(ids, stop)
            times = []
            for _ in range(3):
                t = time.perf_counter()
                model(ids, stop)
                times.append(time.perf_counter() - t)
        return tokens / min(times)

    peak = gemm_peak()
    print(f"fp32 GEMM peak: {peak:.1f} GFLOP/s, {torch.get_num_threads()} threads, PyTorch {torch.__version__}")
    print(f"stop after blocks.{args.layer}: {best(args.layer):.0f} tokens/s")
    print(f"full forward: {best(None):.0f} tokens/s")


def sae_step(args):
    torch.manual_seed(0)
    d_in, d_sae, n = args.d_in, args.d_sae, args.batch
    w_dec = torch.randn(d_sae, d_in)
    w_dec = (w_dec / w_dec.norm(dim=1, keepdim=True) * 0.1).requires_grad_()
    w_enc = w_dec.detach().T.clone().requires_grad_()
    b_enc = torch.zeros(d_sae, requires_grad=True)
    b_dec = torch.zeros(d_in, requires_grad=True)
    params = [w_enc, w_dec, b_enc, b_dec]
    adam = torch.optim.Adam(params, lr=1e-3)

    def step():
        x = torch.randn(n, d_in)
        f = F.relu((x - b_dec) @ w_enc + b_enc)
        x_hat = f @ w_dec + b_dec
        mse = (x_hat - x).pow(2).sum(-1).mean()
        l1 = (f * w_dec.norm(dim=1)).sum(-1).mean()
        loss = mse + 5.0 * l1
        adam.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        adam.step()

    step()
    t = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = (time.perf_counter() - t) / args.steps
    peak = gemm_peak()
    gflops = 10 * n * d_in * d_sae / seconds / 1e9
    print(f"standard SAE step, PyTorch {torch.__version__}, {torch.get_num_threads()} threads: "
          f"{n / seconds:.0f} tokens/s, step {seconds * 1000:.1f} ms, {gflops:.1f} GFLOP/s = "
          f"{100 * gflops / peak:.0f} % of the fp32 GEMM peak ({peak:.1f} GFLOP/s, measured now)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=["harvest", "sae-step"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--layer", type=int, default=6)
    parser.add_argument("--d-in", type=int, default=768)
    parser.add_argument("--d-sae", type=int, default=6144)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.bench == "harvest":
        args.batch = args.batch or 8
        harvest(args)
    else:
        args.batch = args.batch or 4096
        sae_step(args)
