/* beyond_write.c - the words of the report's sections beyond attention
 * weights (see beyond.c): value norms with the stripe table, probes,
 * patching, and the verdict on the special-symbol hypothesis from three
 * methods. Every sentence is made from the numbers it states.
 *
 * Deliberately not here: measuring (beyond.c, src/analysis/). */
#include <math.h>
#include <string.h>

#include "report_int.h"

/* Stripe classes of a head as "x ^ =". */
static void stripe_names(unsigned bits, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int c = 0; c < AN_TC_COUNT && len < cap; c++)
        if (bits & (1u << c))
            len += (size_t)snprintf(buf + len, cap - len, "%s`%s`", len ? " " : "",
                                    an_tclass_name((an_tclass)c));
}

static unsigned special_bits(void)
{
    unsigned b = 0;
    for (int c = AN_TC_X; c <= AN_TC_SLASH; c++) b |= 1u << c;
    return b;
}

/* The value-norm section; *survive / *total count the stripe heads with a
 * special symbol among their stripes and those whose stripes survive. */
static void norms_section(FILE *f, const rp_beyond *b, size_t *survive, size_t *total,
                          double *w_share, double *n_share)
{
    *survive = *total = 0;
    size_t same = 0, all = 0, src_heads = 0;
    double ws = 0, ns = 0;
    fprintf(f, "\n## Value norms: do the stripes carry anything?\n\n"
               "A weight says where a head looks, not what it moves: a key with a small value "
               "vector adds almost nothing however much weight it gets (Kobayashi et al. 2020). "
               "Each head is classified again on its value-weighted maps ||a_ij W_O v_j|| (each "
               "row normalised like the weights), over the first %zu %s, decoded greedily.\n\n",
            b->norm_n, b->raw ? "inputs" : "equations");
    if (b->raw) fprintf(f, "| head | class on weights | class on norms |\n|---|---|---|\n");
    else
        fprintf(f, "| head | class on weights | class on norms | special-symbol mass, weights | on norms |\n"
                   "|---|---|---|---|---|\n");
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t i = 0; i < b->w->n_layers[k] * b->w->n_heads; i++) {
            an_head_class cw, cn;
            an_classify(&b->w->heads[k][i], &cw);
            an_classify(&b->nm->heads[k][i], &cn);
            double sw = rp_special_mass(&b->w->heads[k][i]), sn = rp_special_mass(&b->nm->heads[k][i]);
            same += cw.cls == cn.cls;
            all++;
            if (k != T5_ATTN_DEC_SELF) ws += sw, ns += sn, src_heads++;
            fprintf(f, "| %s L%zu H%zu | %s | %s |", rp_kind_short(k), i / b->w->n_heads,
                    i % b->w->n_heads, cw.label, cn.label);
            if (b->raw) fprintf(f, "\n");
            else fprintf(f, " %.2f | %.2f |\n", sw, sn);
        }
    *w_share = src_heads ? ws / (double)src_heads : NAN;
    *n_share = src_heads ? ns / (double)src_heads : NAN;
    fprintf(f, "\n%zu of %zu heads keep their class under the norm.", same, all);
    if (!b->raw)
        fprintf(f, " Over the heads that read the source (encoder self and cross), the special "
                   "symbols get %.3f of the attention weight and %.3f of the value-weighted "
                   "contribution.", *w_share, *n_share);
    fprintf(f, "\n\n");
    fprintf(f, "The stripe heads (class on weights: vertical stripes). A stripe *survives* when "
               "the head is still striped on its value-weighted maps (the %d heaviest columns "
               "hold at least %.2f of a row there too), and *vanishes* otherwise.\n\n"
               "| head | stripes on | stripe score, weights | on norms | class on norms | stripes |\n"
               "|---|---|---|---|---|---|\n",
            AN_STRIPE_COLS, AN_STRIPE_MIN);
    for (int k = 0; k < AN_N_KINDS; k++)
        for (size_t i = 0; i < b->w->n_layers[k] * b->w->n_heads; i++) {
            an_head_class cw, cn;
            an_classify(&b->w->heads[k][i], &cw);
            if (cw.cls != AN_CLASS_STRIPES) continue;
            an_classify(&b->nm->heads[k][i], &cn);
            int ok = cn.cls == AN_CLASS_STRIPES;
            char names[96];
            stripe_names(cw.stripe_classes, names, sizeof names);
            if (cw.stripe_classes & special_bits()) {
                (*total)++;
                *survive += ok;
            }
            fprintf(f, "| %s L%zu H%zu | %s | %.2f | %.2f | %s | %s |\n", rp_kind_short(k),
                    i / b->w->n_heads, i % b->w->n_heads, names, cw.stripe, cn.stripe, cn.label,
                    ok ? "survive" : "vanish");
        }
    if (!b->raw)
        fprintf(f, "\nOf the %zu stripe heads with a special symbol among their stripes, %zu keep "
                   "their stripes under the value norm.\n",
                *total, *survive);
}

