#!/usr/bin/env python3
"""Tiny random GPT-2 and Gemma-2 checkpoints in Hugging Face layout, with reference activations.

The reference forward passes below are plain PyTorch written from the architectures of Hugging Face's
modeling_gpt2.py and modeling_gemma2.py (transformers is not imported: it is independent of both that library and
the C# code). Each checkpoint folder gets config.json, its weights as *.safetensors written here byte by byte
(8-byte little-endian header length, JSON header, raw little-endian data), and reference.safetensors with:
  input_ids        [B, T] int64   the token sequence that was run (no BOS added)
  resid_post.{L}   [B, T, d]      float32, output of block L before the final norm (blocks.L.hook_resid_post)
  logits           [B, T, vocab]  float32

Variants per architecture: float32 in one file; the same weights sharded over two files with
model.safetensors.index.json; weights stored as bfloat16 (the reference upcasts those stored values to float32).

gemma2-tiny also gets a tokenizer.model: a 64-piece SentencePiece BPE model trained here with Gemma's settings
(no dummy prefix, whitespace kept, specials pad 0 / eos 1 / bos 2 / unk 3; byte fallback off, since its 256 byte
pieces would not fit the tiny vocabulary), and tokenizer_reference.json with SentencePiece's own encodings.

Run from anywhere (Debian 12: apt-get install python3-torch python3-sentencepiece):  /usr/bin/python3 make_reference.py
The output is deterministic (fixed seeds); rerunning rewrites the folders next to this script.
"""
import io
import json
import math
import os
import struct

import sentencepiece
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE_NAMES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.int64: "I64"}


def tensor_bytes(t):
    t = t.contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()  # bf16 bits, little-endian on x86-64
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # the safetensors library pads the header to 8 bytes with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def write_checkpoint(folder, config, weights, shards=None):
    """shards: None for one model.safetensors, else a list of lists of tensor names (one list per file)."""
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".safetensors") or name.endswith(".json"):
            os.remove(os.path.join(folder, name))
    write_json(os.path.join(folder, "config.json"), config)
    if shards is None:
        write_safetensors(os.path.join(folder, "model.safetensors"), weights)
        return
    assert sorted(n for s in shards for n in s) == sorted(weights), "every tensor goes to exactly one shard"
    weight_map, total = {}, 0
    for i, names in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_safetensors(os.path.join(folder, file), {n: weights[n] for n in names})
        for n in names:
            weight_map[n] = file
            total += weights[n].numel() * weights[n].element_size()
    write_json(os.path.join(folder, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})


def write_reference(folder, input_ids, resids, logits):
    tensors = {"input_ids": input_ids}
    for layer, r in enumerate(resids):
        tensors[f"resid_post.{layer}"] = r.float()
    tensors["logits"] = logits.float()
    write_safetensors(os.path.join(folder, "reference.safetensors"), tensors)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def softcap(x, cap):
    return x if cap is None else cap * torch.tanh(x / cap)


# ----------------------------------------------------------------------------------------------------- GPT-2

def gpt2_weights(cfg, gen, prefix, with_mask_buffer):
    d, n_pos, vocab = cfg["n_embd"], cfg["n_positions"], cfg["vocab_size"]
    inner = 4 * d

    def normal(*shape, std):
        return torch.randn(*shape, generator=gen) * std

    w = {f"{prefix}wte.weight": normal(vocab, d, std=0.3), f"{prefix}wpe.weight": normal(n_pos, d, std=0.1)}
    for i in range(cfg["n_layer"]):
        p = f"{prefix}h.{i}."
        w[p + "ln_1.weight"] = 1 + normal(d, std=0.1)
        w[p + "ln_1.bias"] = normal(d, std=0.05)
        if with_mask_buffer:  # the causal-mask buffer that old HF GPT-2 files carry; readers ignore it
            w[p + "attn.bias"] = torch.tril(torch.ones(n_pos, n_pos)).view(1, 1, n_pos, n_pos)
        w[p + "attn.c_attn.weight"] = normal(d, 3 * d, std=0.2)  # Conv1D: [in, out]
        w[p + "attn.c_attn.bias"] = normal(3 * d, std=0.05)
        w[p + "attn.c_proj.weight"] = normal(d, d, std=0.2)
        w[p + "attn.c_proj.bias"] = normal(d, std=0.05)
        w[p + "ln_2.weight"] = 1 + normal(d, std=0.1)
        w[p + "ln_2.bias"] = normal(d, std=0.05)
        w[p + "mlp.c_fc.weight"] = normal(d, inner, std=0.2)
        w[p + "mlp.c_fc.bias"] = normal(inner, std=0.05)
        w[p + "mlp.c_proj.weight"] = normal(inner, d, std=0.2)
        w[p + "mlp.c_proj.bias"] = normal(d, std=0.05)
    w[f"{prefix}ln_f.weight"] = 1 + normal(d, std=0.1)
    w[f"{prefix}ln_f.bias"] = normal(d, std=0.05)
    return w


