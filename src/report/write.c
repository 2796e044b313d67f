/* write.c - the words of the report: report.md (the model and data, the
 * scores of the traced equations, the findings with their numbers, how heads
 * are classified, the table of every head and the list of figures) and
 * heads.tsv (every head's numbers, one line each).
 *
 * Deliberately not here: measuring (src/analysis/, accum.c) and drawing
 * (figures.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "version.h"

/* Per-head record for the tables and findings. */
typedef struct {
    int kind;
    size_t layer, head;
    an_head_class c;
    an_head_stats *s;
    double drop[3];
    int have_drop;
    double key;      /* the drop of the score that ranks heads (rp_scores.main) */
} head_rec;

static int cmp_drop(const void *x, const void *y)
{
    const head_rec *a = *(const head_rec *const *)x, *b = *(const head_rec *const *)y;
    if (a->key != b->key) return a->key < b->key ? 1 : -1;
    return 0;
}

/* A score change for people: no "-0.000". */
static double chg(double v) { return fabs(v) < 5e-4 ? 0.0 : v; }

/* Top token classes of a head's key mass, as "x 0.41, = 0.22". */
static void top_classes(const an_head_stats *s, char *buf, size_t cap)
{
    int used[AN_TC_COUNT] = {0};
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 2; i++) {
        int best = -1;
        for (int c = 0; c < AN_TC_COUNT; c++)
            if (!used[c] && (best < 0 || s->class_mass[c] > s->class_mass[best])) best = c;
        if (best < 0 || s->class_mass[best] <= 0) break;
        used[best] = 1;
        len += (size_t)snprintf(buf + len, cap - len, "%s`%s` %.2f", i ? ", " : "",
                                an_tclass_name((an_tclass)best), s->class_mass[best]);
        if (len >= cap) break;
    }
}

/* "encoder self-attention, cross-attention" for a bit set of kinds. */
static const char *kinds_text(unsigned bits)
{
    static char buf[128];
    if (bits == 7u) return "every attention map (encoder self, decoder self and cross)";
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < AN_N_KINDS; k++)
        if (bits & (1u << k))
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? " and " : "",
                                    rp_kind_long(k));
    return buf;
}

/* One class's heads of one kind: "; blurred diagonal: 3 heads (layer 0: 1,
 * ...; mean layer 1.0), offsets -3 (1)". Nothing when the class has none. */
static void findings_class(FILE *f, const head_rec *recs, size_t nrec, int k, size_t L, int cl,
                           int *first)
{
    size_t count = 0, per_layer[256] = {0};
    double layer_sum = 0;
    int off_count[2 * AN_OFFSET_WIN + 1] = {0};
    unsigned stripe_cls = 0;
    for (size_t i = 0; i < nrec; i++) {
        const head_rec *r = &recs[i];
        if (r->kind != k || (int)r->c.cls != cl) continue;
        count++;
        if (r->layer < 256) per_layer[r->layer]++;
        layer_sum += (double)r->layer;
        if (cl == AN_CLASS_DIAG || cl == AN_CLASS_BLUR) {
            int o2 = r->c.offset + AN_OFFSET_WIN;
            if (o2 >= 0 && o2 < 2 * AN_OFFSET_WIN + 1) off_count[o2]++;
        }
        if (cl == AN_CLASS_STRIPES) stripe_cls |= r->c.stripe_classes;
    }
    if (!count) return;
    fprintf(f, "%s %s: %zu head%s (", *first ? "" : ";", an_class_name((an_class)cl), count,
            count == 1 ? "" : "s");
    *first = 0;
    int lf = 1;
    for (size_t l = 0; l < L && l < 256; l++)
        if (per_layer[l]) {
            fprintf(f, "%slayer %zu: %zu", lf ? "" : ", ", l, per_layer[l]);
            lf = 0;
        }
    fprintf(f, "; mean layer %.1f)", layer_sum / (double)count);
    if (cl == AN_CLASS_DIAG || cl == AN_CLASS_BLUR) {
        fprintf(f, ", offsets");
        int of = 1;
        for (int o2 = 0; o2 < 2 * AN_OFFSET_WIN + 1; o2++)
            if (off_count[o2]) {
                fprintf(f, "%s %+d (%d)", of ? "" : ",", o2 - AN_OFFSET_WIN, off_count[o2]);
                of = 0;
            }
    }
    if (cl == AN_CLASS_STRIPES && stripe_cls) {
        fprintf(f, ", on");
        for (int c = 0; c < AN_TC_COUNT; c++)
            if (stripe_cls & (1u << c)) fprintf(f, " `%s`", an_tclass_name((an_tclass)c));
    }
}

