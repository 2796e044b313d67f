/* cmd_inspect.c - `attnscope inspect`: load a model folder and print its
 * configuration, its files, how many parameters each group of tensors holds
 * (optionally every tensor) and, for a model attnscope trained, how it was
 * trained and how it scores (metrics.json, or a run's trainer_state.json).
 *
 * Deliberately not here: running the model (dump, solve) or changing it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "cli.h"
#include "model_kind.h"
#include "safetensors.h"
#include "t5.h"
#include "tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: attnscope inspect [--model DIR] [--tensors]\n\n"
               "Load a Hugging Face T5 model folder (config.json + model.safetensors) and print\n"
               "its configuration and parameter counts; for a model attnscope trained, also its\n"
               "data, steps and scores (metrics.json, or a training run's trainer_state.json).\n"
               "A broken model gets a message and exit 1.\n\n"
               "  -m, --model DIR   the model folder (default: the bundled model)\n"
               "  -t, --tensors     also list every tensor with its shape\n"
               "  -h, --help        this help\n");
}

/* 1234567 -> "1,234,567" into buf. */
static const char *thousands(size_t n, char *buf, size_t len)
{
    char tmp[32];
    int k = snprintf(tmp, sizeof tmp, "%zu", n);
    size_t o = 0;
    for (int i = 0; i < k && o + 2 < len; i++) {
        if (i && (k - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

enum { G_EMB, G_ENC_SELF, G_ENC_FF, G_ENC_LN, G_ENC_POS, G_DEC_SELF, G_DEC_CROSS, G_DEC_FF,
       G_DEC_LN, G_DEC_POS, G_HEAD, N_GROUPS };

static const char *group_names[N_GROUPS] = {
    "embeddings (shared.weight)", "encoder self-attention", "encoder feed-forward",
    "encoder layer norms", "encoder position bias", "decoder self-attention",
    "decoder cross-attention", "decoder feed-forward", "decoder layer norms",
    "decoder position bias", "lm_head (untied)",
};

static int group_of(const char *name)
{
    if (!strcmp(name, "shared.weight")) return G_EMB;
    if (!strcmp(name, "lm_head.weight")) return G_HEAD;
    int dec = strncmp(name, "decoder.", 8) == 0;
    if (strstr(name, "relative_attention_bias")) return dec ? G_DEC_POS : G_ENC_POS;
    if (strstr(name, "layer_norm")) return dec ? G_DEC_LN : G_ENC_LN;
    if (strstr(name, "EncDecAttention")) return G_DEC_CROSS;
    if (strstr(name, "SelfAttention")) return dec ? G_DEC_SELF : G_ENC_SELF;
    return dec ? G_DEC_FF : G_ENC_FF;
}

static const char *dtype_str(st_dtype d)
{
    switch (d) {
    case ST_F32: return "F32";
    case ST_F16: return "F16";
    case ST_BF16: return "BF16";
    case ST_I32: return "I32";
    case ST_I64: return "I64";
    }
    return "?";
}

static void print_files(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    st_file f;
    as_err err = {0};
    if (st_open(&f, path, &err)) return; /* t5_load just read it; nothing to add */
    size_t count[ST_I64 + 1] = {0};
    for (size_t i = 0; i < f.n_tensors; i++) count[f.tensors[i].dtype]++;
    printf("  %-34s %.2f MB, %zu tensors (", "model.safetensors", (double)f.map_len / 1e6,
           f.n_tensors);
    int first = 1;
    for (int d = 0; d <= ST_I64; d++)
        if (count[d]) {
            printf("%s%s %zu", first ? "" : ", ", dtype_str((st_dtype)d), count[d]);
            first = 0;
        }
    printf(")\n");
    st_close(&f);
}

static void print_config(const t5_config *c)
{
    char eps[32];
    snprintf(eps, sizeof eps, "%g", (double)c->layer_norm_eps);
    printf("configuration\n");
    printf("  %-34s %zu\n", "vocab_size", c->vocab_size);
    printf("  %-34s %zu\n", "d_model", c->d_model);
    printf("  %-34s %zu\n", "d_kv", c->d_kv);
    printf("  %-34s %zu\n", "num_heads", c->num_heads);
    printf("  %-34s %zu\n", "d_ff", c->d_ff);
    printf("  %-34s %zu\n", "num_layers", c->num_layers);
    printf("  %-34s %zu\n", "num_decoder_layers", c->num_decoder_layers);
    printf("  %-34s %zu\n", "relative_attention_num_buckets", c->rel_buckets);
    printf("  %-34s %zu\n", "relative_attention_max_distance", c->rel_max_distance);
    printf("  %-34s %s\n", "layer_norm_epsilon", eps);
    printf("  %-34s %s\n", "feed_forward_proj", c->ff == T5_FF_RELU ? "relu" : "gated-gelu");
    printf("  %-34s %s\n", "tie_word_embeddings", c->tie_word_embeddings ? "true" : "false");
    printf("  %-34s %d\n", "pad_token_id", c->pad_token_id);
    printf("  %-34s %d\n", "eos_token_id", c->eos_token_id);
    printf("  %-34s %d\n", "decoder_start_token_id", c->decoder_start_token_id);
}

/* Member a (or a.b) of j as a number (def when missing), as a string
 * (NULL when missing). */
static double num_at(const cJSON *j, const char *a, const char *b, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static const char *str_at(const cJSON *j, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Full solve, characters and answers of one score object (eval's JSON). */
static void print_scores(const char *label, const cJSON *sc, const char *what)
{
    char n[32];
    printf("  %-34s %.1f %% full solve, %.1f %% characters, %.1f %% answers (%s %s)\n", label,
           100 * num_at(sc, "full_solve", NULL, 0), 100 * num_at(sc, "char_accuracy", NULL, 0),
           100 * num_at(sc, "answer_accuracy", NULL, 0),
           thousands((size_t)num_at(sc, "n", NULL, 0), n, sizeof n), what);
}

/* The data a model was trained on: "data" of metrics.json or
 * trainer_state.json (both write it alike). */
static void print_data(const cJSON *d)
{
    char num[32];
    const char *preset = str_at(d, "preset", NULL);
    if (!preset) return;
    printf("  %-34s preset %s, %s examples, seed %.0f, %.0f %% held out%s\n", "data", preset,
           thousands((size_t)num_at(d, "n", NULL, 0), num, sizeof num), num_at(d, "seed", NULL, 0),
           100 * num_at(d, "test_share", NULL, 0),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "stream"))
               ? ", fresh equations every step"
               : "");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(d, "stream_range");
    if (!w) return;
    static const char *const keys[4] = {"a", "roots", "b", "c"};
    static const char *const what[4] = {"a", ", roots", ", no-root b", ", c"};
    printf("  %-34s ", "stream range");
    for (int k = 0; k < 4; k++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(w, keys[k]);
        const cJSON *lo = cJSON_GetArrayItem(r, 0), *hi = cJSON_GetArrayItem(r, 1);
        if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi))
            printf("%s %.0f..%.0f", what[k], lo->valuedouble, hi->valuedouble);
    }
    printf("\n");
}

/* Steps, loss and time: t is metrics.json's "training" (run 0) or the
 * whole trainer_state.json (run 1), which name them differently. */
static void print_steps(const cJSON *j, const cJSON *t, int run)
{
    char num[32], num2[32];
    double steps = num_at(t, run ? "step" : "steps", NULL, -1);
    if (steps >= 0) {
        printf("  %-34s %s of %s, batch %.0f", "steps", thousands((size_t)steps, num, sizeof num),
               thousands((size_t)num_at(t, "total_steps", NULL, 0), num2, sizeof num2),
               num_at(t, "batch", NULL, 0));
        const char *from = run ? str_at(j, "init_from", "folder") : str_at(t, "init_from", NULL);
        double before = run ? num_at(j, "init_from", "steps_before", 0)
                            : num_at(t, "steps_before", NULL, 0);
        if (from)
            printf(", after %s steps of %s", thousands((size_t)before, num, sizeof num), from);
        printf("\n");
    }
    double loss = num_at(t, run ? "loss" : "final_loss", NULL, -1);
    if (loss >= 0) printf("  %-34s %.4f\n", run ? "loss" : "final loss", loss);
    double secs = num_at(t, run ? "elapsed_seconds" : "wall_seconds", NULL, -1);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "machine");
    double tps = run ? num_at(m, "tokens_per_second", NULL, -1)
                     : num_at(m, "run", "tokens_per_second", -1);
    double threads = num_at(t, "threads", NULL, 1);
    if (secs >= 0)
        printf("  %-34s %.0f min on %.0f thread%s%s%s target tokens/s\n", "time", secs / 60,
               threads, threads == 1 ? "" : "s", tps >= 0 ? ", " : "",
               tps >= 0 ? thousands((size_t)tps, num, sizeof num) : "");
}

/* How the model was trained and how it scores: a bundled model's
 * metrics.json, else a run's trainer_state.json; nothing for a model
 * trained elsewhere. A file that does not parse is said so. */
static void print_training(const char *dir)
{
    const char *file;
    cJSON *j = model_dir_record(dir, &file);
    if (!file) return;
    if (!j) {
        printf("training\n  %-34s does not parse as JSON\n", file);
        return;
    }
    int run = strcmp(file, "trainer_state.json") == 0; /* a run, perhaps unfinished */
    printf("training (%s%s)\n", file, run ? ", a training run" : "");
    print_data(cJSON_GetObjectItemCaseSensitive(j, "data"));
    print_steps(j, run ? j : cJSON_GetObjectItemCaseSensitive(j, "training"), run);
    if (run) {
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "eval");
        if (ev) {
            char label[64], num[32];
            snprintf(label, sizeof label, "last evaluation (step %s)",
                     thousands((size_t)num_at(ev, "step", NULL, 0), num, sizeof num));
            print_scores(label, cJSON_GetObjectItemCaseSensitive(ev, "all"), "held-out equations");
        }
    } else {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "test_split");
        if (ts) {
            print_scores("test split", cJSON_GetObjectItemCaseSensitive(ts, "overall"), "equations");
            const cJSON *pk = cJSON_GetObjectItemCaseSensitive(ts, "per_kind");
            printf("  %-34s %.1f / %.1f / %.1f %% full solve\n", "  two roots / one root / no root",
                   100 * num_at(pk, "two_roots", "full_solve", 0),
                   100 * num_at(pk, "one_root", "full_solve", 0),
                   100 * num_at(pk, "no_root", "full_solve", 0));
        }
    }
    cJSON_Delete(j);
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"tensors", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int list = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:th", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (cli_parse_path("inspect", "--model", optarg, &dir)) return EXIT_USAGE;
            break;
        case 't': list = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default:
            if (optopt && strchr("m", optopt))
                cli_error("inspect", "option %s needs a value", argv[optind - 1]);
            else if (optopt)
                cli_error("inspect", "unknown option -%c", optopt);
            else
                cli_error("inspect", "unknown option or missing value: %s", argv[optind - 1]);
            fprintf(stderr, "Try 'attnscope inspect --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("inspect", "unexpected argument '%s'", argv[optind]);
        fprintf(stderr, "Try 'attnscope inspect --help'.\n");
        return EXIT_USAGE;
    }
    dir = cli_model_dir(dir);

    t5_model m;
    as_err err = {0};
    if (t5_load_mapped(&m, dir, &err)) {
        cli_error("inspect", "%s", err.msg);
        return EXIT_FAIL;
    }
    printf("model %s\n", dir);
    printf("files\n");
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (stat(path, &sb) == 0) printf("  %-34s %lld bytes\n", "config.json", (long long)sb.st_size);
    print_files(dir);
    /* How text becomes ids, and where the weights live. */
    tok_vocab *tok = tok_open(dir, &err);
    if (!tok) {
        cli_error("inspect", "%s", err.msg);
        t5_free(&m);
        return EXIT_FAIL;
    }
    if (tok_kind_of(tok) == TOK_SPM)
        printf("  %-34s SentencePiece, %zu pieces + 100 <extra_id_N>%s\n", "spiece.model",
               tok_size(tok) - 100,
               tok_size(tok) > m.cfg.vocab_size ? " (more ids than vocab_size!)" : "");
    else
        printf("  %-34s ByT5 bytes (no spiece.model)\n", "tokenizer");
    tok_free(tok);
    printf("  %-34s %s\n", "weights",
           m.n_maps ? "memory-mapped from the safetensors file (F32, no copy)"
                 : "converted to F32 in memory");
    print_config(&m.cfg);

    size_t groups[N_GROUPS] = {0};
    for (size_t i = 0; i < m.n_tensors; i++) groups[group_of(m.tensors[i].name)] += m.tensors[i].numel;
    char num[32];
    printf("parameters\n");
    for (int g = 0; g < N_GROUPS; g++) {
        if (g == G_HEAD && m.cfg.tie_word_embeddings) continue;
        printf("  %-34s %14s\n", group_names[g], thousands(groups[g], num, sizeof num));
    }
    printf("  %-34s %14s  (%zu tensors, %.2f MB as F32)\n", "total",
           thousands(m.n_params, num, sizeof num), m.n_tensors,
           (double)m.n_params * sizeof(float) / 1e6);
    print_training(dir);
    if (list) {
        printf("tensors\n");
        for (size_t i = 0; i < m.n_tensors; i++) {
            const t5_tensor *t = &m.tensors[i];
            char shape[64];
            if (t->ndim == 2)
                snprintf(shape, sizeof shape, "[%zu, %zu]", t->shape[0], t->shape[1]);
            else
                snprintf(shape, sizeof shape, "[%zu]", t->shape[0]);
            printf("  %-72s %-12s %12s\n", t->name, shape, thousands(t->numel, num, sizeof num));
        }
    }
    t5_free(&m);
    return EXIT_OK;
}