/* The probe section; returns the comparison for D in the encoder: 1 when a
 * special symbol reads D better than any digit position, 0 otherwise, -1
 * without probes. */
static int probe_section(FILE *f, const rp_beyond *b)
{
    const an_probe_result *r = &b->probe;
    fprintf(f, "\n## Probes: which layers and positions hold b^2, 4ac and D\n\n"
               "Ridge probes from the residual stream (the embeddings and after each layer) "
               "averaged over each position class, %zu distinct equations of the report's data "
               "(%zu to fit, %zu held out, split by equation); held-out R^2, and the same probe "
               "fitted on shuffled labels. Special symbols and digits are compared on the "
               "positions before D's value is written (from there on teacher forcing feeds the "
               "answer). All cells: `probe.md`, `probe.tsv`, figure `probe.png`.\n\n",
            r->n_eq, r->n_train, r->n_test);
    fprintf(f, "| quantity | best place | R^2 | shuffled | best source special symbol | best "
               "source digit | best decoder position before D |\n|---|---|---|---|---|---|---|\n");
    const size_t ts[] = {AN_PQ_B2, AN_PQ_4AC, AN_PQ_D};
    int verdict = -1;
    for (size_t i = 0; i < 3; i++) {
        size_t t = ts[i], s = 0, c = 0, s1 = 0, c1 = 0, s0 = 0, c0 = 0, sd = 0, cd = 0;
        char a[32], bb[32], cc[32], dd[32];
        double v = an_probe_best(r, t, -1, -1, &s, &c);
        double vs = an_probe_best(r, t, 1, 0, &s1, &c1), vd = an_probe_best(r, t, 0, 0, &s0, &c0);
        double vdec = NAN, x;
        for (int sp = 0; sp < 2; sp++) {
            size_t ss = 0, sc = 0;
            x = an_probe_best(r, t, sp, 1, &ss, &sc);
            if (!isnan(x) && (isnan(vdec) || x > vdec)) vdec = x, sd = ss, cd = sc;
        }
        double sh = isnan(v) ? NAN : r->shuffled[(t * r->n_slots + s) * AN_PC_COUNT + c];
        fprintf(f, "| %s | %s at `%s` | %.3f | %.3f | %s at `%s`: %.3f | %s at `%s`: %.3f | %s at "
                   "`%s`: %.3f |\n",
                r->target_name[t], an_probe_slot_name(r, s, a, sizeof a), an_pc_name(c), v, sh,
                an_probe_slot_name(r, s1, bb, sizeof bb), an_pc_name(c1), vs,
                an_probe_slot_name(r, s0, cc, sizeof cc), an_pc_name(c0), vd,
                an_probe_slot_name(r, sd, dd, sizeof dd), an_pc_name(cd), vdec);
        if (t == AN_PQ_D && !isnan(vs) && !isnan(vd)) {
            verdict = vs > vd;
            fprintf(f, "\nIn the source, D is read %s at a special symbol (R^2 %.3f, `%s` %s) than "
                       "at any digit position (%.3f, `%s` %s).",
                    vs > vd ? "better" : "no better", vs, an_pc_name(c1),
                    an_probe_slot_name(r, s1, a, sizeof a), vd, an_pc_name(c0),
                    an_probe_slot_name(r, s0, cc, sizeof cc));
        }
    }
    fprintf(f, "\n");
    return verdict;
}

