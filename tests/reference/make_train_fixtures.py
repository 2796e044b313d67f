"""make_train_fixtures.py - reference gradients and AdamW losses for the C
trainer (tests/unit/test_train.c).

    /usr/bin/python3 tests/reference/make_train_fixtures.py tests/fixtures

For each variant (tests/fixtures/train-<name>/): config.json and
model.safetensors (F32, HF names) and expected.safetensors holding
    src          I32 (B, S)   padded source ids (pad 0)
    src_len      I32 (B)      real source lengths (the rest is masked)
    dec_in       I32 (B, T)   decoder inputs (start token, shifted labels, pad 0)
    labels       I32 (B, T)   labels, -100 on padding and at one inner position
    tgt_len      I32 (B)      decoder positions of each sequence
    loss         F32 (1)      mean cross-entropy of the padded batch
    grad.<name>  F32          d(loss)/d(param) for every parameter (HF names)
    adam_loss    F32 (10)     loss before each of 10 AdamW updates on the batch
    adam_norm    F32 (10)     gradient norm before clipping at each update
    adam_cfg     F32 (9)      lr, min_lr, warmup, total, decay(0 const,1 linear,
                              2 cosine), beta1, beta2, eps, weight_decay
    adam_clip    F32 (1)      max gradient norm

and options.safetensors, the same batch and weights with the trainer's
training-only options (train.cfg), one prefix per case:
    ls.loss, ls.grad.<name>    loss.label_smoothing = LABEL_SMOOTHING
    do.loss, do.grad.<name>    model.dropout_rate = DROPOUT, masks of step
                               DROPOUT_STEP with seed DROPOUT_SEED (below)
    ax.loss, ax.grad.<name>    loss.aux_weight = AUX_WEIGHT: the auxiliary head
    ax.head, ax.labels         ax.head (20, d_model) on the decoder's final hidden
    ax.aux_loss, ax.grad_head  states, two groups of 10 logits against
                               ax.labels (B, T, 2) (-1: none); ax.loss is the
                               cross-entropy alone, the gradients are those of
                               loss + AUX_WEIGHT * aux_loss, aux_loss the mean
                               over labelled positions of the two groups' mean

The dropout masks are the trainer's by definition (src/core/kernels.c,
dropout_forward), re-implemented here: element i of sequence b's slice of a
site is kept when the high 32 bits of splitmix64 output i of the stream keyed
by (seed, step, site, layer, b) are >= rate * 2^32; a kept element is scaled
by 1 / (1 - rate). A token tensor's slice is its (length, width) rows, an
attention map's its (heads, queries, keys) block.

The reference runs in float64 on float32-rounded weights. AdamW follows
torch.optim.AdamW (decoupled decay, bias correction) with layer-norm weights
excluded from decay (as the HF Trainer does), gradients clipped as
torch.nn.utils.clip_grad_norm_, and the learning rate of update i (0-based)
lr * (i+1) / warmup during warm-up, then a decay to min_lr at update total.
"""

import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_ref  # noqa: E402

VARIANTS = [
    ("tied-relu", dict(vocab_size=384, d_model=32, d_kv=8, d_ff=64, num_heads=4,
                       num_layers=2, num_decoder_layers=3,
                       relative_attention_num_buckets=8, relative_attention_max_distance=20,
                       layer_norm_epsilon=1e-6, feed_forward_proj="relu",
                       tie_word_embeddings=True)),
    ("untied-gated", dict(vocab_size=384, d_model=24, d_kv=16, d_ff=40, num_heads=3,
                          num_layers=3, num_decoder_layers=2,
                          relative_attention_num_buckets=32,
                          relative_attention_max_distance=128,
                          layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu",
                          tie_word_embeddings=False)),
]

SRC_LENS = [7, 12, 5]
TGT_LENS = [9, 4, 11]
# lr, min_lr, warmup, total, decay, beta1, beta2, eps, weight_decay
ADAM = [3e-3, 3e-4, 3, 10, 2, 0.9, 0.98, 1e-8, 0.1]
CLIP = 1.0


def lr_at(step):
    lr, min_lr, warmup, total, decay = ADAM[0], ADAM[1], int(ADAM[2]), int(ADAM[3]), int(ADAM[4])
    if step < warmup:
        return lr * (step + 1) / warmup
    if decay == 0 or total <= warmup:
        return lr
    p = min(1.0, (step - warmup) / (total - warmup))
    if decay == 1:
        return lr - (lr - min_lr) * p
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * p))


