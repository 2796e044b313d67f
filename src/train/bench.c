/* bench.c - `attnscope bench train`: times full training steps (forward,
 * backward, clipping, AdamW) of a T5 of a given shape on random tokens, and
 * sets the number beside an sgemm peak measured in the same run; with
 * real_steps, also a short real training run of the same shape (loop.c's
 * loop on the seed preset), whose tokens per CPU-second stand beside the
 * synthetic steps'.
 *
 * Deliberately not here: data, checkpoints (loop.c), the command line
 * (cli/cmd_bench.c parses it into a train_bench_opts). */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Best GFLOP/s of an n^3 sgemm over reps runs with OpenBLAS on nt threads. */
static double sgemm_peak(int nt, size_t n, int reps)
{
    float *a = xmalloc(n * n * sizeof(float)), *b = xmalloc(n * n * sizeof(float)),
          *c = xmalloc(n * n * sizeof(float));
    for (size_t i = 0; i < n * n; i++) {
        a[i] = (float)((i * 7) % 13) * 0.01f;
        b[i] = (float)((i * 5) % 11) * 0.01f;
    }
    openblas_set_num_threads(nt);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = util_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0f, a,
                    (int)n, b, (int)n, 0.0f, c, (int)n);
        double dt = util_now() - t0;
        if (dt < best) best = dt;
    }
    openblas_set_num_threads(1);
    free(a);
    free(b);
    free(c);
    return 2.0 * (double)n * n * n / best / 1e9;
}

/* Floating-point operations of one training step (forward + backward = 3x
 * the forward's products) on the batch, counting the work as computed
 * (full attention blocks, causal ones included). */
static double step_flops(const t5_config *c, const train_batch *b)
{
    double C = (double)c->d_model, HD = (double)(c->num_heads * c->d_kv),
           F = (double)c->d_ff, V = (double)c->vocab_size, H = (double)c->num_heads,
           dk = (double)c->d_kv;
    double ffm = (c->ff == T5_FF_GATED_GELU ? 3.0 : 2.0) * F * C;
    double NE = (double)b->n_src, ND = (double)b->n_tgt;
    double attn_e = 0, attn_d = 0;
    for (size_t i = 0; i < b->n; i++) {
        double s = (double)b->src_len[i], t = (double)b->tgt_len[i];
        attn_e += H * 2.0 * s * s * dk;
        attn_d += H * 2.0 * (t * t + t * s) * dk;
    }
    double macs = (double)c->num_layers * (NE * (4 * HD * C + ffm) + attn_e) +
                  (double)c->num_decoder_layers *
                      (ND * (6 * HD * C + ffm) + NE * 2 * HD * C + attn_d) +
                  ND * V * C;
    return 3.0 * 2.0 * macs;
}

/* A real training run (train_run, quiet) of shape c for steps steps on the
 * seed preset in a temporary folder, removed afterwards; its speed into sp. */
