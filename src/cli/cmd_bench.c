/* cmd_bench.c - `attnscope bench decode|train`: speed measurements, medians
 * of repeated runs. `decode` times greedy decoding on a random model (or a
 * model folder, --model: then also its load time and the memory used) with
 * the attention trace captured and with no hook; `train`'s options are
 * parsed here and the timing is train_bench's (src/train/bench.c).
 *
 * Deliberately not here: pass/fail thresholds (this is not a test). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "t5.h"
#include "trace.h"
#include "train.h"
#include "util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope bench decode [OPTIONS]\n"
            "       attnscope bench train [OPTIONS]   (see 'attnscope bench train --help')\n\n"
            "decode: time greedy decoding on a random model (no eos, so every run decodes\n"
            "exactly --tokens tokens), once with the attention trace captured and once\n"
            "with no hook; prints the median of --repeat runs.\n\n"
            "  --d-model N    model width (128)        --d-ff N      feed-forward width (512)\n"
            "  --layers N     encoder and decoder layers (3)\n"
            "  --heads N      attention heads (4)      --d-kv N      head width (32)\n"
            "  --gated        gated-gelu feed-forward (default relu)\n"
            "  --src-len N    source tokens (24)       --tokens N    output tokens (100)\n"
            "  --repeat N     runs per measurement (20)\n"
            "  --seed N       initialisation seed (1)\n"
            "  --threads N    threads for the one-row products of decoding (1)\n"
            "  --model DIR    a model folder instead of the random model (the size options\n"
            "                 are then ignored): also prints its load time (t5_load_mapped)\n"
            "                 and the peak resident memory\n"
            "  -h, --help     this text\n");
}

/* CPU seconds used by the calling thread. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A "Key:   N kB" line of /proc/self/status in MB, or -1. */
static double proc_status_mb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    double mb = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            mb = atof(line + n + 1) / 1024.0;
            break;
        }
    fclose(f);
    return mb;
}

static void print_memory(const char *when)
{
    printf("  memory %-12s peak RSS %.0f MB (now: %.0f MB file-backed, i.e. the mapped "
           "weights; %.0f MB anonymous)\n",
           when, proc_status_mb("VmHWM"), proc_status_mb("RssFile"), proc_status_mb("RssAnon"));
}

/* The model-shape options of both benchmarks, with the same letters, and
 * where each stores its value (NULL: c is another option). */
#define SHAPE_OPTIONS                                                                  \
    {"d-model", required_argument, 0, 'm'}, {"d-ff", required_argument, 0, 'f'},       \
        {"layers", required_argument, 0, 'l'}, {"heads", required_argument, 0, 'H'},   \
        {"d-kv", required_argument, 0, 'k'}

static size_t *shape_field(int c, t5_config *cfg, size_t *layers)
{
    switch (c) {
    case 'm': return &cfg->d_model;
    case 'f': return &cfg->d_ff;
    case 'l': return layers;
    case 'H': return &cfg->num_heads;
    case 'k': return &cfg->d_kv;
    default: return NULL;
    }
}

/* What `bench decode` measures: the random model's shape (or a model
 * folder) and the decoding. */
typedef struct {
    t5_config cfg;
    size_t layers, tokens, src_len, repeat, seed, threads;
    const char *model_dir; /* NULL: the random model */
} decode_bench;

/* The options into *o. Returns -1 to go on, else the exit status (help or
 * a usage error, already printed). */