/* One line per kind: how many heads of each class, where. */
static void findings_kinds(FILE *f, const head_rec *recs, size_t nrec, const an_stats *st)
{
    for (int k = 0; k < AN_N_KINDS; k++) {
        size_t L = st->n_layers[k];
        fprintf(f, "- **%s** (%zu layers x %zu heads):", rp_kind_long(k), L, st->n_heads);
        int first = 1;
        for (int cl = 0; cl < AN_CLASS_COUNT; cl++) findings_class(f, recs, nrec, k, L, cl, &first);
        fprintf(f, ".\n");
    }
}

/* The study's four observations, counted (first half of a stack's layers
 * vs the deeper half). */
static void findings_study(FILE *f, const head_rec *recs, size_t nrec, const an_stats *st)
{
    size_t first[AN_CLASS_COUNT] = {0}, deep[AN_CLASS_COUNT] = {0}, stripe_special = 0;
    unsigned special_bits = 0;
    for (int c = AN_TC_X; c <= AN_TC_SLASH; c++) special_bits |= 1u << c;
    for (size_t i = 0; i < nrec; i++) {
        const head_rec *r = &recs[i];
        size_t L = st->n_layers[r->kind];
        if (2 * r->layer < L) first[r->c.cls]++;
        else deep[r->c.cls]++;
        if (r->c.cls == AN_CLASS_STRIPES && (r->c.stripe_classes & special_bits)) stripe_special++;
    }
    fprintf(f, "- **Against the study's observations** (all three kinds; \"first\" = the first half "
               "of a stack's layers): clear diagonals on the first layers: %zu heads on the first "
               "layers, %zu on the deeper ones; blurred diagonals: %zu + %zu; vertical stripes on "
               "special symbols: %zu of the %zu stripe heads have a special symbol among their "
               "stripes; sparse squares on deeper layers: %zu heads on the deeper layers, %zu on "
               "the first ones; heterogeneous: %zu + %zu.\n",
            first[AN_CLASS_DIAG], deep[AN_CLASS_DIAG], first[AN_CLASS_BLUR], deep[AN_CLASS_BLUR],
            stripe_special, first[AN_CLASS_STRIPES] + deep[AN_CLASS_STRIPES],
            deep[AN_CLASS_BLOCK], first[AN_CLASS_BLOCK], first[AN_CLASS_HETERO],
            deep[AN_CLASS_HETERO]);
}

/* Where the special symbols stand in the attention. */
static void findings_specials(FILE *f, const head_rec *recs, size_t nrec,
                              const an_hypothesis *hys, size_t n_hy)
{
    double spec = 0, dig = 0;
    size_t nh = 0;
    for (size_t i = 0; i < nrec; i++) {
        if (recs[i].kind == T5_ATTN_DEC_SELF) continue;
        const an_head_stats *s = recs[i].s;
        for (int c = AN_TC_X; c <= AN_TC_SLASH; c++) spec += s->class_mass[c];
        dig += s->class_mass[AN_TC_DIGIT];
        nh++;
    }
    if (nh)
        fprintf(f,
                "- Over the heads that read the source (encoder self and cross), the special symbols "
                "receive %.3f of the attention on average and the digits %.3f",
                spec / (double)nh, dig / (double)nh);
    if (nh && n_hy && hys[0].n)
        fprintf(f, ", while a source holds %.1f special symbols and %.1f digits",
                hys[0].src_special, hys[0].src_digits);
    if (nh) fprintf(f, ".\n");
}