static int real_run(const t5_config *c, size_t B, size_t threads, size_t steps, train_speed *sp,
                    as_err *err)
{
    char dir[] = "/tmp/attnscope-bench-XXXXXX";
    if (!mkdtemp(dir)) return as_errf(err, "cannot make a temporary folder in /tmp");
    train_settings s;
    memset(&s, 0, sizeof s);
    s.model = *c;
    s.init_seed = 1;
    snprintf(s.preset, sizeof s.preset, "seed");
    s.data_n = B * steps + 200 > 2000 ? B * steps + 200 : 2000;
    s.data_seed = 1;
    s.test_share = 0.1;
    s.opt = (adamw_cfg){0.9, 0.999, 1e-8, 0.01, 1.0, 0.0};
    s.sched = (lr_schedule){1e-3, 0.0, 10, 0, SCHED_COSINE};
    s.batch = B;
    s.steps = steps;
    s.threads = (int)threads;
    s.seed = 1;
    s.log_every = steps;
    s.out_dir = dir;
    train_options o = {.progress = 0, .quiet = 1, .speed = sp};
    int rc = train_run(&s, &o, err);
    static const char *files[] = {"config.json", "model.safetensors", "optimizer.safetensors",
                                  "trainer_state.json", "log.tsv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return rc;
}

int train_bench(const train_bench_opts *o, as_err *err)
{
    t5_config c = o->cfg;
    size_t B = o->batch, S = o->src_len, T = o->tgt_len, threads = o->threads,
           steps = o->steps, warm = o->warmup, layers = o->layers;
    if (!B || !S || !T || !threads || !steps || threads > 256)
        return as_errf(err, "--batch, --src-len, --tgt-len, --threads (at most 256) and --steps "
                            "must be positive");
    c.num_layers = c.num_decoder_layers = layers;
    t5_model m;
    if (t5_alloc(&m, &c, err)) return -1;
    t5_init_random(&m, 1);
    omp_set_num_threads((int)threads);

    train_batch b;
    train_batch_init(&b, B, B * S, B * T);
    as_rng rng;
    rng_seed(&rng, 42);
    int *src = xmalloc(S * sizeof(int)), *tgt = xmalloc(T * sizeof(int));
    for (size_t i = 0; i < B; i++) {
        for (size_t j = 0; j < S; j++) src[j] = (int)rng_range(&rng, 3, 258);
        for (size_t j = 0; j < T; j++) tgt[j] = (int)rng_range(&rng, 3, 258);
        src[S - 1] = tgt[T - 1] = 1;
        train_batch_add(&b, src, S, tgt, T, 0);
    }
    free(src);
    free(tgt);

    t5_trainer *tr = trainer_new(&m, B, S, T);
    adamw_state st;
    adamw_init(&st, &m);
    adamw_cfg oc = {0.9, 0.999, 1e-8, 0.01, 1.0, 0.0};
    double *times = xmalloc(steps * sizeof(double)), loss = 0, cpu0 = 0;
    for (size_t i = 0; i < warm + steps; i++) {
        if (i == warm) cpu0 = train_cpu_seconds();
        double t0 = util_now();
        loss = train_forward(tr, &b);
        train_zero_grad(tr);
        train_backward(tr, &b);
        grad_clip(train_grads(tr), m.n_params, oc.clip);
        adamw_update(&st, &m, train_grads(tr), 1e-3, &oc);
        if (i >= warm) times[i - warm] = util_now() - t0;
    }
    double cpu = (train_cpu_seconds() - cpu0) / (double)steps;
    qsort(times, steps, sizeof *times, cmp_double);
    double med = times[steps / 2];
    double flops = step_flops(&c, &b);
    double peak = sgemm_peak((int)threads, 1024, 5);
    double tok = (double)b.n_tgt / med;
    printf("model: d_model %zu, d_ff %zu, %zu+%zu layers, %zu heads of %zu, %s, %s, %zu params\n",
           c.d_model, c.d_ff, layers, layers, c.num_heads, c.d_kv,
           c.ff == T5_FF_RELU ? "relu" : "gated-gelu", c.tie_word_embeddings ? "tied" : "untied",
           m.n_params);
    printf("batch %zu x (source %zu, target %zu), %zu threads (OpenMP; OpenBLAS 1 per thread)\n",
           B, S, T, threads);
    printf("openblas core: %s\n", openblas_get_corename());
    printf("step: median %.2f ms (min %.2f, max %.2f) over %zu steps, loss %.4f\n", med * 1e3,
           times[0] * 1e3, times[steps - 1] * 1e3, steps, loss);
    printf("training: %.1f GFLOP/step, %.1f GFLOP/s\n", flops / 1e9, flops / med / 1e9);
    printf("cpu time: %.2f ms per step over all threads (%.0f target tokens per CPU-second; "
           "steadier than wall time when other programs share the cores)\n",
           cpu * 1e3, (double)b.n_tgt / cpu);
    printf("sgemm peak (1024^3, %zu threads): %.1f GFLOP/s; training at %.0f %% of it\n", threads,
           peak, 100.0 * flops / med / 1e9 / peak);
    /* What no implementation of this step can pass on this machine: every
     * FLOP at the speed of one big sgemm. */
    printf("ceiling: %.0f target tokens/s if every FLOP of the step ran at that peak "
           "(%.2f MFLOP per target token)\n", (double)b.n_tgt * peak * 1e9 / flops,
           flops / (double)b.n_tgt / 1e6);
    int rc = 0;
    if (o->real_steps) {
        train_speed sp;
        rc = real_run(&c, B, threads, o->real_steps, &sp, err);
        if (rc) {
            as_errprefix(err, "the real run");
        } else {
            double cps = (double)b.n_tgt / cpu, rcps = train_speed_tpcs(&sp, 0);
            printf("real run: %.0f target tokens per CPU-second (%.0f tokens/s, cores %.0f %%, "
                   "steal %.1f %%) over %zu steps of 'train' on the seed preset, batch %zu, "
                   "%.1f target tokens a sequence; these steps: %.0f per CPU-second; real / "
                   "these %.2f\n",
                   rcps, train_speed_tps(&sp, 0), 100 * train_speed_share(&sp, 0),
                   100 * train_speed_steal(&sp, 0), sp.steps, B,
                   sp.steps ? (double)sp.tokens / (double)(sp.steps * B) : 0.0, cps,
                   cps > 0 ? rcps / cps : 0);
        }
    }
    if (!rc) printf("tokens/s %.0f\n", tok);
    free(times);
    adamw_free(&st);
    trainer_free(tr);
    train_batch_free(&b);
    t5_free(&m);
    return rc;
}