def gpt2_forward(cfg, weights, ids):
    """GPT-2 as in modeling_gpt2.py (eager attention, gelu_new, Conv1D weights [in, out], tied lm_head)."""
    w = {k[len("transformer."):] if k.startswith("transformer.") else k: v.float() for k, v in weights.items()}
    d, n_head, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    hd = d // n_head
    b, t = ids.shape
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(t)][None]
    future = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)

    def layer_norm(v, p):
        mean = v.mean(-1, keepdim=True)
        var = ((v - mean) ** 2).mean(-1, keepdim=True)
        return (v - mean) / torch.sqrt(var + eps) * w[p + ".weight"] + w[p + ".bias"]

    resids = []
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        h = layer_norm(x, p + "ln_1")
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # [B, T, 3d]
        q, k, v = (qkv[..., j * d:(j + 1) * d].reshape(b, t, n_head, hd).transpose(1, 2) for j in range(3))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)  # [B, nHead, T, T]
        probs = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        a = (probs @ v).transpose(1, 2).reshape(b, t, d)
        x = x + a @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, p + "ln_2")
        m = gelu_tanh(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        resids.append(x.clone())
    logits = layer_norm(x, "ln_f") @ w["wte.weight"].T
    return resids, logits


def make_gpt2(input_ids):
    cfg = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 64, "n_positions": 16,
        "n_ctx": 16, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": None, "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
        "initializer_range": 0.02, "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False, "tie_word_embeddings": True, "bos_token_id": 63, "eos_token_id": 63,
        "torch_dtype": "float32",
    }
    gen = torch.Generator().manual_seed(1234)
    # What GPT2LMHeadModel.save_pretrained writes: "transformer." prefix, lm_head left out (tied).
    prefixed = gpt2_weights(cfg, gen, "transformer.", with_mask_buffer=False)
    resids, logits = gpt2_forward(cfg, prefixed, input_ids)
    folder = os.path.join(HERE, "gpt2-tiny")
    write_checkpoint(folder, cfg, prefixed)
    write_reference(folder, input_ids, resids, logits)

    # The layout of the hub's openai-community/gpt2 file: no prefix, plus the attn.bias mask buffers; sharded.
    bare = {k[len("transformer."):]: v for k, v in prefixed.items()}
    n_pos = cfg["n_positions"]
    for i in range(cfg["n_layer"]):
        bare[f"h.{i}.attn.bias"] = torch.tril(torch.ones(n_pos, n_pos)).view(1, 1, n_pos, n_pos)
    first = [n for n in bare if n.startswith("wte.") or n.startswith("wpe.") or n.startswith("h.0.")]
    folder = os.path.join(HERE, "gpt2-tiny-sharded")
    write_checkpoint(folder, cfg, bare, shards=[first, [n for n in bare if n not in first]])
    write_reference(folder, input_ids, resids, logits)

    bf16 = {k: v.to(torch.bfloat16) for k, v in prefixed.items()}
    cfg_bf16 = dict(cfg, torch_dtype="bfloat16")
    resids, logits = gpt2_forward(cfg_bf16, bf16, input_ids)
    folder = os.path.join(HERE, "gpt2-tiny-bf16")
    write_checkpoint(folder, cfg_bf16, bf16)
    write_reference(folder, input_ids, resids, logits)


# ---------------------------------------------------------------------------------------------------- Gemma-2

def gemma2_layer_types(cfg):
    if cfg.get("layer_types") is not None:
        return cfg["layer_types"]
    # HF Gemma-2: even layers (0, 2, ...) slide, odd layers attend globally.
    return ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(cfg["num_hidden_layers"])]