/* The heads whose ablation costs the most. */
static void findings_importance(FILE *f, head_rec *recs, size_t nrec, const rp_results *r)
{
    const an_importance *imp = r->imp;
    rp_scores sn = rp_score_names(r->ex);
    int m = sn.main;
    /* what "matters" means: a hundredth of a share, or of a nat per token */
    const head_rec **order = xmalloc(nrec * sizeof *order);
    for (size_t i = 0; i < nrec; i++) recs[i].key = recs[i].drop[m], order[i] = &recs[i];
    qsort(order, nrec, sizeof *order, cmp_drop);
    size_t big = 0;
    for (size_t i = 0; i < nrec; i++) big += order[i]->drop[m] > 0.01;
    fprintf(f, "- **Heads that matter** (%s ablation of one head at a time, %zu %s", r->o->ablation,
            r->imp_n, r->a->noun);
    if (r->ex->refs)
        fprintf(f, ", scored %s", r->ex->tgt ? "on each input's target (teacher-forced)"
                                               : "against the unablated model's greedy output");
    fprintf(f, "; without ablation: %s %.3f, %s %.3f, %s %.3f): %zu of %zu heads lower %s by "
               "more than 0.01.",
            sn.name[0], imp->base[0], sn.name[1], imp->base[1], sn.name[2], imp->base[2], big, nrec,
            sn.name[m]);
    size_t shown = 0;
    for (size_t i = 0; i < nrec && i < 5; i++)
        shown += order[i]->drop[m] >= 5e-4;
    if (shown) fprintf(f, " The largest drops:");
    else fprintf(f, " No single head's ablation lowers %s", sn.name[m]);
    for (size_t i = 0; i < shown; i++) {
        const head_rec *h = order[i];
        fprintf(f, "%s %s L%zu H%zu (%s) %s %+.3f", i ? ";" : "", rp_kind_short(h->kind), h->layer,
                h->head, h->c.label, sn.name[m], chg(-h->drop[m]));
        for (int j = 0; j < 3; j++)
            if (j != m) fprintf(f, ", %s %+.3f", sn.name[j], chg(-h->drop[j]));
    }
    fprintf(f, ".\n");
    free(order);
}

/* One run of the special-symbol experiment. */
static void findings_hypothesis(FILE *f, const an_hypothesis *hy)
{
    fprintf(f,
            "- **Hypothesis, %s** (the special symbols store the results of the computation): "
            "blocking attention to the special-symbol keys in %s, over %zu "
            "equations, moves character accuracy from %.3f to %.3f (full solve %.3f -> %.3f, "
            "answer %.3f -> %.3f); blocking as many random digit keys instead gives %.3f +- %.3f "
            "(mean +- sd over %zu draws; full solve %.3f +- %.3f, answer %.3f +- %.3f). ",
            hy->kinds == 7u ? "every map" : hy->kinds == 5u ? "source keys only" : "chosen maps",
            kinds_text(hy->kinds), hy->n, hy->base[1], hy->special[1], hy->base[0], hy->special[0], hy->base[2],
            hy->special[2], hy->rnd_mean[1], hy->rnd_sd[1], hy->draws, hy->rnd_mean[0],
            hy->rnd_sd[0], hy->rnd_mean[2], hy->rnd_sd[2]);
    if (hy->base[1] < 0.2)
        fprintf(f, "The model gets only %.3f of the characters right without any blocking, so "
                   "this experiment says little about it. ",
                hy->base[1]);
    if (hy->holds)
        fprintf(f, "By the rule below the hypothesis **holds** on this model: blocking the "
                   "specials costs %.3f more character accuracy than blocking digits.\n",
                hy->rnd_mean[1] - hy->special[1]);
    else
        fprintf(f, "By the rule below the hypothesis is **not supported** on this model "
                   "(difference to the random baseline %.3f).\n",
                hy->rnd_mean[1] - hy->special[1]);
}

