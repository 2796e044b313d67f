"""t5_ref.py - a small, independent PyTorch T5 (encoder-decoder) that computes
what Hugging Face's T5ForConditionalGeneration computes, for checking the C
engine. Written for this project (it does not import or copy transformers).

Semantics: RMS layer norm (no mean, no bias) before each sublayer and a
residual add after it; attention scores q.k with NO 1/sqrt(d_kv) scaling; a
relative position bias computed from the first layer's table of each stack
and shared by all its layers (bidirectional buckets in the encoder, causal in
the decoder, none in cross attention); relu (T5 v1.0) or gated tanh-GELU
(v1.1, ByT5) feed-forward; final layer norms; tied embeddings with the
decoder output scaled by d_model**-0.5, or an untied lm_head.

API (importable; the training fixtures use it with autograd):
    cfg = config_from_dict(d)          HF config.json keys -> full dict
    m = T5Ref(cfg, dtype=torch.float32)  zero parameters; m.params[name]
    m.init_random(seed)                HF-like init, layer norms randomised
    logits, attn = m.forward(src_ids, dec_in_ids, src_mask=None, dec_mask=None)
        src_ids (S,) or (B, S); dec_in_ids (T,) or (B, T); masks 1 = token
        logits (..., T, V); attn = {"enc": [L x (..., H, S, S)],
                                    "dec": [L x (..., H, T, T)],
                                    "cross": [L x (..., H, T, S)]}
    loss(logits, labels)               mean CE, labels -100 ignored
    shift_right(labels, start)         decoder input from labels
    m.greedy(src_ids, max_len)         list of generated ids (eos included)
    m.state_fn = fn                    hidden-state hook: fn(stack, kind, layer, x) -> x
                                       for stack "encoder"|"decoder", kind "embed" (layer 0,
                                       the embeddings), "attn", "cross" (decoder), "mlp" (a
                                       sublayer's output before its residual add), "resid"
                                       (the stream after the layer); what it returns is used
    m.norms = {"enc": [], "dec": [], "cross": []}  collect value-weighted maps
                                       ||a_ij W_O^h v_j^h|| / row sum, per layer (..., H, Tq, Tk)
    m.output_head(x)                   final layer norm + LM head: the logit lens
    m = load_folder(dir); save_folder(m, dir)
    st_read(path) -> {name: np.ndarray}; st_write(path, {name: array}, metadata)
    param_table(cfg) -> [(name, shape)] in attnscope's C order
"""

import json
import math
import os
import struct

import numpy as np
import torch

# ---------------------------------------------------------------- config

CONFIG_DEFAULTS = {
    "vocab_size": 384,
    "d_model": 128,
    "d_kv": 32,
    "d_ff": 512,
    "num_heads": 4,
    "num_layers": 3,
    "num_decoder_layers": None,  # None: same as num_layers (HF)
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "layer_norm_epsilon": 1e-6,
    "feed_forward_proj": "relu",
    "tie_word_embeddings": True,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
}


def config_from_dict(d):
    """A complete config dict from HF config.json keys (defaults as HF)."""
    cfg = dict(CONFIG_DEFAULTS)
    for k in CONFIG_DEFAULTS:
        if k in d and d[k] is not None:
            cfg[k] = d[k]
    if cfg["num_decoder_layers"] is None:
        cfg["num_decoder_layers"] = cfg["num_layers"]
    ff = cfg["feed_forward_proj"]
    if ff not in ("relu", "gated-gelu"):
        raise ValueError("feed_forward_proj %r not supported (relu | gated-gelu)" % ff)
    return cfg


def config_to_json(cfg):
    """The config.json dict a transformers T5ForConditionalGeneration loads."""
    gated = cfg["feed_forward_proj"] == "gated-gelu"
    out = {
        "architectures": ["T5ForConditionalGeneration"],
        "model_type": "t5",
        "is_encoder_decoder": True,
        "use_cache": True,
        "dropout_rate": 0.0,
        "initializer_factor": 1.0,
        "dense_act_fn": "gelu_new" if gated else "relu",
        "is_gated_act": gated,
    }
    out.update({k: cfg[k] for k in CONFIG_DEFAULTS})
    return out


