"""make_fixtures.py - write the reference fixtures the C tests compare with.

    /usr/bin/python3 tests/reference/make_fixtures.py tests/fixtures

For each small random model (tests/fixtures/<name>/): config.json and
model.safetensors (F32, HF names) and expected.safetensors holding
    src_ids            I32 (S)         source (random bytes + eos)
    tf_dec_in          I32 (T)         start token + target shifted right
    tf_labels          I32 (T)         target (random bytes + eos)
    tf_loss_labels     I32 (T)         tf_labels with one entry -100 (ignored)
    tf_loss            F32 (1)         mean cross-entropy on tf_loss_labels
    tf_logits          F32 (T, V)
    enc_attn           F32 (Le, H, S, S)
    tf_dec_attn        F32 (Ld, H, T, T)
    tf_cross_attn      F32 (Ld, H, T, S)
    greedy_max_len     I32 (1)
    greedy_ids         I32 (n)         generated tokens (eos included if produced:
                                       untied-gated stops with eos before max_len)
    greedy_logits      F32 (n, V)      logits of each step
    greedy_dec_attn    F32 (Ld, H, n, n)
    greedy_cross_attn  F32 (Ld, H, n, S)
and states.safetensors (the same teacher-forced pass on src_ids/tf_dec_in,
seen through the hidden-state hook; written apart so that expected.safetensors
stays as it was):
    enc_embed          F32 (S, C)          residual stream entering encoder layer 0
    enc_attn_out       F32 (Le, S, C)      self-attention output before its residual add
    enc_mlp_out        F32 (Le, S, C)      feed-forward output before its residual add
    enc_resid          F32 (Le, S, C)      residual stream after each layer
    dec_embed, dec_attn_out, dec_cross_out, dec_mlp_out, dec_resid   the same, (Ld, T, C)
    enc_norm_maps      F32 (Le, H, S, S)   value-weighted maps ||a_ij W_O^h v_j^h||,
    tf_dec_norm_maps   F32 (Ld, H, T, T)   each row divided by its sum
    tf_cross_norm_maps F32 (Ld, H, T, S)
    lens_logits        F32 (Ld, T, V)      logit lens: final layer norm + head on each
                                           decoder layer's residual (the last is tf_logits)
    patch_src          I32 (S)             src_ids with one token changed (the corrupted run)
    corrupt_logits     F32 (T, V)          the corrupted run's logits
    patch_spec         I32 (n, 4)          stack (0 enc, 1 dec), kind (0 embed, 1 attn,
                                           2 cross, 3 mlp, 4 resid), layer, position
    patch_logits       F32 (n, T, V)       the corrupted run with that one row of that state
                                           copied from the clean run
and tests/fixtures/buckets.txt: "rel bidirectional num_buckets max_distance
bucket" lines from the reference bucket function.

tests/fixtures/spm-gated/ is the same for a random T5 whose vocabulary is a
SentencePiece model trained here by Debian's spm_train (unigram, 400 pieces,
T5's ids: pad 0, eos 1, unk 2; vocab_size 512 = pieces + 100 <extra_id_N>
+ padding rows) on tests/reference/spm_corpus.txt: spiece.model beside
config.json, the source and target are SENTENCES tokenised by
python3-sentencepiece, and tokenize.json holds, for each text of
TOKENIZE_TEXTS, the ids (eos appended, as T5Tokenizer), the pieces and the
decoded text (pad/eos/unk skipped, as skip_special_tokens=True).
Needs the Debian packages sentencepiece and python3-sentencepiece.

The reference runs in float64 on the float32-rounded weights, so the C
engine (float32) is compared with an answer more exact than itself. Seeds
are chosen so every greedy step's top-1/top-2 logit gap is at least 1e-3,
so the expected tokens do not hinge on rounding.
"""

import json
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_ref  # noqa: E402

