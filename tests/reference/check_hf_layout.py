"""check_hf_layout.py - is a model folder written by attnscope a checkpoint
that Hugging Face's T5ForConditionalGeneration.from_pretrained accepts?

    /usr/bin/python3 tests/reference/check_hf_layout.py DIR [DIR...]

With transformers installed it simply loads each folder with
T5ForConditionalGeneration and checks that no weight is missing (beyond the
tied copies), none is unexpected and every value equals the file's.

Without transformers (the usual case here: Debian has no package), it
rebuilds the module tree of modeling_t5.py in torch -- the same attribute
names and nn.Linear / nn.Embedding shapes -- takes its state_dict() and
applies transformers' loading rules to the file: every state_dict key must be
in the file with that shape, except the tied copies
(encoder.embed_tokens.weight, decoder.embed_tokens.weight and, when
tie_word_embeddings, lm_head.weight); nothing else may be in the file; the
safetensors metadata must say format "pt"; config.json must hold the keys
T5Config reads, consistent with each other (feed_forward_proj, dense_act_fn,
is_gated_act). It also parses the header with plain struct/json, so it
doubles as an independent check of attnscope's writer (8-byte aligned
header, contiguous offsets).

Exit status 0 when every folder passes. Not part of `make test` (needs torch).
"""

import json
import os
import struct
import sys

import torch
from torch import nn


# ---- the module tree of transformers' modeling_t5.py (names and shapes only)

class T5LayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))


class T5Attention(nn.Module):
    def __init__(self, c, has_relative_attention_bias):
        super().__init__()
        inner = c["num_heads"] * c["d_kv"]
        self.q = nn.Linear(c["d_model"], inner, bias=False)
        self.k = nn.Linear(c["d_model"], inner, bias=False)
        self.v = nn.Linear(c["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, c["d_model"], bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(
                c["relative_attention_num_buckets"], c["num_heads"])


class T5LayerSelfAttention(nn.Module):
    def __init__(self, c, has_rel):
        super().__init__()
        self.SelfAttention = T5Attention(c, has_rel)
        self.layer_norm = T5LayerNorm(c["d_model"])


class T5LayerCrossAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.EncDecAttention = T5Attention(c, False)
        self.layer_norm = T5LayerNorm(c["d_model"])


class T5DenseActDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)


class T5DenseGatedActDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi_0 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wi_1 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)


class T5LayerFF(nn.Module):
    def __init__(self, c):
        super().__init__()
        gated = c["feed_forward_proj"].startswith("gated-")
        self.DenseReluDense = T5DenseGatedActDense(c) if gated else T5DenseActDense(c)
        self.layer_norm = T5LayerNorm(c["d_model"])


class T5Block(nn.Module):
    def __init__(self, c, is_decoder, has_rel):
        super().__init__()
        self.layer = nn.ModuleList([T5LayerSelfAttention(c, has_rel)])
        if is_decoder:
            self.layer.append(T5LayerCrossAttention(c))
        self.layer.append(T5LayerFF(c))


class T5Stack(nn.Module):
    def __init__(self, c, n, is_decoder):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["d_model"])
        self.block = nn.ModuleList([T5Block(c, is_decoder, i == 0) for i in range(n)])
        self.final_layer_norm = T5LayerNorm(c["d_model"])


