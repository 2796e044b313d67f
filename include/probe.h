/* probe.h - where a model keeps the quantities of the quadratic task:
 * linear probes from hidden states (an_probe_*) and activation patching
 * between a clean and a corrupted equation (an_patch_*), both on ByT5
 * (byte-level) models of the task, through the hidden-state hook
 * (hidden.h). Plus the small ridge-regression solver they use.
 *
 * Deliberately not here: the hooks and captures themselves (hidden.h);
 * option parsing (src/cli/cmd_probe.c, cmd_patch.c). */
#ifndef ATTNSCOPE_PROBE_H
#define ATTNSCOPE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "quad.h"
#include "t5.h"
#include "util.h"

/* Load a model of the task for the probes and patching: dir must have a
 * byte-level (ByT5) vocabulary, since position classes are read off the
 * characters; then t5_load_mapped. Returns 0, or -1 with a message (a
 * SentencePiece model, a loading error). */
int an_task_model_load(t5_model *m, const char *dir, as_err *err);

/* ---- position classes ---------------------------------------------------- */

/* Where a position sits in an equation. Encoder (source bytes of the
 * canonical "{a}x^2{sign}{|b|}x{sign}{|c|}=0" and eos) and decoder (rows of
 * a teacher-forced target, by the character each row is fed). */
typedef enum {
    AN_PC_A = 0,    /* digits of a */
    AN_PC_X1,       /* the x of x^2 */
    AN_PC_CARET,    /* ^ */
    AN_PC_TWO,      /* the exponent 2 */
    AN_PC_SIGN_B,   /* + or - before b */
    AN_PC_B,        /* digits of |b| */
    AN_PC_X2,       /* the x after b */
    AN_PC_SIGN_C,   /* + or - before c */
    AN_PC_C,        /* digits of |c| */
    AN_PC_EQ,       /* = */
    AN_PC_ZERO,     /* the 0 after = */
    AN_PC_EOS,      /* </s> */
    AN_PC_DEXPR,    /* decoder: fed a character inside D=( ... ) */
    AN_PC_DEQ,      /* decoder: fed the = after D=(...), about to write D */
    AN_PC_DVAL,     /* decoder: fed a character of D's value */
    AN_PC_XEXPR,    /* decoder: fed a character inside the first x=( ... ) */
    AN_PC_COUNT
} an_pos_class;
#define AN_PC_N_ENC 12 /* the first 12 classes are encoder positions */

/* Short names: "a", "x", "^", "2", "+-b", "b", "x'", "+-c", "c", "=", "0",
 * "eos", "D=(..)", ")=", "D", "x=(..)". Static. */
const char *an_pc_name(an_pos_class c);
/* 1 for the special symbols (x ^ = + - eos and the decoder's ')='),
 * 0 for digits and decoder digit runs. */
int an_pc_special(an_pos_class c);

/* The class of each source byte of a canonical source (n_src bytes + eos):
 * cls has room for strlen(src) + 1. Returns 0, or -1 when src is not
 * canonical. */
int an_pc_source(const char *src, an_pos_class *cls);
/* The class of each decoder row of a teacher-forced target (row r is fed
 * target[r-1], row 0 the start token): cls has room for strlen(tgt) + 1
 * rows; rows outside every class get AN_PC_COUNT. */
void an_pc_target(const char *tgt, an_pos_class *cls);

/* ---- ridge regression ------------------------------------------------------ */

/* One fit: rows of X (n, C floats, row stride C) chosen by index lists;
 * Y (n, m) doubles. The columns form groups (group[k] = index of its first
 * column, sizes in gsize): a group of 1 is a regression scored by mean
 * squared error, a larger group a one-hot classification scored by the
 * accuracy of its argmax. Features are standardised on the training rows;
 * each group's penalty is chosen from AN_RIDGE_LAMBDAS (times the row count)
 * on the val rows after fitting on the fit rows, then the model is refit on
 * fit + val and predicts the test rows into pred (n_test, m). */
#define AN_RIDGE_N_LAMBDA 7
typedef struct {
    const float *X;
    size_t C;
    const double *Y;
    size_t m;
    const size_t *fit, *val, *test;
    size_t n_fit, n_val, n_test;
    const size_t *gsize;      /* (n_groups) columns of each group, in order */
    size_t n_groups;
} an_ridge_job;
/* Returns 0, or -1 when a system is not positive definite (err filled). */
int an_ridge(const an_ridge_job *job, double *pred, as_err *err);

/* ---- probes ------------------------------------------------------------------ */

/* Quantities probed: AN_PQ_* regression targets, then one 10-class target
 * per digit place of |D| (units first; leading zeros are the digit 0). */
enum { AN_PQ_A, AN_PQ_B, AN_PQ_C, AN_PQ_B2, AN_PQ_4AC, AN_PQ_D, AN_PQ_SQRTD, AN_PQ_X1, AN_PQ_X2,
       AN_PQ_N_VALUES };
#define AN_PQ_MAX_PLACES 12

typedef void (*an_probe_progress)(void *user, size_t done, size_t total);