def param_table(cfg):
    """Every tensor (HF name, shape) in the order attnscope's model.c uses."""
    C, HD, F = cfg["d_model"], cfg["num_heads"] * cfg["d_kv"], cfg["d_ff"]
    gated = cfg["feed_forward_proj"] == "gated-gelu"
    t = [("shared.weight", (cfg["vocab_size"], C))]

    def attn(prefix, rel):
        t.extend([(prefix + ".q.weight", (HD, C)), (prefix + ".k.weight", (HD, C)),
                  (prefix + ".v.weight", (HD, C)), (prefix + ".o.weight", (C, HD))])
        if rel:
            t.append((prefix + ".relative_attention_bias.weight",
                      (cfg["relative_attention_num_buckets"], cfg["num_heads"])))

    def ff(prefix):
        if gated:
            t.append((prefix + ".DenseReluDense.wi_0.weight", (F, C)))
            t.append((prefix + ".DenseReluDense.wi_1.weight", (F, C)))
        else:
            t.append((prefix + ".DenseReluDense.wi.weight", (F, C)))
        t.append((prefix + ".DenseReluDense.wo.weight", (C, F)))
        t.append((prefix + ".layer_norm.weight", (C,)))

    for i in range(cfg["num_layers"]):
        attn("encoder.block.%d.layer.0.SelfAttention" % i, i == 0)
        t.append(("encoder.block.%d.layer.0.layer_norm.weight" % i, (C,)))
        ff("encoder.block.%d.layer.1" % i)
    t.append(("encoder.final_layer_norm.weight", (C,)))
    for i in range(cfg["num_decoder_layers"]):
        attn("decoder.block.%d.layer.0.SelfAttention" % i, i == 0)
        t.append(("decoder.block.%d.layer.0.layer_norm.weight" % i, (C,)))
        attn("decoder.block.%d.layer.1.EncDecAttention" % i, False)
        t.append(("decoder.block.%d.layer.1.layer_norm.weight" % i, (C,)))
        ff("decoder.block.%d.layer.2" % i)
    t.append(("decoder.final_layer_norm.weight", (C,)))
    if not cfg["tie_word_embeddings"]:
        t.append(("lm_head.weight", (cfg["vocab_size"], C)))
    return t


# ---------------------------------------------------------------- layers