MODELS = [
    # Tied relu (T5 v1.0), small buckets so both the exact and the log
    # buckets and the max-distance clamp are hit by S = 25, T = 14.
    ("tied-relu", dict(vocab_size=384, d_model=32, d_kv=8, d_ff=64, num_heads=4,
                       num_layers=2, num_decoder_layers=3,
                       relative_attention_num_buckets=8, relative_attention_max_distance=20,
                       layer_norm_epsilon=1e-6, feed_forward_proj="relu",
                       tie_word_embeddings=True), 25, 14, 12, False),
    # Untied gated-gelu (v1.1 / ByT5), default 32/128 buckets, d_kv*H != d_model,
    # different encoder/decoder depths; T = 20 reaches the decoder's log buckets.
    # Its lm_head row for eos is scaled so that greedy decoding stops with eos
    # before max_len (the last flag).
    ("untied-gated", dict(vocab_size=384, d_model=24, d_kv=16, d_ff=40, num_heads=3,
                          num_layers=3, num_decoder_layers=2,
                          relative_attention_num_buckets=32, relative_attention_max_distance=128,
                          layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu",
                          tie_word_embeddings=False), 21, 20, 16, True),
]


def random_text_ids(g, n):
    """n-1 random byte tokens (3 .. 258) and eos."""
    ids = torch.randint(3, 259, (n - 1,), generator=g).tolist()
    return ids + [1]


def make_model(cfg, seed):
    m = t5_ref.T5Ref(cfg, dtype=torch.float64)
    m.init_random(seed, ln_random=True, rel_std=0.7)
    for p in m.params.values():  # the weights the C side reads are float32
        p.copy_(p.to(torch.float32).to(torch.float64))
    return m


def stack(maps):
    return torch.stack([x.detach() for x in maps]).to(torch.float32)


def stop_early(m, src, max_len):
    """Scale the eos row of an untied lm_head until greedy decoding ends
    with eos before max_len (so the fixture checks the stop); None if no
    scale does it with a safe margin."""
    row = m.params["lm_head.weight"][m.cfg["eos_token_id"]]
    orig = row.clone()
    for k in range(1, 60):
        row.copy_((orig * (1.0 + 0.05 * k)).to(torch.float32).to(torch.float64))
        gen, gap = m.greedy(src, max_len)
        if gap >= 1e-3 and max_len // 2 <= len(gen) < max_len and gen[-1] == m.cfg["eos_token_id"]:
            return gen, gap
    row.copy_(orig)
    return None


def write_fixture(out_dir, name, cfg, S, T, max_len, want_eos, fixed=None):
    """fixed: (src, labels) token ids to use instead of random bytes."""
    for seed in range(1, 100):
        m = make_model(cfg, seed * 1000 + len(name))
        g = torch.Generator().manual_seed(seed)
        src = random_text_ids(g, S)
        labels = random_text_ids(g, T)
        if fixed is not None:
            src, labels = fixed
        if want_eos:
            found = stop_early(m, src, max_len)
            if found is None:
                continue
            gen, gap = found
        else:
            gen, gap = m.greedy(src, max_len)
        if gap >= 1e-3:
            break
    else:
        raise SystemExit("%s: no seed gives a safe greedy margin" % name)
    start = m.cfg["decoder_start_token_id"]
    dec_in = t5_ref.shift_right(labels, start)
    logits, attn = m.forward(src, dec_in)
    loss_labels = list(labels)
    loss_labels[2] = -100
    loss = t5_ref.loss(logits, loss_labels)
    g_dec_in = [start] + gen[:-1]
    g_logits, g_attn = m.forward(src, g_dec_in)
    assert [int(i) for i in g_logits.argmax(-1)] == gen

    d = os.path.join(out_dir, name)
    t5_ref.save_folder(m, d)
    i32 = lambda x: np.asarray(x, dtype=np.int32)  # noqa: E731
    t5_ref.st_write(os.path.join(d, "expected.safetensors"), {
        "src_ids": i32(src),
        "tf_dec_in": i32(dec_in.tolist()),
        "tf_labels": i32(labels),
        "tf_loss_labels": i32(loss_labels),
        "tf_loss": loss.detach().to(torch.float32).reshape(1),
        "tf_logits": logits.detach().to(torch.float32),
        "enc_attn": stack(attn["enc"]),
        "tf_dec_attn": stack(attn["dec"]),
        "tf_cross_attn": stack(attn["cross"]),
        "greedy_max_len": i32([max_len]),
        "greedy_ids": i32(gen),
        "greedy_logits": g_logits.detach().to(torch.float32),
        "greedy_dec_attn": stack(g_attn["dec"]),
        "greedy_cross_attn": stack(g_attn["cross"]),
    }, {"generator": "tests/reference/make_fixtures.py", "seed": seed})
    write_states(d, m, src, dec_in)
    print("%s: seed %d, S %d, T %d, greedy %d tokens (min gap %.4f), loss %.6f"
          % (name, seed, S, T, len(gen), gap, float(loss)))