static int decode_options(int argc, char **argv, decode_bench *o)
{
    static const struct option opts[] = {
        SHAPE_OPTIONS,                          {"tokens", required_argument, 0, 't'},
        {"src-len", required_argument, 0, 's'}, {"repeat", required_argument, 0, 'r'},
        {"seed", required_argument, 0, 'S'},    {"gated", no_argument, 0, 'g'},
        {"threads", required_argument, 0, 'T'}, {"model", required_argument, 0, 'M'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    *o = (decode_bench){.layers = 3, .tokens = 100, .src_len = 24, .repeat = 20, .seed = 1,
                        .threads = 1};
    t5_config_default(&o->cfg);
    o->cfg.d_model = 128, o->cfg.d_ff = 512, o->cfg.num_heads = 4, o->cfg.d_kv = 32;
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        size_t *dst = shape_field(c, &o->cfg, &o->layers);
        switch (dst ? 0 : c) {
        case 0: break;
        case 't': dst = &o->tokens; break;
        case 's': dst = &o->src_len; break;
        case 'r': dst = &o->repeat; break;
        case 'S': dst = &o->seed; break;
        case 'T': dst = &o->threads; break;
        case 'g': o->cfg.ff = T5_FF_GATED_GELU; break;
        case 'M':
            if (cli_parse_path("bench", "--model", optarg, &o->model_dir)) return EXIT_USAGE;
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
        char name[32];
        snprintf(name, sizeof name, "--%s", opts[li].name);
        if (dst && cli_parse_size("bench", name, optarg, dst)) return EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("bench", "decode: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (o->tokens == 0 || o->src_len == 0 || o->repeat == 0 || o->threads == 0 ||
        o->threads > 256) {
        cli_error("bench", "decode: --tokens, --src-len, --repeat and --threads (at most 256) "
                  "must be positive");
        return EXIT_USAGE;
    }
    o->cfg.num_layers = o->cfg.num_decoder_layers = o->layers;
    return -1;
}

/* The model folder (timed, with its memory) or the random model of o's
 * shape into *m; o->cfg becomes the model's. Returns -1 to go on, else the
 * exit status (the error printed). */
static int decode_model(decode_bench *o, t5_model *m)
{
    as_err err;
    if (o->model_dir) {
        double t0 = util_now();
        if (t5_load_mapped(m, o->model_dir, &err)) {
            cli_error("bench", "decode: %s", err.msg);
            return EXIT_FAIL;
        }
        printf("load: %s, %.1f M parameters (%.0f MB as F32), %s, in %.3f s\n", o->model_dir,
               (double)m->n_params / 1e6, (double)m->n_params * 4 / 1e6,
               m->n_maps ? "memory-mapped (no copy)" : "converted into memory", util_now() - t0);
        print_memory("after load");
        o->cfg = m->cfg;
    } else if (t5_alloc(m, &o->cfg, &err)) {
        cli_error("bench", "decode: %s", err.msg);
        return EXIT_USAGE;
    } else {
        t5_init_random(m, o->seed);
    }
    /* No end-of-sequence token, so greedy always decodes `tokens` steps. */
    m->cfg.eos_token_id = -1;
    return -1;
}

/* Seconds of each measured run (o->repeat of each): wall and CPU time of
 * the calling thread, greedy with no hook and with the trace captured. */
typedef struct {
    double *plain, *traced, *plain_cpu, *traced_cpu;
} decode_times;

/* Decode o->repeat + 1 times each way (the first round warms caches and
 * thread pools and is not kept). Returns EXIT_OK, or EXIT_FAIL with the
 * error printed. */
static int decode_measure(const decode_bench *o, t5_model *m, decode_times *tm)
{
    size_t src_len = o->src_len, tokens = o->tokens;
    int *src = xmalloc(src_len * sizeof *src), *out = xmalloc(tokens * sizeof *out);
    as_rng g;
    rng_seed(&g, o->seed + 1);
    int top = o->cfg.vocab_size > 259 ? 258 : (int)o->cfg.vocab_size - 1;
    for (size_t i = 0; i < src_len; i++) src[i] = top > 3 ? (int)rng_range(&g, 3, top) : 0;
    t5_run *r = t5_run_new(m, src_len, tokens);
    t5_run_set_threads(r, (int)o->threads);
    attn_trace *tr = trace_new(m, src_len, tokens + 1);
    as_err err;
    int rc = EXIT_OK;
    /* Interleave the two measurements so drift (turbo, other load) hits both. */
    for (size_t i = 0; i <= o->repeat && rc == EXIT_OK; i++) {
        double c0 = thread_cpu(), t0 = util_now();
        long n1 = t5_greedy(r, src, src_len, out, tokens, &err);
        double c1 = thread_cpu(), t1 = util_now();
        long n2 = n1 < 0 ? -1 : trace_run(tr, r, src, src_len, NULL, 0, tokens, &err);
        double c2 = thread_cpu(), t2 = util_now();
        if (n1 != (long)tokens || n2 != (long)tokens) {
            cli_error("bench", "decode: %s", n1 < 0 || n2 < 0 ? err.msg : "short decode");
            rc = EXIT_FAIL;
        } else if (i > 0) {
            tm->plain[i - 1] = t1 - t0;
            tm->traced[i - 1] = t2 - t1;
            tm->plain_cpu[i - 1] = c1 - c0;
            tm->traced_cpu[i - 1] = c2 - c1;
        }
    }
    free(src), free(out);
    trace_free(tr);
    t5_run_free(r);
    return rc;
}

/* The shape, then the medians of tm (sorted by median(), so the fastest
 * run is element 0 afterwards). */
static void decode_report(const decode_bench *o, decode_times *tm)
{
    const t5_config *cfg = &o->cfg;
    size_t repeat = o->repeat, tokens = o->tokens;
    double mp = median(tm->plain, repeat) * 1e3, mt = median(tm->traced, repeat) * 1e3;
    printf("decode: d_model %zu, d_ff %zu, %zu+%zu layers, %zu heads of %zu, %s; "
           "%zu source tokens, %zu output tokens, %zu decode thread%s; "
           "median of %zu runs\n",
           cfg->d_model, cfg->d_ff, cfg->num_layers, cfg->num_decoder_layers, cfg->num_heads,
           cfg->d_kv,
           cfg->ff == T5_FF_RELU ? "relu" : "gated-gelu", o->src_len, tokens, o->threads,
           o->threads == 1 ? "" : "s", repeat);
    printf("  columns: median wall time (per token), fastest run, median CPU time of the\n"
           "  calling thread (less sensitive to other load on the machine)\n");
    printf("  greedy, no hook          %8.3f ms  (%6.1f us/token)  fastest %.3f ms  "
           "cpu %.3f ms\n", mp,
           mp * 1e3 / (double)tokens, tm->plain[0] * 1e3,
           median(tm->plain_cpu, repeat) * 1e3);
    printf("  greedy, trace captured   %8.3f ms  (%6.1f us/token)  fastest %.3f ms  "
           "cpu %.3f ms\n", mt,
           mt * 1e3 / (double)tokens, tm->traced[0] * 1e3,
           median(tm->traced_cpu, repeat) * 1e3);
    if (o->model_dir) print_memory("at the end");
}

static int bench_decode(int argc, char **argv)
{
    decode_bench o;
    t5_model m;
    int rc = decode_options(argc, argv, &o);
    if (rc >= 0 || (rc = decode_model(&o, &m)) >= 0) return rc;
    size_t n = o.repeat;
    decode_times tm = {xmalloc(n * sizeof(double)), xmalloc(n * sizeof(double)),
                       xmalloc(n * sizeof(double)), xmalloc(n * sizeof(double))};
    rc = decode_measure(&o, &m, &tm);
    if (rc == EXIT_OK) decode_report(&o, &tm);
    free(tm.plain), free(tm.traced), free(tm.plain_cpu), free(tm.traced_cpu);
    t5_free(&m);
    return rc;
}

static void bench_train_usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope bench train [OPTIONS]\n\n"
            "Time full AdamW training steps of a T5 of the given shape on random tokens.\n\n"
            "  --d-model N   (128)     --d-ff N     (512)    --layers N  (3, each stack)\n"
            "  --heads N     (4)       --d-kv N     (32)     --ff relu|gated-gelu (relu)\n"
            "  --batch N     (32)      --src-len N  (24)     --tgt-len N (96)\n"
            "  --threads N   (2)       --steps N    (20)     --warmup N  (3)\n"
            "  --untied      untied output layer\n"
            "  --real-steps N  also N steps of a real training run of the same shape and\n"
            "                threads (the seed preset, in a temporary folder; default 0: none)\n\n"
            "Prints the median step time, tokens/s and GFLOP/s, the OpenBLAS core type, an\n"
            "sgemm peak measured in the same run and the ceiling it sets on tokens/s, and\n"
            "ends with 'tokens/s N' (target tokens). With --real-steps, the line before it\n"
            "is 'real run: ... target tokens per CPU-second ...' beside this one's.\n");
}

/* `bench train`: the options into a train_bench_opts, then train_bench. */
static int bench_train(int argc, char **argv)
{
    static const struct option opts[] = {
        SHAPE_OPTIONS,                          {"ff", required_argument, 0, 'F'},
        {"batch", required_argument, 0, 'b'},   {"src-len", required_argument, 0, 's'},
        {"tgt-len", required_argument, 0, 't'}, {"threads", required_argument, 0, 'j'},
        {"steps", required_argument, 0, 'n'},   {"warmup", required_argument, 0, 'w'},
        {"untied", no_argument, 0, 'u'},        {"help", no_argument, 0, 'h'},
        {"real-steps", required_argument, 0, 'r'},
        {0, 0, 0, 0}};
    const char *cmd = "bench train";
    train_bench_opts o = {.layers = 3, .batch = 32, .src_len = 24, .tgt_len = 96,
                          .threads = 2, .steps = 20, .warmup = 3};
    t5_config_default(&o.cfg);
    int c, li = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        size_t *dst = shape_field(c, &o.cfg, &o.layers);
        switch (dst ? 0 : c) {
        case 0: break;
        case 'b': dst = &o.batch; break;
        case 's': dst = &o.src_len; break;
        case 't': dst = &o.tgt_len; break;
        case 'j': dst = &o.threads; break;
        case 'n': dst = &o.steps; break;
        case 'w': dst = &o.warmup; break;
        case 'r': dst = &o.real_steps; break;
        case 'u': o.cfg.tie_word_embeddings = 0; continue;
        case 'F':
            if (!strcmp(optarg, "relu")) o.cfg.ff = T5_FF_RELU;
            else if (!strcmp(optarg, "gated-gelu")) o.cfg.ff = T5_FF_GATED_GELU;
            else {
                cli_error(cmd, "--ff must be relu or gated-gelu (got '%s')", optarg);
                return EXIT_USAGE;
            }
            continue;
        case 'h': bench_train_usage(stdout); return EXIT_OK;
        default: bench_train_usage(stderr); return EXIT_USAGE;
        }
        if (cli_parse_size(cmd, opts[li].name, optarg, dst)) return EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    as_err err;
    if (train_bench(&o, &err)) {
        cli_error(cmd, "%s", err.msg);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "decode")) return bench_decode(argc - 1, argv + 1);
    if (!strcmp(argv[1], "train")) return bench_train(argc - 1, argv + 1);
    cli_error("bench", "unknown benchmark '%s' (decode | train)", argv[1]);
    return EXIT_USAGE;
}