static void write_findings(FILE *f, head_rec *recs, size_t nrec, const rp_results *r)
{
    fprintf(f, "## Findings\n\n");
    findings_kinds(f, recs, nrec, r->a->stats);
    if (!r->o->raw) {
        findings_study(f, recs, nrec, r->a->stats);
        findings_specials(f, recs, nrec, r->hys, r->n_hy);
    }
    if (r->imp) findings_importance(f, recs, nrec, r);
    for (size_t hi = 0; hi < r->n_hy; hi++) findings_hypothesis(f, &r->hys[hi]);
    fprintf(f, "\n");
}

/* One record per head, in kind, layer, head order (free the result). */
static head_rec *head_records(const rp_accum *a, const an_importance *imp, size_t *nrec)
{
    size_t n = 0;
    for (int k = 0; k < AN_N_KINDS; k++) n += a->L[k] * a->H;
    head_rec *recs = xcalloc(n + 1, sizeof *recs);
    size_t i = 0;
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t l = 0; l < a->L[k]; l++)
            for (size_t h = 0; h < a->H; h++, i++) {
                recs[i].kind = k;
                recs[i].layer = l;
                recs[i].head = h;
                recs[i].s = an_stats_head(a->stats, (t5_attn_kind)k, l, h);
                an_classify(recs[i].s, &recs[i].c);
                if (imp) {
                    for (int j = 0; j < 3; j++) recs[i].drop[j] = imp->drop[k][(l * a->H + h) * 3 + j];
                    recs[i].have_drop = 1;
                }
            }
    *nrec = n;
    return recs;
}

static int write_heads_tsv(const char *dir, const head_rec *recs, size_t nrec, int raw,
                           as_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/heads.tsv", dir);
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    fprintf(af.f, "kind\tlayer\thead\tclass\tlabel\toffset\tdiag\tstripe\tblock\tband\tentropy\t"
                  "entropy_uniform\tdistance\ttopk\t%s",
            raw ? "drop_loglik\tdrop_agree\tdrop_exact" : "drop_full\tdrop_chars\tdrop_answer");
    static const char *cls_key[AN_TC_COUNT] = {"digit", "x",  "caret", "eq",    "sign",
                                               "star",  "paren", "semi", "D",   "lt",
                                               "slash", "eos", "pad",   "other"};
    for (int c = 0; c < AN_TC_COUNT; c++) fprintf(af.f, "\tmass_%s", cls_key[c]);
    for (int o = 0; o < AN_N_OFFSETS; o++) fprintf(af.f, "\toffset_%+d", o - AN_OFFSET_WIN);
    fputc('\n', af.f);
    for (size_t i = 0; i < nrec; i++) {
        const head_rec *r = &recs[i];
        fprintf(af.f, "%s\t%zu\t%zu\t%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t",
                rp_kind_short(r->kind), r->layer, r->head, an_class_name(r->c.cls), r->c.label,
                r->c.offset, r->c.diag, r->c.stripe, r->c.block, r->c.band, r->s->entropy,
                r->s->entropy_uniform, r->s->distance, r->s->topk);
        if (r->have_drop) fprintf(af.f, "%.4f\t%.4f\t%.4f", r->drop[0], r->drop[1], r->drop[2]);
        else fprintf(af.f, "\t\t");
        for (int c = 0; c < AN_TC_COUNT; c++) fprintf(af.f, "\t%.4f", r->s->class_mass[c]);
        for (int o = 0; o < AN_N_OFFSETS; o++) fprintf(af.f, "\t%.4f", r->s->offset[o]);
        fputc('\n', af.f);
    }
    return atomic_commit(&af, err);
}

/* Text in a Markdown table cell: at most max bytes (whole UTF-8
 * characters), Markdown's own characters escaped. */
static void md_text(FILE *f, const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] && n < max; n++) {}
    while (n > 0 && s[n] && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    for (size_t i = 0; i < n; i++) {
        if (strchr("\\|`*_[]<>#", s[i])) fputc('\\', f);
        fputc(s[i], f);
    }
    if (s[n]) fputs("...", f);
}