STATE_KINDS = ["embed", "attn", "cross", "mlp", "resid"]


def record_states(m, src, dec_in):
    """{(stack, kind, layer): (positions, C)} of a teacher-forced pass."""
    rec = {}

    def fn(stack, kind, layer, x):
        rec[(stack, kind, layer)] = x.detach().clone()
        return x
    m.state_fn = fn
    m.forward(src, dec_in)
    m.state_fn = None
    return rec


def write_states(d, m, src, dec_in):
    c = m.cfg
    Le, Ld = c["num_layers"], c["num_decoder_layers"]
    rec = record_states(m, src, dec_in)
    f32 = lambda x: x.detach().to(torch.float32)  # noqa: E731
    out = {"enc_embed": stack_states([rec[("encoder", "embed", 0)]])[0],
           "dec_embed": stack_states([rec[("decoder", "embed", 0)]])[0]}
    for short, L, kinds in (("enc", Le, ["attn", "mlp", "resid"]),
                            ("dec", Ld, ["attn", "cross", "mlp", "resid"])):
        full = "encoder" if short == "enc" else "decoder"
        for k in kinds:
            name = "%s_%s" % (short, k if k == "resid" else k + "_out")
            out[name] = stack_states([rec[(full, k, i)] for i in range(L)])
    m.norms = {"enc": [], "dec": [], "cross": []}
    m.forward(src, dec_in)
    out["enc_norm_maps"] = stack([x[0] for x in m.norms["enc"]])
    out["tf_dec_norm_maps"] = stack([x[0] for x in m.norms["dec"]])
    out["tf_cross_norm_maps"] = stack([x[0] for x in m.norms["cross"]])
    m.norms = None
    out["lens_logits"] = stack_states([m.output_head(rec[("decoder", "resid", i)])
                                       for i in range(Ld)])
    # Patching: change one source token, then copy one row of one clean state
    # into the corrupted run.
    bad = list(src)
    bad[3] = 3 + (bad[3] - 3 + 17) % (min(c["vocab_size"], 259) - 3)
    assert bad[3] != src[3]
    corrupt, _ = m.forward(bad, dec_in)
    specs = [(0, 0, 0, 3), (0, 4, 0, 3), (0, 1, 1, 3), (0, 3, Le - 1, 3), (0, 4, Le - 1, 2),
             (1, 4, 0, 2), (1, 2, Ld - 1, 4), (1, 1, Ld - 1, 1), (1, 3, Ld - 1, 5)]
    patched = []
    for st, kind, layer, pos in specs:
        key = ("encoder" if st == 0 else "decoder", STATE_KINDS[kind], layer)
        clean = rec[key]

        def fn(stack_, kind_, layer_, x, key=key, clean=clean, pos=pos):
            if (stack_, kind_, layer_) != key:
                return x
            x = x.clone()
            x[..., pos, :] = clean[..., pos, :]
            return x
        m.state_fn = fn
        logits, _ = m.forward(bad, dec_in)
        m.state_fn = None
        patched.append(logits)
    out["patch_src"] = np.asarray(bad, dtype=np.int32)
    out["corrupt_logits"] = f32(corrupt)
    out["patch_spec"] = np.asarray(specs, dtype=np.int32)
    out["patch_logits"] = stack(patched)
    t5_ref.st_write(os.path.join(d, "states.safetensors"), out,
                    {"generator": "tests/reference/make_fixtures.py"})


def stack_states(xs):
    """Rows of single-sequence states: (L, positions, C) float32."""
    return torch.stack([x.reshape(x.shape[-2], x.shape[-1]) for x in xs]).to(torch.float32)


