"""bench_train.py - the training step of `attnscope bench train` in PyTorch,
for comparison: the same T5 (tests/reference/t5_ref.py, float32), the same
batch shape of random tokens, AdamW with gradient clipping, the same number
of threads.

    /usr/bin/python3 tests/reference/bench_train.py --threads 2 [--d-model 128 ...]

Prints the median step time and ends with 'tokens/s N' (target tokens per
second, as the C side counts them). OpenBLAS's core type is whatever
OPENBLAS_CORETYPE says (the same for both sides in bench/run.sh).
"""

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--d-ff", type=int, default=512)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-kv", type=int, default=32)
    ap.add_argument("--ff", default="relu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--src-len", type=int, default=24)
    ap.add_argument("--tgt-len", type=int, default=96)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = dict(vocab_size=384, d_model=a.d_model, d_ff=a.d_ff, num_layers=a.layers,
               num_decoder_layers=a.layers, num_heads=a.heads, d_kv=a.d_kv,
               feed_forward_proj=a.ff, tie_word_embeddings=True)
    m = t5_ref.T5Ref(cfg, dtype=torch.float32).init_random(1, ln_random=False)
    m.requires_grad_(True)
    params = list(m.params.values())
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    src = torch.randint(3, 259, (a.batch, a.src_len))
    labels = torch.randint(3, 259, (a.batch, a.tgt_len))
    src[:, -1] = 1
    labels[:, -1] = 1
    dec_in = t5_ref.shift_right(labels, 0)

    def step():
        opt.zero_grad(set_to_none=True)
        logits, _ = m.forward(src, dec_in)
        loss = t5_ref.loss(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return float(loss)

    for _ in range(a.warmup):
        step()
    times = []
    cpu0 = time.process_time()
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu0) / a.steps
    times.sort()
    med = times[len(times) // 2]
    # Debian's torch calls OpenBLAS (pthreads) for its matrix products; OpenBLAS
    # runs its own threads beside torch's, as many as OPENBLAS_NUM_THREADS says
    # (all cores when unset), so both counts are printed.
    print("pytorch %s, %d torch threads, OPENBLAS_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s" % (
        torch.__version__, torch.get_num_threads(),
        os.environ.get("OPENBLAS_NUM_THREADS", "(unset: all cores)"),
        os.environ.get("OPENBLAS_CORETYPE", "(native)")))
    print("step: median %.2f ms (min %.2f, max %.2f) over %d steps, loss %.4f" % (
        med * 1e3, times[0] * 1e3, times[-1] * 1e3, a.steps, loss))
    print("cpu time: %.2f ms per step over all threads (%.0f target tokens per CPU-second)"
          % (cpu * 1e3, a.batch * a.tgt_len / cpu))
    print("tokens/s %.0f" % (a.batch * a.tgt_len / med))


if __name__ == "__main__":
    main()