/* report --raw: the inputs and the scores without ablation. */
static void md_head_raw(FILE *f, const rp_results *r)
{
    const an_examples *ex = r->ex;
    const double *b = r->raw_base;
    fprintf(f, "Inputs: the first %zu lines of `%s`%s (raw text: no task scores, no "
               "special-symbol experiment, no probes or patching). Greedy decoding, at most %zu "
               "tokens. Took %.1f s.\n\n",
            ex->n, r->o->raw, ex->tgt ? ", each with a target" : "", r->o->max_len, r->seconds);
    fprintf(f, "## Scores of the inputs\n\n");
    if (ex->tgt)
        fprintf(f, "Against each line's target, teacher-forced: mean log-likelihood %.4f nats per "
                   "target token (eos included), next-token agreement %.3f (the share of target "
                   "tokens that are the model's argmax); greedy decoding writes the target exactly "
                   "for %.3f of the inputs.\n\n",
                b[0], b[1], b[2]);
    else
        fprintf(f, "No targets: the model's own greedy outputs are the reference, so ablation "
                   "measures how far a head's removal moves the model away from what it writes "
                   "(mean log-likelihood of its own output %.4f nats per token).\n\n",
                b[0]);
    fprintf(f, "| line | input | greedy output |\n|---|---|---|\n");
    for (size_t i = 0; i < ex->n && i < 5; i++) {
        char text[4 * 4096 + 8];
        an_decode(ex->tok, ex->refs->ids[i], ex->refs->n[i], text, sizeof text);
        fprintf(f, "| %zu | ", i + 1);
        md_text(f, ex->src[i], 200);
        fprintf(f, " | %s", ex->tgt ? "(target) " : "");
        md_text(f, text, 200);
        fprintf(f, " |\n");
    }
    fprintf(f, "\n");
}

/* The title, the model and data, and the scores of the traced equations. */
static void md_head(FILE *f, const rp_results *r)
{
    const report_options *o = r->o;
    const t5_config *c = &r->m->cfg;
    const an_examples *ex = r->ex;
    const rp_accum *a = r->a;
    double seconds = r->seconds;
    fprintf(f, "# Attention report\n\n");
    fprintf(f, "Written by `attnscope report` %s. Model `%s`: d_model %zu, %zu encoder + %zu decoder "
               "layers, %zu heads of d_kv %zu, d_ff %zu, %s. ",
            ATTNSCOPE_VERSION, o->model_dir, c->d_model, c->num_layers, c->num_decoder_layers,
            c->num_heads, c->d_kv, c->d_ff, c->ff == T5_FF_RELU ? "relu" : "gated-gelu");
    if (ex->tok && tok_kind_of(ex->tok) != TOK_BYT5)
        fprintf(f, "Tokenizer: %s (the folder's spiece.model; figures label its pieces). ",
                tok_name(ex->tok));
    if (o->raw) {
        md_head_raw(f, r);
        return;
    }
    if (o->data) fprintf(f, "Equations: the first %zu of `%s`. ", ex->n, o->data);
    else fprintf(f, "Equations: %zu generated from preset `%s`, seed %zu (they may overlap the "
                    "training data; pass a held-out `--data test.tsv` for honest scores). ",
                 ex->n, o->preset, o->seed);
    fprintf(f, "Greedy decoding, at most %zu tokens. Took %.1f s.\n\n", o->max_len, seconds);

    fprintf(f, "## Scores of the traced equations\n\n"
               "| kind | equations | full solve | character accuracy | answer accuracy |\n"
               "|---|---|---|---|---|\n");
    fprintf(f, "| all | %zu | %.3f | %.3f | %.3f |\n", a->scores.all.n,
            quad_score_full(&a->scores.all), quad_score_chars(&a->scores.all),
            quad_score_answer(&a->scores.all));
    for (int k = 0; k < QUAD_N_KINDS; k++)
        if (a->scores.kind[k].n)
            fprintf(f, "| %s | %zu | %.3f | %.3f | %.3f |\n", quad_kind_name((quad_kind)k),
                    a->scores.kind[k].n, quad_score_full(&a->scores.kind[k]),
                    quad_score_chars(&a->scores.kind[k]), quad_score_answer(&a->scores.kind[k]));
    fprintf(f, "\n");
}