def write_buckets(out_dir):
    settings = [(1, 8, 20), (0, 8, 20), (1, 32, 128), (0, 32, 128), (1, 16, 50), (0, 64, 300)]
    far = [200, 299, 300, 301, 1000, 100000]
    rel = torch.tensor(sorted([-x for x in far] + list(range(-150, 151)) + far))
    with open(os.path.join(out_dir, "buckets.txt"), "w") as f:
        f.write("# rel bidirectional num_buckets max_distance bucket"
                " (tests/reference/t5_ref.py relative_bucket)\n")
        for bi, nb, md in settings:
            b = t5_ref.relative_bucket(rel, bool(bi), nb, md)
            for r, v in zip(rel.tolist(), b.tolist()):
                f.write("%d %d %d %d %d\n" % (r, bi, nb, md, v))


SPM_CFG = dict(vocab_size=512, d_model=32, d_kv=8, d_ff=48, num_heads=4,
               num_layers=2, num_decoder_layers=2,
               relative_attention_num_buckets=32, relative_attention_max_distance=128,
               layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu",
               tie_word_embeddings=False)
SPM_SOURCE = "translate English to German: The house is wonderful, isn't it? 42 rooms."
SPM_TARGET = "Das Haus ist wunderbar."
TOKENIZE_TEXTS = [
    "", "a", "Hello world", "hello   world", "  leading and trailing  ",
    "tabs\tand\nnewlines\r\n", "digits 0123456789 3.14159 2024-11-26",
    "The quick brown fox jumps over the lazy dog.",
    "café naïve Zürich São Paulo", "Ελληνικά русский 日本語 中文 한국어",
    "emoji \U0001F600 and \u2603 unknown", "ﬁ ligature and fullwidth ＡＢＣ１２３",
    "x" * 40, "punctuation: (a), [b]; {c}! \"q\" 'r' -- ... ?",
    "</s> typed as text <pad>", "translate English to German: The house is wonderful.",
]


def train_spm(path):
    """spiece.model from tests/reference/spm_corpus.txt by spm_train. The
    model file records its trainer's arguments, so both paths are given
    relative to the working directory: the same run gives the same bytes."""
    corpus = os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "spm_corpus.txt"))
    prefix = os.path.relpath(os.path.splitext(path)[0])
    subprocess.run(["spm_train", "--input=" + corpus, "--model_prefix=" + prefix,
                    "--vocab_size=400", "--model_type=unigram", "--pad_id=0",
                    "--eos_id=1", "--unk_id=2", "--bos_id=-1",
                    "--character_coverage=1.0", "--num_threads=1",
                    "--minloglevel=2"], check=True)
    os.remove(prefix + ".vocab")


def write_spm_fixture(out_dir):
    import sentencepiece
    d = os.path.join(out_dir, "spm-gated")
    os.makedirs(d, exist_ok=True)
    model_path = os.path.join(d, "spiece.model")
    train_spm(model_path)
    sp = sentencepiece.SentencePieceProcessor(model_file=model_path)
    assert sp.get_piece_size() + 100 <= SPM_CFG["vocab_size"]
    eos = sp.eos_id()
    enc = lambda t: sp.encode(t) + [eos]  # noqa: E731
    src, tgt = enc(SPM_SOURCE), enc(SPM_TARGET)
    write_fixture(out_dir, "spm-gated", SPM_CFG, len(src), len(tgt), 12, False, fixed=(src, tgt))
    cases = []
    for t in TOKENIZE_TEXTS:
        ids = enc(t)
        cases.append({"text": t, "ids": ids,
                      "pieces": [sp.id_to_piece(i) for i in ids],
                      "decoded": sp.decode([i for i in ids if i > 2])})
    with open(os.path.join(d, "tokenize.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tests/reference/make_fixtures.py (python3-sentencepiece %s)"
                   % sentencepiece.__version__, "source": SPM_SOURCE, "target": SPM_TARGET,
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name, cfg, S, T, max_len, want_eos in MODELS:
        write_fixture(out_dir, name, cfg, S, T, max_len, want_eos)
    write_buckets(out_dir)
    write_spm_fixture(out_dir)


if __name__ == "__main__":
    main()