def make_batch(g):
    B, S, T = len(SRC_LENS), max(SRC_LENS), max(TGT_LENS)
    src = torch.zeros(B, S, dtype=torch.long)
    mask = torch.zeros(B, S, dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    for b in range(B):
        n = SRC_LENS[b]
        src[b, :n - 1] = torch.randint(3, 259, (n - 1,), generator=g)
        src[b, n - 1] = 1
        mask[b, :n] = 1
        t = TGT_LENS[b]
        labels[b, :t - 1] = torch.randint(3, 259, (t - 1,), generator=g)
        labels[b, t - 1] = 1
    dec_in = t5_ref.shift_right(labels, 0)
    labels[0, 3] = -100  # an ignored label inside a sequence
    return src, mask, dec_in, labels


LABEL_SMOOTHING = 0.1
DROPOUT, DROPOUT_SEED, DROPOUT_STEP = 0.2, 5, 3
SITES = {"encoder.embed": 0, "encoder.self_probs": 1, "encoder.self_out": 2,
         "encoder.ff_hidden": 3, "encoder.ff_out": 4, "encoder.final": 5,
         "decoder.embed": 10, "decoder.self_probs": 11, "decoder.self_out": 12,
         "decoder.cross_probs": 13, "decoder.cross_out": 14, "decoder.ff_hidden": 15,
         "decoder.ff_out": 16, "decoder.final": 17}
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M64 = (1 << 64) - 1


def mix64(z):
    """splitmix64's finaliser on uint64 (numpy arrays wrap as C does)."""
    with np.errstate(over="ignore"):
        z = np.asarray(z, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def key_next(k, v):
    """dropout_key: the key one more coordinate down."""
    with np.errstate(over="ignore"):
        return mix64((np.uint64(k) ^ np.uint64(v)) + GOLDEN)


def keep_mask(key, n, rate):
    """(n,) 1.0 kept, 0.0 dropped: the first n draws of key's stream."""
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=np.uint64)
        u = mix64(np.uint64(key) + i * GOLDEN) >> np.uint64(32)
    thr = np.uint64(int(float(np.float32(rate)) * 4294967296.0))
    return (u >= thr).astype(np.float64)


class Dropout:
    """t5_ref's dropout hook with the trainer's masks for one batch."""

    def __init__(self, rate, seed, step, src_len, tgt_len):
        self.rate, self.src_len, self.tgt_len = rate, src_len, tgt_len
        self.key = key_next(key_next(np.uint64(0), seed), step)

    def __call__(self, site, layer, x):
        k = key_next(key_next(self.key, SITES[site]), layer)
        mask = torch.ones_like(x)
        for b in range(x.shape[0]):
            kb = key_next(k, b)
            if site.endswith("probs"):
                lq = self.tgt_len[b] if site.startswith("decoder") else self.src_len[b]
                lk = self.src_len[b] if site in ("encoder.self_probs", "decoder.cross_probs") \
                    else self.tgt_len[b]
                H = x.shape[1]
                m = keep_mask(kb, H * lq * lk, self.rate).reshape(H, lq, lk)
                mask[b, :, :lq, :lk] = torch.from_numpy(m)
            else:
                L = self.tgt_len[b] if site.startswith("decoder") else self.src_len[b]
                W = x.shape[2]
                mask[b, :L] = torch.from_numpy(keep_mask(kb, L * W, self.rate).reshape(L, W))
        return x * mask / (1.0 - self.rate)


def batch_loss(m, src, mask, dec_in, labels, label_smoothing=0.0):
    logits, _ = m.forward(src, dec_in, src_mask=mask)
    return t5_ref.loss(logits, labels, label_smoothing)


def grads(m, prefix, loss):
    """{prefix.loss, prefix.grad.<name>} of loss, clearing the gradients."""
    loss.backward()
    out = {prefix + ".loss": np.asarray([float(loss)], dtype=np.float32)}
    for n, p in m.params.items():
        out[prefix + ".grad." + n] = p.grad.detach().to(torch.float32).numpy()
        p.grad = None
    return out


AUX_WEIGHT = 0.5


def aux_case(m, src, mask, dec_in, labels, g):
    """The auxiliary head's case: random digit labels at three positions of
    each sequence, a random head; returns the fixture's ax.* tensors."""
    B, T = labels.shape
    aux = torch.full((B, T, 2), -1, dtype=torch.long)
    for b in range(B):
        for t in (1, 2, TGT_LENS[b] - 2):
            aux[b, t] = torch.randint(0, 10, (2,), generator=g)
    C = m.cfg["d_model"]
    head = (torch.randn(20, C, generator=g, dtype=torch.float64) * 0.3)
    head = head.to(torch.float32).to(torch.float64).requires_grad_(True)
    logits, _ = m.forward(src, dec_in, src_mask=mask)
    main = t5_ref.loss(logits, labels)
    al = (m.last_hidden @ head.T).reshape(B, T, 2, 10)
    sel = aux[..., 0] >= 0
    ce = torch.nn.functional.cross_entropy(al[sel].reshape(-1, 10), aux[sel].reshape(-1),
                                           reduction="none")
    aux_loss = ce.mean()  # = mean over positions of the two groups' mean
    out = grads(m, "ax", main + AUX_WEIGHT * aux_loss)
    out["ax.loss"] = np.asarray([float(main)], dtype=np.float32)
    out["ax.aux_loss"] = np.asarray([float(aux_loss)], dtype=np.float32)
    out["ax.head"] = head.detach().to(torch.float32).numpy()
    out["ax.grad_head"] = head.grad.detach().to(torch.float32).numpy()
    out["ax.labels"] = aux.numpy().astype(np.int32)
    return out


def write_options(d, m, src, mask, dec_in, labels, seed):
    """options.safetensors: loss and gradients under each training option."""
    out = {}
    out.update(grads(m, "ls", batch_loss(m, src, mask, dec_in, labels, LABEL_SMOOTHING)))
    m.dropout = Dropout(DROPOUT, DROPOUT_SEED, DROPOUT_STEP, SRC_LENS, TGT_LENS)
    out.update(grads(m, "do", batch_loss(m, src, mask, dec_in, labels)))
    m.dropout = None
    out.update(aux_case(m, src, mask, dec_in, labels, torch.Generator().manual_seed(seed + 7)))
    t5_ref.st_write(os.path.join(d, "options.safetensors"), out,
                    {"generator": "tests/reference/make_train_fixtures.py", "seed": seed,
                     "label_smoothing": LABEL_SMOOTHING, "dropout": DROPOUT,
                     "dropout_seed": DROPOUT_SEED, "dropout_step": DROPOUT_STEP,
                     "aux_weight": AUX_WEIGHT})


def write_variant(out_dir, name, cfg, seed):
    m = t5_ref.T5Ref(cfg, dtype=torch.float64)
    m.init_random(seed, ln_random=True, rel_std=0.7)
    for p in m.params.values():
        p.copy_(p.to(torch.float32).to(torch.float64))
    g = torch.Generator().manual_seed(seed)
    src, mask, dec_in, labels = make_batch(g)
    d = os.path.join(out_dir, "train-" + name)
    t5_ref.save_folder(m, d)

    m.requires_grad_(True)
    write_options(d, m, src, mask, dec_in, labels, seed)
    loss = batch_loss(m, src, mask, dec_in, labels)
    loss.backward()
    out = {}
    for n, p in m.params.items():
        out["grad." + n] = p.grad.detach().to(torch.float32)
        p.grad = None

    # Ten AdamW updates on the same batch.
    decay = [p for n, p in m.params.items() if not n.endswith("layer_norm.weight")]
    nodecay = [p for n, p in m.params.items() if n.endswith("layer_norm.weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": ADAM[8]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=ADAM[0], betas=(ADAM[5], ADAM[6]), eps=ADAM[7])
    losses, norms = [], []
    for step in range(10):
        opt.zero_grad()
        l = batch_loss(m, src, mask, dec_in, labels)
        l.backward()
        norm = torch.nn.utils.clip_grad_norm_(list(m.params.values()), CLIP)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        opt.step()
        losses.append(float(l))
        norms.append(float(norm))

    i32 = lambda x: np.asarray(x, dtype=np.int32)  # noqa: E731
    f64 = lambda x: np.asarray(x, dtype=np.float32)  # noqa: E731
    out.update({
        "src": i32(src.numpy()), "src_len": i32(SRC_LENS),
        "dec_in": i32(dec_in.numpy()), "labels": i32(labels.numpy()),
        "tgt_len": i32(TGT_LENS), "loss": f64([float(loss)]),
        "adam_loss": f64(losses), "adam_norm": f64(norms),
        "adam_cfg": f64(ADAM), "adam_clip": f64([CLIP]),
    })
    t5_ref.st_write(os.path.join(d, "expected.safetensors"), out,
                    {"generator": "tests/reference/make_train_fixtures.py", "seed": seed})
    print("train-%s: loss %.6f, AdamW losses %s, norms %s" % (
        name, float(loss), " ".join("%.4f" % x for x in losses),
        " ".join("%.2f" % x for x in norms)))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for i, (name, cfg) in enumerate(VARIANTS):
        write_variant(out_dir, name, cfg, 100 + i)


if __name__ == "__main__":
    main()