class T5ForConditionalGeneration(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.encoder = T5Stack(c, c["num_layers"], False)
        self.decoder = T5Stack(c, c["num_decoder_layers"], True)
        self.lm_head = nn.Linear(c["d_model"], c["vocab_size"], bias=False)


# ---- checks

def read_header(path):
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    return hlen, header, len(data) - 8 - hlen


def check_config(cfg, problems):
    need = ["architectures", "model_type", "vocab_size", "d_model", "d_kv", "d_ff",
            "num_layers", "num_decoder_layers", "num_heads", "relative_attention_num_buckets",
            "relative_attention_max_distance", "dropout_rate", "layer_norm_epsilon",
            "initializer_factor", "feed_forward_proj", "is_encoder_decoder", "use_cache",
            "pad_token_id", "eos_token_id", "decoder_start_token_id", "tie_word_embeddings",
            "dense_act_fn", "is_gated_act"]
    for k in need:
        if k not in cfg:
            problems.append("config.json lacks %s" % k)
    if cfg.get("model_type") != "t5":
        problems.append("model_type is %r" % cfg.get("model_type"))
    if cfg.get("architectures") != ["T5ForConditionalGeneration"]:
        problems.append("architectures is %r" % cfg.get("architectures"))
    # T5Config.__init__: act_info = feed_forward_proj.split("-"); gated when
    # "gated-<act>"; "gated-gelu" maps dense_act_fn to "gelu_new".
    ffp = cfg.get("feed_forward_proj", "relu")
    info = ffp.split("-")
    gated = info[0] == "gated"
    if (len(info) > 1 and not gated) or len(info) > 2:
        problems.append("feed_forward_proj %r is not valid for T5Config" % ffp)
    act = "gelu_new" if ffp == "gated-gelu" else info[-1]
    if cfg.get("dense_act_fn") != act:
        problems.append("dense_act_fn %r, T5Config derives %r" % (cfg.get("dense_act_fn"), act))
    if cfg.get("is_gated_act") != gated:
        problems.append("is_gated_act %r, T5Config derives %r" % (cfg.get("is_gated_act"), gated))
    if cfg.get("is_encoder_decoder") is not True:
        problems.append("is_encoder_decoder is not true")


def check_with_transformers(d, problems):
    import transformers  # noqa: F401 (only reached when installed)
    from transformers import T5ForConditionalGeneration as HF
    model, info = HF.from_pretrained(d, output_loading_info=True)
    tied = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"}
    for k in info["missing_keys"]:
        if k not in tied:
            problems.append("transformers: missing %s" % k)
    for k in info["unexpected_keys"]:
        problems.append("transformers: unexpected %s" % k)


def check_folder(d):
    problems = []
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    check_config(cfg, problems)
    c = dict(cfg)
    if c.get("num_decoder_layers") is None:
        c["num_decoder_layers"] = c["num_layers"]
    sd = T5ForConditionalGeneration(c).state_dict()

    hlen, header, data_len = read_header(os.path.join(d, "model.safetensors"))
    if hlen % 8:
        problems.append("header length %d is not a multiple of 8" % hlen)
    meta = header.pop("__metadata__", None)
    if not meta or meta.get("format") != "pt":
        problems.append("metadata %r lacks format 'pt' (transformers refuses the file)" % meta)
    tied = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
    if c.get("tie_word_embeddings", True):
        tied.add("lm_head.weight")
    for k, v in sd.items():
        if k not in header:
            if k not in tied:
                problems.append("missing %s %s" % (k, list(v.shape)))
            continue
        if header[k]["shape"] != list(v.shape):
            problems.append("%s has shape %s, HF expects %s" % (k, header[k]["shape"], list(v.shape)))
        if header[k]["dtype"] != "F32":
            problems.append("%s has dtype %s" % (k, header[k]["dtype"]))
    for k in header:
        if k not in sd:
            problems.append("unexpected %s" % k)
    spans = sorted(tuple(h["data_offsets"]) for h in header.values())
    pos = 0
    for b, e in spans:
        if b != pos:
            problems.append("data not contiguous at byte %d" % b)
        pos = e
    if pos != data_len:
        problems.append("data section is %d bytes, tensors cover %d" % (data_len, pos))

    try:
        check_with_transformers(d, problems)
        how = "transformers"
    except ImportError:
        how = "torch mirror of modeling_t5.py"
    return problems, how, len(sd), len(header)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    bad = 0
    for d in argv[1:]:
        problems, how, n_sd, n_file = check_folder(d)
        if problems:
            bad += 1
            print("FAIL %s (%s):" % (d, how))
            for p in problems:
                print("  " + p)
        else:
            print("ok   %s (%s): %d file tensors match the %d-key HF state_dict"
                  % (d, how, n_file, n_sd))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
