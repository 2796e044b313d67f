"""make_big_model.py - a random T5 of ByT5-small's shape for `make bench`.

    /usr/bin/python3 tests/reference/make_big_model.py DIR

Writes DIR/config.json and DIR/model.safetensors (F32, HF names, about
1.2 GB): vocab 384, d_model 1472, 12 encoder + 4 decoder layers, 6 heads of
64, d_ff 3584, gated-gelu, untied lm_head (about 300 M parameters), with the
reference's HF-like random initialisation. Not committed: bench/run.sh makes
it in a temporary folder and deletes it afterwards.
"""

import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_ref  # noqa: E402

BYT5_SMALL = dict(vocab_size=384, d_model=1472, d_kv=64, d_ff=3584, num_heads=6,
                  num_layers=12, num_decoder_layers=4,
                  relative_attention_num_buckets=32, relative_attention_max_distance=128,
                  layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu",
                  tie_word_embeddings=False)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: make_big_model.py DIR")
    t0 = time.time()
    torch.set_num_threads(2)
    m = t5_ref.T5Ref(BYT5_SMALL, dtype=torch.float32)
    m.init_random(1, ln_random=False)
    t5_ref.save_folder(m, sys.argv[1])
    n = sum(p.numel() for p in m.params.values())
    print("random ByT5-small-shaped model: %.1f M parameters, %.2f GB F32, written in %.1f s"
          % (n / 1e6, n * 4 / 1e9, time.time() - t0))


if __name__ == "__main__":
    main()