/* The patching section; returns 1 when, in the encoder's last layer, a
 * special symbol's residual restores more than any digit's (both changed
 * coefficients pooled), 0 otherwise, -1 without pairs. */
static int patch_section(FILE *f, const rp_beyond *b)
{
    size_t np = b->n_pairs[0] + b->n_pairs[1];
    fprintf(f, "\n## Activation patching over %zu pairs\n\n", np);
    if (!np) {
        fprintf(f, "No pair could be patched (%zu tried).\n", b->pairs_tried);
        return -1;
    }
    fprintf(f, "Each pair is an equation of the report's data and its twin with the last digit "
               "of b or c moved by one (the source keeps its length); both are teacher-forced on "
               "the clean target, and one hidden-state row of the clean run is copied into the "
               "corrupted one. The number is the restored share (lp_patched - lp_corrupt) / "
               "(lp_clean - lp_corrupt) of the clean log-probability at D's digits, averaged "
               "over the pairs and the positions of each class (1: all of the clean answer "
               "comes back). Rows as in the probes: the embeddings, then the residual stream after layer 1, 2, .... Pairs whose corruption costs the clean answer less than %.0f nat are left out (the share would divide by almost nothing): %zu of %zu tried. %zu pairs change b, %zu change c. The first pairs:\n\n",
            RP_PATCH_MIN_GAP, b->pairs_tried - np, b->pairs_tried, b->n_pairs[0], b->n_pairs[1]);
    for (size_t i = 0; i < b->n_list; i++)
        fprintf(f, "- `%s` -> `%s`: log-probability of D's digits %.2f clean, %.2f corrupted\n",
                b->list[i].clean, b->list[i].corrupt, b->list[i].lp_clean, b->list[i].lp_corrupt);
    int verdict = -1;
    double best_sp = -1e9, best_dg = -1e9;
    int bsp = 0, bdg = 0;
    for (int w = 0; w < 2; w++) {
        if (!b->n_pairs[w]) continue;
        fprintf(f, "\nResidual stream, %c changed:\n\n| layer |", w ? 'c' : 'b');
        for (int c = 0; c < AN_PC_COUNT; c++) fprintf(f, " `%s` |", an_pc_name((an_pos_class)c));
        fprintf(f, "\n|---|");
        for (int c = 0; c < AN_PC_COUNT; c++) fprintf(f, "---|");
        fprintf(f, "\n");
        for (int s = 0; s < 2; s++)
            for (size_t row = 0; row < b->prows[s][AN_PCOMP_RESID]; row++) {
                if (row == 0) fprintf(f, "| %s emb |", s ? "dec" : "enc");
                else fprintf(f, "| %s %zu |", s ? "dec" : "enc", row);
                for (int c = 0; c < AN_PC_COUNT; c++) {
                    double v = rp_patch_mean(b, w, s, AN_PCOMP_RESID, row, c);
                    if (isnan(v)) fprintf(f, " |");
                    else fprintf(f, " %.2f |", v);
                }
                fprintf(f, "\n");
            }
        /* the encoder's last layer: what the decoder reads */
        size_t last = b->prows[0][AN_PCOMP_RESID] - 1;
        for (int c = 0; c < AN_PC_N_ENC; c++) {
            double v = rp_patch_mean(b, w, 0, AN_PCOMP_RESID, last, c);
            if (isnan(v)) continue;
            if (an_pc_special((an_pos_class)c)) {
                if (v > best_sp) best_sp = v, bsp = c;
            } else if (v > best_dg) best_dg = v, bdg = c;
        }
    }
    if (best_sp > -1e9 && best_dg > -1e9) {
        verdict = best_sp > best_dg;
        fprintf(f, "\nAfter the encoder's last layer (what cross-attention reads), the best "
                   "special symbol restores %.2f (`%s`) and the best digit position %.2f (`%s`).\n",
                best_sp, an_pc_name((an_pos_class)bsp), best_dg, an_pc_name((an_pos_class)bdg));
    }
    return verdict;
}