/* How heads are classified and the hypothesis rule. */
/* The classifier's confusion matrix on the labelled synthetic maps. */
static void synth_table(FILE *f)
{
    size_t conf[AN_CLASS_COUNT][AN_CLASS_COUNT], n;
    size_t wrong = an_synth_confusion(conf, &n);
    fprintf(f, "The rules checked on %zu labelled synthetic %dx%d maps (sharp lines over a flat "
               "background at offsets -2, 0, +1, +3 with line mass 0.28 to 0.9 and up to 60%% "
               "noise, Gaussian bands of sigma 1 to 2.5, two-column stripes, squares of 3 to 10 "
               "keys holding 0.4 to 0.9 of each row, uniform and random rows; tests/unit/test_classify.c): %zu misclassified.\n\n"
               "| label \\ class |", n, AN_SYNTH_N, AN_SYNTH_N, wrong);
    for (int k = 0; k < AN_CLASS_COUNT; k++) fprintf(f, " %s |", an_class_name((an_class)k));
    fprintf(f, "\n|---|");
    for (int k = 0; k < AN_CLASS_COUNT; k++) fprintf(f, "---|");
    fprintf(f, "\n");
    for (int l = 0; l < AN_CLASS_COUNT; l++) {
        fprintf(f, "| %s |", an_class_name((an_class)l));
        for (int k = 0; k < AN_CLASS_COUNT; k++) fprintf(f, " %zu |", conf[l][k]);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

static void md_method(FILE *f, const rp_accum *a, int raw)
{
    fprintf(f, "## How heads are classified\n\n"
               "Each head's maps are pooled over the %zu %s (rows: query tokens, columns: key "
               "tokens; rows that were not computed are skipped). Offsets are k - q; cross-attention "
               "has no natural diagonal, so its diagonal is the proportional alignment "
               "a(q) = q (n_k-1)/(n_q-1). The first rule that holds gives the class (after Kovaleva "
               "et al. 2019):\n\n",
            a->traces, a->noun);
    fprintf(f, "1. **clear diagonal**: the mean mass on one offset (window -%d..+%d) is at least %.2f (`diag`); "
               "or a sharp line over a diffuse background: that offset holds at least %.2f, %.0f times "
               "the mean of the %d offsets around it (a Gaussian band of sigma 1 scores 4.0), and "
               "at least %.0f%% of the rows peak on it.\n",
            AN_OFFSET_WIN - 1, AN_OFFSET_WIN - 1, AN_DIAG_CLEAR, AN_DIAG_SHARP_MASS,
            AN_DIAG_CONTRAST, 2 * AN_BLUR_HALF, 100 * AN_DIAG_ARGMAX);
    fprintf(f, "2. **vertical stripes**: the %d columns that receive the most attention hold at least "
               "%.2f of a row's mass (`stripe`); the stripes' token classes are those with at least "
               "%.0f%% of that mass.\n",
            AN_STRIPE_COLS, AN_STRIPE_MIN, 100 * AN_STRIPE_TOKEN_SHARE);
    fprintf(f, "3. **sparse squares**: `block` = repeat x (1 - far) is at least %.2f, where repeat is the "
               "share of consecutive rows that change by at most %.2f (1 - histogram overlap), far "
               "the overlap of rows half the map apart, and at least one pair of consecutive rows "
               "changes by %.2f or more. Or squares of high mass over a diffuse background: runs of "
               "rows that change by at most %.2f are squares over their own keys (at most half the "
               "keys wide); a row's key density inside its square is at least %.1f times that on the "
               "keys beside it (a square's width on either side; a square of 0.4 over 4 of 20 keys "
               "scores 3.3), at least %.0f%% of the rows lie in a square, they put at least %.2f "
               "inside it, and rows change at least %.1f times as much at a square's edge as within "
               "one (a Gaussian band cut into runs by noise scores 1.2 to 1.8).\n",
            AN_BLOCK_MIN, AN_BLOCK_SAME, AN_BLOCK_JUMP, AN_BLOCK_SAME, AN_SQ_CONTRAST,
            100 * AN_SQ_COVER, AN_SQ_INSIDE, AN_SQ_EDGE);
    fprintf(f, "4. **blurred diagonal**: some band of %d consecutive offsets holds at least %.2f (`band`).\n",
            2 * AN_BLUR_HALF + 1, AN_BLUR_MIN);
    fprintf(f, "5. **heterogeneous**: none of the above.\n\n");
    synth_table(f);
    if (raw) return;
    fprintf(f, "The hypothesis rule: it holds when blocking the special symbols lowers character "
               "accuracy below the random-digit baseline's mean by more than %.0f standard "
               "deviations of that baseline and by at least %.2f. Blocking sets a key's "
               "probability to 0 and renormalises the row (the same as masking it before the "
               "softmax); the random baseline blocks, in each row, as many digit keys as there "
               "are special-symbol keys among the keys that row sees (all its digits when it sees fewer), chosen by a fixed random priority per draw.\n\n",
            AN_HYP_SD, AN_HYP_MIN_GAP);
}

/* The table of every head. */
static void md_head_table(FILE *f, const head_rec *recs, size_t nrec, const rp_results *res)
{
    int raw = res->o->raw != NULL;
    fprintf(f, "## Every head\n\n"
               "`H/Hu`: mean row entropy over the entropy of a uniform row (Clark et al. 2019); "
               "`dist`: mean attended distance; `top%d`: mass on the %d largest keys; `keys`: the "
               "token classes receiving the most mass; `%s` etc.: the score lost when the head "
               "alone is ablated%s.\n\n",
            AN_TOPK, AN_TOPK, raw ? "d loglik" : "d chars",
            raw ? " (log-likelihood per token in nats, next-token agreement, exact match)" : "");
    fprintf(f, "| head | class | diag | stripe | block | band | H/Hu | dist | top%d | keys | %s |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            AN_TOPK, raw ? "d loglik | d agree | d exact" : "d full | d chars | d answer");
    for (size_t i = 0; i < nrec; i++) {
        const head_rec *r = &recs[i];
        char keys[128];
        if (res->a->byte_classes) top_classes(r->s, keys, sizeof keys);
        else snprintf(keys, sizeof keys, "-"); /* SentencePiece ids have no classes */
        fprintf(f, "| %s L%zu H%zu | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s |",
                rp_kind_short(r->kind), r->layer, r->head, r->c.label, r->c.diag, r->c.stripe,
                r->c.block, r->c.band,
                r->s->entropy_uniform > 0 ? r->s->entropy / r->s->entropy_uniform : 0,
                r->s->distance, r->s->topk, keys);
        if (r->have_drop)
            fprintf(f, " %+.3f | %+.3f | %+.3f |\n", chg(-r->drop[0]), chg(-r->drop[1]), chg(-r->drop[2]));
        else fprintf(f, " | | |\n");
    }
}

/* The list of figures. */
static void md_figures(FILE *f, const rp_figs *F)
{
    fprintf(f, "\n## Figures\n\nEach figure is written as PNG and SVG.\n\n");
    for (size_t i = 0; i < F->n; i++)
        fprintf(f, "### %s\n\n![%s](%s.png)\n\n[SVG](%s.svg)\n\n", F->f[i].caption, F->f[i].name,
                F->f[i].name, F->f[i].name);
    fprintf(f, "The per-head table is also in `heads.tsv`.\n");
}

int rp_write(const rp_results *r, as_err *err)
{
    size_t nrec;
    head_rec *recs = head_records(r->a, r->imp, &nrec);
    int rc = write_heads_tsv(r->o->out, recs, nrec, r->o->raw != NULL, err);
    char path[4096];
    atomic_file af;
    snprintf(path, sizeof path, "%s/report.md", r->o->out);
    if (!rc) rc = atomic_open(&af, path, err);
    if (!rc) {
        md_head(af.f, r);
        write_findings(af.f, recs, nrec, r);
        if (r->B) rp_beyond_write(af.f, r->B, r->hys, r->n_hy);
        md_method(af.f, r->a, r->o->raw != NULL);
        md_head_table(af.f, recs, nrec, r);
        md_figures(af.f, r->F);
        rc = atomic_commit(&af, err);
    }
    free(recs);
    return rc;
}
