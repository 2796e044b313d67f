/* cmd_dump.c - `attnscope dump`: run a model once on a text (greedy, or
 * teacher forced on --target) and print JSON with the token ids, the decoded
 * text and every attention map in Hugging Face's layout
 * (encoder_attentions / decoder_attentions / cross_attentions: one entry per
 * layer, [heads][query][key]).
 *
 * The JSON is streamed with fprintf (maps can be megabytes); strings are
 * escaped and any byte that is not valid UTF-8 becomes U+FFFD, so the output
 * is always valid JSON. Deliberately not here: other output formats
 * (render), analysis. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "t5.h"
#include "tokenizer.h"
#include "trace.h"
#include "util.h"

/* Longest source, target or output, in tokens. */
#define DUMP_MAX_TOKENS 1024

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope dump [--model DIR] --input TEXT [--target TEXT] [--max-len N]\n\n"
            "Run the model once and print JSON: token ids, decoded text and every attention\n"
            "map in Hugging Face's layout (per layer [heads][query][key] for encoder,\n"
            "decoder and cross attention). Greedy decoding, or teacher forcing when --target\n"
            "is given (then also the argmax predictions and the loss).\n\n"
            "  -m, --model DIR     model folder (config.json + model.safetensors)\n"
            "                      (default: $ATTNSCOPE_MODEL or the bundled model)\n"
            "  -i, --input TEXT    source text (eos is appended); tokenised by the folder's\n"
            "                      spiece.model (SentencePiece), else as ByT5 bytes\n"
            "  -t, --target TEXT   teacher-forced target (eos appended)\n"
            "  -n, --max-len N     greedy: at most N generated tokens (default 64, at most 1024)\n"
            "                      (input and target: at most 1024 tokens each)\n"
            "  -h, --help          this text\n\n"
            "exit status: 0 ok, 1 the model or run failed, 2 bad usage\n");
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) len = 2, cp = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0) len = 3, cp = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0) len = 4, cp = s[0] & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static void json_string(FILE *f, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f), fputc(c, f), i++;
        } else if (c == '\n') {
            fputs("\\n", f), i++;
        } else if (c == '\t') {
            fputs("\\t", f), i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(f, "\\u%04x", c), i++;
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (len == 0) {
                fputs("\\ufffd", f);
                i++;
            } else {
                fwrite(s + i, 1, len, f);
                i += len;
            }
        }
    }
    fputc('"', f);
}

static void json_ids(FILE *f, const char *key, const int *ids, size_t n)
{
    fprintf(f, "  \"%s\": [", key);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", ids[i]);
    fputs("],\n", f);
}

static void json_labels(FILE *f, const tok_vocab *tok, const char *key, const int *ids,
                        size_t n)
{
    char buf[64];
    fprintf(f, "  \"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        const char *l = tok_label(tok, ids[i], buf, sizeof buf);
        json_string(f, l, strlen(l));
    }
    fputs("],\n", f);
}

static void json_text(FILE *f, const tok_vocab *tok, const char *key, const int *ids, size_t n)
{
    /* a SentencePiece piece is at most a few dozen bytes */
    size_t cap = 64 * n + 1;
    char *text = xmalloc(cap);
    size_t len = tok_decode(tok, ids, n, text, cap);
    fprintf(f, "  \"%s\": ", key);
    json_string(f, text, len);
    fputs(",\n", f);
    free(text);
}

/* One kind of map for every layer: [layer][head][query][key]. */
static void json_maps(FILE *f, const char *key, const attn_trace *t, t5_attn_kind kind,
                      size_t n_layers, int last)
{
    fprintf(f, "  \"%s\": [", key);
    for (size_t l = 0; l < n_layers; l++) {
        fputs(l ? ",\n    [" : "\n    [", f);
        for (size_t h = 0; h < t->n_heads; h++) {
            size_t rows, cols, stride;
            const float *map = trace_map(t, kind, l, h, &rows, &cols, &stride);
            fputs(h ? ",\n     [" : "\n     [", f);
            for (size_t i = 0; i < rows; i++) {
                fputs(i ? ",\n      [" : "\n      [", f);
                for (size_t j = 0; j < cols; j++)
                    fprintf(f, j ? ", %.6g" : "%.6g", (double)map[i * stride + j]);
                fputc(']', f);
            }
            fputc(']', f);
        }
        fputc(']', f);
    }
    fprintf(f, "\n  ]%s\n", last ? "" : ",");
}