def relative_bucket(rel, bidirectional, num_buckets, max_distance):
    """HF's bucket of relative position rel = key - query (a long tensor),
    computed with the same float32 operations so edge cases agree."""
    rel = rel.to(torch.long)
    bucket = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        bucket = bucket + (rel > 0).to(torch.long) * num_buckets
        n = rel.abs()
    else:
        n = (-rel).clamp(min=0)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    large = max_exact + (torch.log(n.float() / max_exact)
                         / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.clamp(large, max=num_buckets - 1)
    return bucket + torch.where(is_small, n, large)


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


# ---------------------------------------------------------------- model

class T5Ref:
    """A T5 whose parameters are a dict of HF-named tensors (self.params)."""

    def __init__(self, cfg, dtype=torch.float32):
        self.cfg = config_from_dict(cfg)
        self.dtype = dtype
        self.params = {name: torch.zeros(shape, dtype=dtype)
                       for name, shape in param_table(self.cfg)}
        self.state_fn = None
        self.norms = None

    def _state(self, stack, kind, layer, x):
        return x if self.state_fn is None else self.state_fn(stack, kind, layer, x)

    # -- parameters

    def init_random(self, seed, ln_random=True, rel_std=None):
        """HF _init_weights-like normal init (factor 1). Layer norm weights
        are uniform in [0.5, 1.5) when ln_random (else 1). rel_std overrides
        the relative-bias std (HF: d_model**-0.5)."""
        g = torch.Generator().manual_seed(seed)
        c = self.cfg
        C, dkv, H, F = c["d_model"], c["d_kv"], c["num_heads"], c["d_ff"]
        for name, p in self.params.items():
            if name.endswith("layer_norm.weight"):
                if ln_random:
                    v = 0.5 + torch.rand(p.shape, generator=g, dtype=torch.float64)
                else:
                    v = torch.ones(p.shape, dtype=torch.float64)
                p.copy_(v)
                continue
            if name in ("shared.weight", "lm_head.weight"):
                std = 1.0
            elif name.endswith(".q.weight"):
                std = (C * dkv) ** -0.5
            elif name.endswith(".o.weight"):
                std = (H * dkv) ** -0.5
            elif name.endswith("relative_attention_bias.weight"):
                std = rel_std if rel_std is not None else C ** -0.5
            elif name.endswith(".wo.weight"):
                std = F ** -0.5
            else:  # k, v, wi, wi_0, wi_1
                std = C ** -0.5
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * std)
        return self

    def requires_grad_(self, flag=True):
        for p in self.params.values():
            p.requires_grad_(flag)
        return self

    def _p(self, name):
        return self.params[name]

    # Dropout, for the trainer's reference: self.dropout(site, layer, x) returns
    # x with its dropout applied (None: no dropout, inference). Sites (T5's
    # places, HF's modeling_t5): "embed", "self_probs", "self_out",
    # "cross_probs", "cross_out", "ff_hidden", "ff_out", "final", each with
    # the stack's name in front ("encoder.embed" ...); layer is the block
    # (0 for embed and final).
    dropout = None

    def _drop(self, site, layer, x):
        return x if self.dropout is None else self.dropout(site, layer, x)

    # -- pieces

    def _position_bias(self, stack, nq, nk, q_offset=0):
        """(H, nq, nk) bias from layer 0's table of stack 'encoder'|'decoder'."""
        c = self.cfg
        table = self._p("%s.block.0.layer.0.SelfAttention.relative_attention_bias.weight" % stack)
        qpos = torch.arange(nq, dtype=torch.long)[:, None] + q_offset
        kpos = torch.arange(nk, dtype=torch.long)[None, :]
        buckets = relative_bucket(kpos - qpos, stack == "encoder",
                                  c["relative_attention_num_buckets"],
                                  c["relative_attention_max_distance"])
        return table[buckets].permute(2, 0, 1)  # (nq, nk, H) -> (H, nq, nk)

    def _attention(self, prefix, x_q, x_kv, bias, drop_site=None, layer=0, norms_key=None):
        """x_q (B, Tq, C), x_kv (B, Tk, C); bias broadcastable to (B, H, Tq, Tk)
        or None. Returns output (B, Tq, C) and probabilities (B, H, Tq, Tk)."""
        c = self.cfg
        H, dkv = c["num_heads"], c["d_kv"]
        B, Tq, _ = x_q.shape
        Tk = x_kv.shape[1]
        q = (x_q @ self._p(prefix + ".q.weight").T).view(B, Tq, H, dkv).transpose(1, 2)
        k = (x_kv @ self._p(prefix + ".k.weight").T).view(B, Tk, H, dkv).transpose(1, 2)
        v = (x_kv @ self._p(prefix + ".v.weight").T).view(B, Tk, H, dkv).transpose(1, 2)
        scores = q @ k.transpose(-1, -2)  # no 1/sqrt(d_kv): T5
        if bias is not None:
            scores = scores + bias
        probs = torch.softmax(scores, dim=-1)
        dropped = probs if drop_site is None else self._drop(drop_site, layer, probs)
        out = (dropped @ v).transpose(1, 2).reshape(B, Tq, H * dkv)
        if self.norms is not None and norms_key is not None:
            # The whole vector a_ij W_O^h v_j^h of every (head, query, key), then its norm.
            wo = self._p(prefix + ".o.weight").view(-1, H, dkv)       # (C, H, dkv)
            ov = torch.einsum("chd,bhkd->bhkc", wo, v)                 # (B, H, Tk, C)
            f = probs[..., None] * ov[:, :, None, :, :]                # (B, H, Tq, Tk, C)
            n = f.norm(dim=-1)
            self.norms[norms_key].append(n / n.sum(-1, keepdim=True))
        return out @ self._p(prefix + ".o.weight").T, probs

    def _ff(self, prefix, x, stack=None, layer=0):
        c = self.cfg
        h = rms_norm(x, self._p(prefix + ".layer_norm.weight"), c["layer_norm_epsilon"])
        if c["feed_forward_proj"] == "gated-gelu":
            a = gelu_tanh(h @ self._p(prefix + ".DenseReluDense.wi_0.weight").T)
            h = a * (h @ self._p(prefix + ".DenseReluDense.wi_1.weight").T)
        else:
            h = torch.relu(h @ self._p(prefix + ".DenseReluDense.wi.weight").T)
        site = "" if stack is None else stack + "."
        h = self._drop(site + "ff_hidden", layer, h)
        out = h @ self._p(prefix + ".DenseReluDense.wo.weight").T
        out = self._drop(site + "ff_out", layer, out)
        if stack is not None:
            out = self._state(stack, "mlp", layer, out)
        return x + out

    def _mask_bias(self, mask):
        """(B, S) 1/0 mask -> additive (B, 1, 1, S) as HF: (1-m) * finfo.min."""
        if mask is None:
            return None
        m = mask.to(self.dtype)[:, None, None, :]
        return (1.0 - m) * torch.finfo(self.dtype).min

    # -- stacks

    def encode(self, src_ids, src_mask=None):
        """src_ids (B, S) long -> encoder output (B, S, C), [L x (B, H, S, S)]."""
        c = self.cfg
        eps = c["layer_norm_epsilon"]
        S = src_ids.shape[1]
        x = self._drop("encoder.embed", 0,
                       self._state("encoder", "embed", 0, self._p("shared.weight")[src_ids]))
        bias = self._position_bias("encoder", S, S)[None]
        mb = self._mask_bias(src_mask)
        if mb is not None:
            bias = bias + mb
        maps = []
        for i in range(c["num_layers"]):
            p = "encoder.block.%d.layer.0" % i
            h = rms_norm(x, self._p(p + ".layer_norm.weight"), eps)
            out, probs = self._attention(p + ".SelfAttention", h, h, bias,
                                         "encoder.self_probs", i, "enc")
            x = x + self._state("encoder", "attn", i, self._drop("encoder.self_out", i, out))
            maps.append(probs)
            x = self._ff("encoder.block.%d.layer.1" % i, x, "encoder", i)
            x = self._state("encoder", "resid", i, x)
        x = rms_norm(x, self._p("encoder.final_layer_norm.weight"), eps)
        return self._drop("encoder.final", 0, x), maps

    def decode(self, enc_out, dec_in_ids, src_mask=None, dec_mask=None):
        """-> logits (B, T, V), self maps [L x (B,H,T,T)], cross [L x (B,H,T,S)]."""
        c = self.cfg
        eps = c["layer_norm_epsilon"]
        T = dec_in_ids.shape[1]
        x = self._drop("decoder.embed", 0,
                       self._state("decoder", "embed", 0, self._p("shared.weight")[dec_in_ids]))
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        bias = self._position_bias("decoder", T, T)
        bias = bias.masked_fill(~causal, torch.finfo(self.dtype).min)[None]
        mb = self._mask_bias(dec_mask)
        if mb is not None:
            bias = bias + mb
        cross_bias = self._mask_bias(src_mask)
        self_maps, cross_maps = [], []
        for i in range(c["num_decoder_layers"]):
            p = "decoder.block.%d.layer." % i
            h = rms_norm(x, self._p(p + "0.layer_norm.weight"), eps)
            out, probs = self._attention(p + "0.SelfAttention", h, h, bias,
                                         "decoder.self_probs", i, "dec")
            x = x + self._state("decoder", "attn", i, self._drop("decoder.self_out", i, out))
            self_maps.append(probs)
            h = rms_norm(x, self._p(p + "1.layer_norm.weight"), eps)
            out, probs = self._attention(p + "1.EncDecAttention", h, enc_out, cross_bias,
                                         "decoder.cross_probs", i, "cross")
            x = x + self._state("decoder", "cross", i, self._drop("decoder.cross_out", i, out))
            cross_maps.append(probs)
            x = self._ff(p + "2", x, "decoder", i)
            x = self._state("decoder", "resid", i, x)
        x = rms_norm(x, self._p("decoder.final_layer_norm.weight"), eps)
        x = self._drop("decoder.final", 0, x)
        self.last_hidden = x  # what the output layer sees (the trainer's aux head too)
        return self._lm_head(x), self_maps, cross_maps

    def output_head(self, x):
        """Logits from residual-stream rows x (..., C): the decoder's final
        layer norm, then the tied (scaled) or untied head. Applied to an inner
        layer's residual this is the logit lens."""
        c = self.cfg
        x = rms_norm(x, self._p("decoder.final_layer_norm.weight"), c["layer_norm_epsilon"])
        return self._lm_head(x)

    def _lm_head(self, x):
        c = self.cfg
        if c["tie_word_embeddings"]:
            return (x * c["d_model"] ** -0.5) @ self._p("shared.weight").T
        return x @ self._p("lm_head.weight").T

    def forward(self, src_ids, dec_in_ids, src_mask=None, dec_mask=None):
        """Teacher-forced pass. Accepts unbatched (S,)/(T,) or batched ids.
        Returns logits and {"enc", "dec", "cross"} lists of per-layer maps."""
        src = torch.as_tensor(src_ids, dtype=torch.long)
        dec = torch.as_tensor(dec_in_ids, dtype=torch.long)
        single = src.dim() == 1
        if single:
            src, dec = src[None], dec[None]
            src_mask = None if src_mask is None else torch.as_tensor(src_mask)[None]
            dec_mask = None if dec_mask is None else torch.as_tensor(dec_mask)[None]
        enc_out, enc_maps = self.encode(src, src_mask)
        logits, dec_maps, cross_maps = self.decode(enc_out, dec, src_mask, dec_mask)
        attn = {"enc": enc_maps, "dec": dec_maps, "cross": cross_maps}
        if single:
            logits = logits[0]
            attn = {k: [m[0] for m in v] for k, v in attn.items()}
        return logits, attn

    __call__ = forward

    @torch.no_grad()
    def greedy(self, src_ids, max_len):
        """Greedy decoding by full recomputation each step (independent of
        any cache logic). Returns the generated ids (eos included when
        produced, start token excluded) and the smallest top-1/top-2 logit
        gap seen (how safe the argmax choices are)."""
        c = self.cfg
        src = torch.as_tensor(src_ids, dtype=torch.long)[None]
        enc_out, _ = self.encode(src)
        dec = [c["decoder_start_token_id"]]
        out, min_gap = [], float("inf")
        for _ in range(max_len):
            logits, _, _ = self.decode(enc_out, torch.tensor([dec]))
            last = logits[0, -1]
            top = torch.topk(last, 2).values
            min_gap = min(min_gap, float(top[0] - top[1]))
            tok = int(torch.argmax(last))
            out.append(tok)
            if tok == c["eos_token_id"]:
                break
            dec.append(tok)
        return out, min_gap