typedef struct {
    size_t n_eq, n_train, n_test;  /* distinct equations used, and the split */
    size_t n_enc_slots, n_dec_slots; /* encoder: embeddings + layers; decoder the same */
    size_t n_targets;              /* AN_PQ_N_VALUES + places */
    size_t places;                 /* digit places of |D| probed */
    char (*target_name)[24];       /* (n_targets) "a", ..., "sqrt(D)", "x1", "x2", "D 10^0" ... */
    /* (n_targets, n_slots, AN_PC_COUNT): held-out R^2 (values) or accuracy
     * (digits), NaN where the class is not in that stack or too few equations
     * have it; shuffled: the same with the training labels permuted. */
    double *score, *shuffled;
    double *chance;                /* (places) the held-out share of the most common digit */
    size_t n_slots;                /* n_enc_slots + n_dec_slots: rows enc 0..Le, dec 0..Ld */
    double seconds;
} an_probe_result;

/* Run the probes on a ByT5 model of the task: the equations (duplicates
 * removed), split 80/20 by equation with seed, one teacher-forced pass each
 * on the exact solver's target, hidden states (the residual stream: the
 * embeddings and after each layer) averaged over each position class's
 * positions, one ridge fit per (slot, class, target group) and the same
 * with shuffled labels. Needs at least 20 distinct equations. Returns 0 or
 * -1 (err). Free with an_probe_free. */
int an_probe_run(const t5_model *m, const quad_eq *eqs, size_t n, uint64_t seed,
                 an_probe_result *out, an_probe_progress progress, void *puser, as_err *err);
void an_probe_free(an_probe_result *r);
/* Row label of a slot: "enc emb", "enc 1", ..., "dec emb", "dec 1"... (static buffer per call
 * site: buf, cap). */
const char *an_probe_slot_name(const an_probe_result *r, size_t slot, char *buf, size_t cap);
int an_probe_is_digit(const an_probe_result *r, size_t target);
/* The best held-out score of target t and its slot and class: over every
 * class (special < 0), or the special symbols (1) or digits (0) before D's
 * value is written; in both stacks (stack < 0), the encoder (0) or the
 * decoder (1). NaN (slot and class untouched) when no cell qualifies. */
double an_probe_best(const an_probe_result *r, size_t t, int special, int stack, size_t *slot,
                     size_t *cls);

/* Write dir/probe.tsv, probe.json, probe.md and the figure probe.png/.svg
 * (one heatmap panel per target, slots x classes). Each file atomically.
 * model names the model in the texts. Returns 0 or -1. */
int an_probe_write(const an_probe_result *r, const char *dir, const char *model, as_err *err);

/* ---- activation patching ---------------------------------------------------- */

/* Components patched: the residual stream (the embeddings as layer 0, then
 * after each layer), each layer's self-attention output, the decoder's
 * cross-attention output, each layer's feed-forward output. */
enum { AN_PCOMP_RESID, AN_PCOMP_ATTN, AN_PCOMP_CROSS, AN_PCOMP_MLP, AN_PCOMP_COUNT };
/* "residual", "attention", "cross attention", "MLP". */
const char *an_pcomp_name(int comp);

typedef struct {
    quad_eq clean, corrupt;
    char changed;               /* 'a', 'b' or 'c' */
    char clean_src[QUAD_SOURCE_MAX], corrupt_src[QUAD_SOURCE_MAX];
    char clean_tgt[QUAD_TARGET_MAX];
    size_t n_src;               /* source tokens (eos included) */
    size_t n_dec;               /* decoder rows run: up to the last scored one */
    size_t n_layers[2];
    size_t n_scored;            /* rows scored: those that predict a digit of D's value */
    double lp_clean, lp_corrupt; /* summed log-probability of the clean target there */
    /* [stack][comp]: (rows, positions) restored share (lp_patched - lp_corrupt) /
     * (lp_clean - lp_corrupt); rows = layers + 1 for RESID (row 0 the
     * embeddings), layers otherwise; NULL for the encoder's CROSS.
     * positions = n_src (encoder) or n_dec (decoder). */
    double *restored[2][AN_PCOMP_COUNT];
    size_t rows[2][AN_PCOMP_COUNT];
    size_t runs;                /* forward passes made */
    double seconds;
} an_patch_result;

/* Check that clean and corrupt differ in exactly one coefficient and have
 * sources of the same length (so positions line up); 0, or -1 with a
 * message saying what differs. */
int an_patch_pair_check(const quad_eq *clean, const quad_eq *corrupt, char *changed, as_err *err);

/* Patch every (component, layer, position) of a ByT5 model of the task:
 * run the clean equation, teacher-forced on its exact target, recording
 * every state; then the corrupted one on the same target, once plain and
 * once per patch with that one row copied from the clean run, and measure
 * the log-probability of the clean target's characters at D's digits.
 * Decoder patches reuse the corrupted encoding and the key/value cache
 * before the patched position. Returns 0 or -1 (err: a mismatched pair, a
 * change that does not move the score). Free with an_patch_free. */
int an_patch_run(const t5_model *m, const quad_eq *clean, const quad_eq *corrupt,
                 an_patch_result *out, as_err *err);
void an_patch_free(an_patch_result *r);

/* Write dir/patch.tsv, patch.json, patch.md and the figure patch.png/.svg
 * (a heatmap per stack and component, layers x positions). */
int an_patch_write(const an_patch_result *r, const char *dir, const char *model, as_err *err);

#endif