/* The whole JSON document of one run: what was asked, the tokens, the
 * teacher-forced predictions and loss (logits not NULL), every map. */
static void json_dump(FILE *f, const char *model_dir, const char *input, const tok_vocab *tok,
                      const attn_trace *t, const float *logits, size_t V, size_t n_tgt,
                      double loss)
{
    int target = logits != NULL;
    fputs("{\n  \"model\": ", f);
    json_string(f, model_dir, strlen(model_dir));
    fprintf(f, ",\n  \"mode\": \"%s\",\n", target ? "teacher_forced" : "greedy");
    fprintf(f, "  \"tokenizer\": \"%s\",\n", tok_name(tok));
    fputs("  \"input\": ", f);
    json_string(f, input, strlen(input));
    fputs(",\n", f);
    json_ids(f, "input_ids", t->src, t->n_src);
    json_labels(f, tok, "input_tokens", t->src, t->n_src);
    json_ids(f, "decoder_input_ids", t->tgt, t->n_rows);
    json_labels(f, tok, "decoder_input_tokens", t->tgt, t->n_rows);
    json_ids(f, "output_ids", t->tgt + 1, t->n_tgt - 1);
    json_text(f, tok, "output_text", t->tgt + 1, t->n_tgt - 1);
    if (target) {
        int *pred = xmalloc(n_tgt * sizeof *pred);
        for (size_t i = 0; i < n_tgt; i++) {
            size_t best = 0;
            for (size_t j = 1; j < V; j++)
                if (logits[i * V + j] > logits[i * V + best]) best = j;
            pred[i] = (int)best;
        }
        json_ids(f, "predicted_ids", pred, n_tgt);
        json_text(f, tok, "predicted_text", pred, n_tgt);
        fprintf(f, "  \"loss\": %.7g,\n", loss);
        free(pred);
    }
    json_ids(f, "row_step", t->row_step, t->n_rows);
    fprintf(f, "  \"num_heads\": %zu,\n  \"num_layers\": %zu,\n  \"num_decoder_layers\": %zu,\n",
            t->n_heads, t->n_enc_layers, t->n_dec_layers);
    json_maps(f, "encoder_attentions", t, T5_ATTN_ENC_SELF, t->n_enc_layers, 0);
    json_maps(f, "decoder_attentions", t, T5_ATTN_DEC_SELF, t->n_dec_layers, 0);
    json_maps(f, "cross_attentions", t, T5_ATTN_CROSS, t->n_dec_layers, 1);
    fputs("}\n", f);
}

/* Ids above the vocabulary would be rejected by the engine anyway; say why
 * in tokenizer terms. 0, or -1 after the message. */
static int check_vocab(const char *model_dir, const tok_vocab *tok, const int *src, size_t n_src,
                       const int *tgt, size_t n_tgt, size_t vocab)
{
    for (size_t i = 0; i < n_src + n_tgt; i++) {
        int id = i < n_src ? src[i] : tgt[i - n_src];
        if (id < 0 || (size_t)id >= vocab) {
            cli_error("dump", "%s: the %s tokenizer gives id %d for the %s, outside the model's "
                      "vocabulary of %zu ids", model_dir, tok_name(tok), id,
                      i < n_src ? "input" : "target", vocab);
            return -1;
        }
    }
    return 0;
}