def shift_right(labels, start=0):
    """Decoder input from labels: start token, labels[:-1]; -100 -> pad 0."""
    labels = torch.as_tensor(labels, dtype=torch.long)
    dec = torch.full_like(labels, start)
    dec[..., 1:] = labels[..., :-1]
    return dec.masked_fill(dec == -100, 0)


def loss(logits, labels, label_smoothing=0.0):
    """Mean cross-entropy over labels != -100 (HF's CrossEntropyLoss), with
    torch's label smoothing when asked."""
    labels = torch.as_tensor(labels, dtype=torch.long)
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100,
        label_smoothing=label_smoothing)


# ---------------------------------------------------------------- safetensors

_DT = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
       "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8}
_NP2DT = {np.dtype(v): k for k, v in _DT.items()}


def st_read(path):
    """{name: np.ndarray} of a safetensors file (BF16 comes back as float32)."""
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        shape = tuple(info["shape"])
        if info["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(_DT[info["dtype"]]).newbyteorder("<"))
        out[name] = arr.reshape(shape).copy()
    return out


def st_write(path, tensors, metadata=None):
    """Write {name: array or tensor} (F64/F32/F16/I64/I32...) to path."""
    header, chunks, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        if isinstance(arr, torch.Tensor):
            arr = arr.detach().cpu().numpy()
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _NP2DT[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


# ---------------------------------------------------------------- folders

def load_folder(path, dtype=torch.float32):
    """A T5Ref from an HF folder (config.json + model.safetensors)."""
    with open(os.path.join(path, "config.json")) as f:
        cfg = config_from_dict(json.load(f))
    m = T5Ref(cfg, dtype)
    tensors = st_read(os.path.join(path, "model.safetensors"))
    for name, p in m.params.items():
        src = name
        if src not in tensors and name.startswith(("encoder.embed_tokens", "decoder.embed_tokens")):
            src = "shared.weight"
        if src not in tensors:
            raise KeyError("%s: tensor %s missing" % (path, name))
        arr = tensors[src]
        if tuple(arr.shape) != tuple(p.shape):
            raise ValueError("%s: %s has shape %s, expected %s"
                             % (path, name, arr.shape, tuple(p.shape)))
        p.data.copy_(torch.from_numpy(arr.astype(np.float64)))
    return m


def save_folder(m, path):
    """Write config.json and model.safetensors (F32, HF names)."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config_to_json(m.cfg), f, indent=2)
        f.write("\n")
    st_write(os.path.join(path, "model.safetensors"),
             {n: p.detach().to(torch.float32) for n, p in m.params.items()},
             {"format": "pt"})