def gemma2_weights(cfg, gen):
    d, inter, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]

    def normal(*shape, std):
        return torch.randn(*shape, generator=gen) * std

    w = {"model.embed_tokens.weight": normal(vocab, d, std=0.5)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        # q and k large enough that attention logits reach the soft cap.
        w[p + "self_attn.q_proj.weight"] = normal(nh * hd, d, std=0.3)  # nn.Linear: [out, in]
        w[p + "self_attn.k_proj.weight"] = normal(nkv * hd, d, std=0.3)
        w[p + "self_attn.v_proj.weight"] = normal(nkv * hd, d, std=0.2)
        w[p + "self_attn.o_proj.weight"] = normal(d, nh * hd, std=0.2)
        w[p + "mlp.gate_proj.weight"] = normal(inter, d, std=0.2)
        w[p + "mlp.up_proj.weight"] = normal(inter, d, std=0.2)
        w[p + "mlp.down_proj.weight"] = normal(d, inter, std=0.2)
        for norm in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                     "post_feedforward_layernorm"):
            w[p + norm + ".weight"] = normal(d, std=0.2)  # Gemma stores w and scales by (1 + w)
    w["model.norm.weight"] = normal(d, std=0.2)
    return w


def gemma2_forward(cfg, weights, ids, stats):
    """Gemma-2 as in modeling_gemma2.py (eager attention), all in float32."""
    w = {k: v.float() for k, v in weights.items()}
    d, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, window = cfg["rms_norm_eps"], cfg["sliding_window"]
    scale = cfg["query_pre_attn_scalar"] ** -0.5
    group = nh // nkv
    b, t = ids.shape

    def rms_norm(v, name):
        return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w[name])

    def rope(v):  # v: [B, heads, T, hd]; rotate-half convention, frequencies base^(-2i/hd)
        inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
        angles = torch.arange(t).float()[:, None] * inv_freq[None, :]  # [T, hd/2]
        cos, sin = torch.cos(angles), torch.sin(angles)
        v1, v2 = v[..., : hd // 2], v[..., hd // 2:]
        return torch.cat([v1 * cos - v2 * sin, v2 * cos + v1 * sin], dim=-1)

    query_pos = torch.arange(t)[:, None]
    key_pos = torch.arange(t)[None, :]
    x = w["model.embed_tokens.weight"][ids] * (d ** 0.5)
    resids = []
    for i, kind in enumerate(gemma2_layer_types(cfg)):
        p = f"model.layers.{i}."
        allowed = key_pos <= query_pos
        if kind == "sliding_attention":
            allowed = allowed & (query_pos - key_pos < window)
        h = rms_norm(x, p + "input_layernorm.weight")
        q = rope((h @ w[p + "self_attn.q_proj.weight"].T).view(b, t, nh, hd).transpose(1, 2))   # [B, nh, T, hd]
        k = rope((h @ w[p + "self_attn.k_proj.weight"].T).view(b, t, nkv, hd).transpose(1, 2))  # [B, nkv, T, hd]
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(b, t, nkv, hd).transpose(1, 2)
        heads = []
        for head in range(nh):
            kv = head // group  # query heads share key/value heads in consecutive groups
            scores = (q[:, head] @ k[:, kv].transpose(-1, -2)) * scale  # [B, T, T]
            stats["max_attn_logit"] = max(stats["max_attn_logit"], scores.abs().max().item())
            scores = softcap(scores, cfg["attn_logit_softcapping"])
            probs = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
            heads.append(probs @ v[:, kv])  # [B, T, hd]
        a = torch.stack(heads, dim=2).reshape(b, t, nh * hd)
        x = x + rms_norm(a @ w[p + "self_attn.o_proj.weight"].T, p + "post_attention_layernorm.weight")
        h = rms_norm(x, p + "pre_feedforward_layernorm.weight")
        m = gelu_tanh(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)
        x = x + rms_norm(m @ w[p + "mlp.down_proj.weight"].T, p + "post_feedforward_layernorm.weight")
        resids.append(x.clone())
    logits = rms_norm(x, "model.norm.weight") @ w["model.embed_tokens.weight"].T
    stats["max_logit"] = max(stats["max_logit"], logits.abs().max().item())
    return resids, softcap(logits, cfg["final_logit_softcapping"])


def make_gemma2(input_ids):
    cfg = {
        "architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "vocab_size": 64, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 8, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 64, "initializer_range": 0.02, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
        "attention_bias": False, "attention_dropout": 0.0,
        # Unlike head_dim (8), so a scaling by head_dim**-0.5 would show.
        "query_pre_attn_scalar": 12,
        # Smaller than the 12-token sequence, so the window masks keys on the sliding layers.
        "sliding_window": 4,
        # Low caps so both tanh soft caps bend the values the random weights produce.
        "attn_logit_softcapping": 5.0, "final_logit_softcapping": 3.0,
        "tie_word_embeddings": True, "pad_token_id": 0, "eos_token_id": 1, "bos_token_id": 2,
        "cache_implementation": "hybrid", "torch_dtype": "float32",
    }
    gen = torch.Generator().manual_seed(5678)
    weights = gemma2_weights(cfg, gen)
    stats = {"max_attn_logit": 0.0, "max_logit": 0.0}
    resids, logits = gemma2_forward(cfg, weights, input_ids, stats)
    folder = os.path.join(HERE, "gemma2-tiny")
    write_checkpoint(folder, cfg, weights)
    write_reference(folder, input_ids, resids, logits)

    # Same weights over two shards; layer_types written out (newer HF configs do), same pattern as the default.
    cfg_sharded = dict(cfg, layer_types=gemma2_layer_types(cfg))
    first = [n for n in weights if n.startswith("model.embed_tokens.") or n.startswith("model.layers.0.")
             or n.startswith("model.layers.1.")]
    folder = os.path.join(HERE, "gemma2-tiny-sharded")
    write_checkpoint(folder, cfg_sharded, weights, shards=[first, [n for n in weights if n not in first]])
    write_reference(folder, input_ids, resids, logits)

    # Weights stored as bfloat16, and a non-default layer pattern so that a reader ignoring layer_types fails.
    cfg_bf16 = dict(cfg, torch_dtype="bfloat16",
                    layer_types=["full_attention", "sliding_attention", "sliding_attention", "full_attention"])
    bf16 = {k: v.to(torch.bfloat16) for k, v in weights.items()}
    resids, logits = gemma2_forward(cfg_bf16, bf16, input_ids, stats)
    folder = os.path.join(HERE, "gemma2-tiny-bf16")
    write_checkpoint(folder, cfg_bf16, bf16)
    write_reference(folder, input_ids, resids, logits)
    print(f"gemma2: max |attention logit| before cap {stats['max_attn_logit']:.2f} (cap 5), "
          f"max |logit| before cap {stats['max_logit']:.2f} (cap 3)")


# ------------------------------------------------------------------------------------------------ tokenizer

TOKENIZER_TEXTS = ["the cat sat on the mat", " the  oat", "zebra cat", "Then the man ate", "a"]


def make_gemma2_tokenizer():
    corpus = ["the cat sat on the mat", "a rat and a cat ate the oat", "then the cat ran at the man",
              "no one can tame the cat", "the hen and the tern", "ten men sat on a mat then ran"] * 20
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, model_type="bpe", vocab_size=64,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3, add_dummy_prefix=False, remove_extra_whitespaces=False,
        normalization_rule_name="identity", byte_fallback=False, character_coverage=1.0, num_threads=1,
        minloglevel=2)
    folder = os.path.join(HERE, "gemma2-tiny")
    with open(os.path.join(folder, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    cases = [{"text": t, "ids": processor.encode(t), "pieces": processor.encode(t, out_type=str)} for t in TOKENIZER_TEXTS]
    write_json(os.path.join(folder, "tokenizer_reference.json"), {"cases": cases})


def main():
    torch.set_grad_enabled(False)
    gen = torch.Generator().manual_seed(42)
    input_ids = torch.randint(0, 64, (2, 12), generator=gen, dtype=torch.int64)  # [B=2, T=12]
    make_gpt2(input_ids)
    make_gemma2(input_ids)
    make_gemma2_tokenizer()
    print("input_ids:", input_ids.tolist())


if __name__ == "__main__":
    main()