int cmd_dump(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"input", required_argument, 0, 'i'},
        {"target", required_argument, 0, 't'},  {"max-len", required_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    const char *model_dir = NULL, *input = NULL, *target = NULL;
    size_t max_len = 64;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:i:t:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (cli_parse_path("dump", "--model", optarg, &model_dir)) return EXIT_USAGE;
            break;
        case 'i': input = optarg; break;
        case 't': target = optarg; break;
        case 'n':
            if (cli_parse_size("dump", "--max-len", optarg, &max_len)) return EXIT_USAGE;
            break;
        default: return cli_usage_exit(c, usage);  /* -h too */
        }
    }
    if (cli_no_args("dump", argc, argv, "(the text goes after --input)") ||
        cli_required("dump", input, "--input TEXT is required", usage))
        return EXIT_USAGE;
    /* The trace holds every map: (layers, heads, n, n) floats per stack. */
    if (max_len > DUMP_MAX_TOKENS) {
        cli_error("dump", "--max-len %zu is too large (at most %d)", max_len, DUMP_MAX_TOKENS);
        return EXIT_USAGE;
    }
    model_dir = cli_model_dir(model_dir);

    as_err err;
    tok_vocab *tok = tok_open(model_dir, &err);
    if (!tok) {
        cli_error("dump", "%s", err.msg);
        return EXIT_FAIL;
    }
    int *src = xmalloc(DUMP_MAX_TOKENS * sizeof *src);
    int *tgt = target ? xmalloc(DUMP_MAX_TOKENS * sizeof *tgt) : NULL;
    size_t n_src = tok_encode(tok, input, src, DUMP_MAX_TOKENS);
    size_t n_tgt = target ? tok_encode(tok, target, tgt, DUMP_MAX_TOKENS) : 0;
    if (n_src > DUMP_MAX_TOKENS || n_tgt > DUMP_MAX_TOKENS || n_src == 0 || (target && !n_tgt)) {
        int is_tgt = n_tgt > DUMP_MAX_TOKENS || (target && !n_tgt);
        size_t n = is_tgt ? n_tgt : n_src;
        if (n)
            cli_error("dump", "--%s is %zu tokens long (%s, with eos); dump takes at most %d",
                      is_tgt ? "target" : "input", n, tok_name(tok), DUMP_MAX_TOKENS);
        else
            cli_error("dump", "--%s: the %s tokenizer refuses the text", is_tgt ? "target" : "input",
                      tok_name(tok));
        free(src), free(tgt), tok_free(tok);
        return EXIT_USAGE;
    }

    t5_model m;
    if (t5_load_mapped(&m, model_dir, &err)) {
        cli_error("dump", "%s", err.msg);
        free(src), free(tgt), tok_free(tok);
        return EXIT_FAIL;
    }
    if (check_vocab(model_dir, tok, src, n_src, tgt, n_tgt, m.cfg.vocab_size)) {
        free(src), free(tgt), t5_free(&m), tok_free(tok);
        return EXIT_FAIL;
    }
    size_t n_out = target ? n_tgt : max_len;
    t5_run *r = t5_run_new(&m, n_src, n_out);
    attn_trace *t = trace_new(&m, n_src, n_out + 1);
    float *logits = NULL;
    double loss = 0;
    int rc = EXIT_OK;
    long n = trace_run(t, r, src, n_src, tgt, n_tgt, max_len, &err);
    if (n >= 0 && target) {
        /* The predictions and loss of the same teacher-forced pass. */
        logits = xmalloc(n_tgt * m.cfg.vocab_size * sizeof *logits);
        if (t5_teacher_forced(r, src, n_src, t->tgt, n_tgt, logits, &err)) n = -1;
        else loss = t5_cross_entropy(logits, tgt, n_tgt, m.cfg.vocab_size);
    }
    if (n < 0) {
        cli_error("dump", "%s", err.msg);
        rc = EXIT_FAIL;
        goto done;
    }

    FILE *f = stdout;
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    json_dump(f, model_dir, input, tok, t, logits, m.cfg.vocab_size, n_tgt, loss);
    /* main checks that stdout took it all */
done:
    free(logits), free(src), free(tgt);
    trace_free(t);
    t5_run_free(r);
    t5_free(&m);
    tok_free(tok);
    return rc;
}
