/* cmd_inspect.c - `attnscope inspect`: load a model folder and print its
 * configuration, its files and how many parameters each group of tensors
 * holds (optionally every tensor).
 *
 * Deliberately not here: running the model (dump, solve) or changing it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "safetensors.h"
#include "t5.h"
#include "tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: attnscope inspect [--model DIR] [--tensors]\n\n"
               "Load a Hugging Face T5 model folder (config.json + model.safetensors) and print\n"
               "its configuration and parameter counts. A broken model gets a message and exit 1.\n\n"
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