static const char *word(int v)
{
    return v < 0 ? "not measured" : v == 1 ? "supports it" : v == 2 ? "is mixed" : "does not support it";
}

void rp_beyond_write(FILE *f, const rp_beyond *b, const an_hypothesis *hys, size_t n_hy)
{
    size_t survive = 0, total = 0;
    double ws = NAN, ns = NAN;
    int v_abl = -1, v_norm = -1, v_probe = -1, v_patch = -1;
    if (n_hy >= 1) v_abl = n_hy >= 2 ? (hys[1].holds ? 1 : hys[0].holds ? 2 : 0) : hys[0].holds;
    if (b->norm_n) {
        norms_section(f, b, &survive, &total, &ws, &ns);
        if (total) v_norm = 2 * survive > total ? 1 : survive ? 2 : 0;
    }
    if (b->raw) {
        fprintf(f, "\nProbes, activation patching and the verdict on the study's hypothesis "
                   "(that the special symbols store intermediate results) are made for the "
                   "quadratic task's equations; on raw text (`--raw`) they are not run.\n\n");
        return;
    }
    if (!b->byte_level)
        fprintf(f, "\nProbes and patching read the task's characters and need a byte-level "
                   "(ByT5) model; this one has a SentencePiece vocabulary, so they are skipped.\n");
    if (b->have_probe) v_probe = probe_section(f, b);
    else if (b->probe_note[0])
        fprintf(f, "\n## Probes\n\nThe probes did not run: %s.\n", b->probe_note);
    if (b->n_pairs[0] + b->n_pairs[1] || b->pairs_tried) v_patch = patch_section(f, b);
    int v_pp = v_probe < 0 ? v_patch : v_patch < 0 ? v_probe : v_probe == v_patch ? v_probe : 2;
    fprintf(f, "\n## Verdict: do the special symbols store intermediate results?\n\n");
    if (v_abl >= 0)
        fprintf(f, "- **Ablation** %s: blocking attention to the special symbols in every map %s "
                   "(character accuracy %.3f -> %.3f against %.3f for as many random digits)%s.\n",
                word(v_abl), hys[0].holds ? "hurts more than blocking digits" : "hurts no more than blocking digits",
                hys[0].base[1], hys[0].special[1], hys[0].rnd_mean[1],
                n_hy >= 2 ? (hys[1].holds ? "; in the source keys only it does too"
                                           : "; in the source keys only (encoder self and cross) it does not")
                          : "");
    if (v_norm >= 0)
        fprintf(f, "- **Value norms** %s: %zu of %zu stripe heads on special symbols keep their "
                   "stripes when each key is weighted by what it moves; the source's special "
                   "symbols get %.3f of the weight and %.3f of the value-weighted contribution.\n",
                word(v_norm), survive, total, ws, ns);
    if (v_pp >= 0)
        fprintf(f, "- **Probes and patching** %s: the probe comparison %s, the patching "
                   "comparison %s (sections above).\n",
                word(v_pp), word(v_probe), word(v_patch));
    int n_sup = (v_abl == 1) + (v_norm == 1) + (v_pp == 1);
    int n_against = (v_abl == 0) + (v_norm == 0) + (v_pp == 0);
    int n_meas = (v_abl >= 0) + (v_norm >= 0) + (v_pp >= 0);
    fprintf(f, "\nOf the %d methods measured, %d %s the hypothesis, %d %s against it and %d "
               "%s mixed: %s.\n\n",
            n_meas, n_sup, n_sup == 1 ? "supports" : "support", n_against,
            n_against == 1 ? "speaks" : "speak", n_meas - n_sup - n_against,
            n_meas - n_sup - n_against == 1 ? "is" : "are",
            n_meas == 0 ? "no verdict"
            : n_sup == n_meas ? "the hypothesis **holds** on this model"
            : n_against == n_meas ? "the hypothesis is **not supported** on this model"
            : n_sup > n_against ? "the evidence leans **towards** the hypothesis, without agreeing"
            : n_against > n_sup ? "the evidence leans **against** the hypothesis, without agreeing"
                                : "the evidence is **split**");
}
