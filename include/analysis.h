/* analysis.h - what attnscope measures on attention maps: per-head
 * statistics over a set of runs, the classification of every head into the
 * study's phenomena (after Kovaleva et al. 2019), aggregate maps (over
 * heads, layers, equations; the study's summary map; attention rollout after
 * Abnar and Zuidema 2020), and causal checks through the attention hook
 * (head ablation, blocking attention to chosen key tokens).
 *
 * It reads traces (trace.h) and drives t5_run through its hook; it never
 * looks inside the engine. Deliberately not here: drawing (an_fig_* in
 * figure.c only rasterises matrices it is given; the report, src/report/,
 * decides what to draw), and decoding policy beyond greedy.
 *
 * Conventions used throughout:
 * - A map is rows (queries) x cols (keys) floats with a row stride, as
 *   trace_map returns it. A row whose sum is below AN_ROW_MIN_SUM is "not
 *   computed" (past the end of a decode, or fully blocked) and is skipped.
 * - Self-attention offsets are k - q. Decoder self-attention is causal:
 *   row q sees keys 0..q. Cross attention has no natural diagonal; its
 *   "diagonal" is the proportional alignment a(q) = q * (n_k-1)/(n_q-1)
 *   (0 when n_q == 1): the line from the first source token at the first
 *   decoder row to the last source token at the last decoder row. Cross
 *   distances are |k - a(q)|, cross offsets k - round(a(q)).
 * - Entropies are in nats.
 *
 * For the UI (the whole integration is a few lines):
 *   an_iv iv; an_iv_init(&iv, model);             once, with the run
 *   t5_run_set_hook(run, an_hook, &iv);           trace_run chains it before
 *                                                 its capture, so the trace
 *                                                 shows the ablated maps
 *   an_trace_classes cls; an_classify_trace(trace, &cls);   after each decode
 *   an_trace_class(&cls, kind, layer, head)->label / ->cls, an_class_mark()
 *                                                 status line, thumbnails
 *   an_iv_toggle(&iv, kind, layer, head, AN_ABL_ZERO); then decode again
 *   an_iv_head(&iv, kind, layer, head)            is it ablated (a mark)
 *   an_trace_classes_free(&cls); an_iv_free(&iv); at the end */
#ifndef ATTNSCOPE_ANALYSIS_H
#define ATTNSCOPE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "t5.h"
#include "tokenizer.h"
#include "trace.h"
#include "util.h"

#define AN_N_KINDS 3

/* ---- token classes ------------------------------------------------------ */

/* Classes of ByT5 ids (byte = id - 3), for the mass-per-class statistics
 * and the class-aligned aggregates. */
typedef enum {
    AN_TC_DIGIT = 0, /* '0'..'9' */
    AN_TC_X,         /* 'x' */
    AN_TC_CARET,     /* '^' */
    AN_TC_EQ,        /* '=' */
    AN_TC_SIGN,      /* '+' '-' */
    AN_TC_STAR,      /* '*' */
    AN_TC_PAREN,     /* '(' ')' */
    AN_TC_SEMI,      /* ';' */
    AN_TC_D,         /* 'D' */
    AN_TC_LT,        /* '<' */
    AN_TC_SLASH,     /* '/' */
    AN_TC_EOS,       /* id 1 (</s>) */
    AN_TC_PAD,       /* id 0: pad, and the decoder start token */
    AN_TC_OTHER,     /* unk, any other byte, extra ids */
    AN_TC_COUNT
} an_tclass;

/* The class of a ByT5 token id (any int: ids outside the byte range are
 * AN_TC_OTHER). */
an_tclass an_token_class(int id);
/* Short display name of a class: "digit", "x", "^", "=", "+-", "*", "()",
 * ";", "D", "<", "/", "eos", "pad", "other". Static string. */
const char *an_tclass_name(an_tclass c);
/* The study's special symbols, whose attention the hypothesis experiment
 * blocks: every task symbol that is not a digit (x ^ = + - * ( ) ; D < /).
 * Not eos, pad or other bytes. */
int an_is_special(int id);
int an_is_digit(int id);

/* ---- per-head statistics ------------------------------------------------ */

#define AN_ROW_MIN_SUM 0.5   /* a row with less total mass is skipped */
#define AN_OFFSET_WIN 8      /* offsets kept: -8..+8; farther ones fall in the end bins */
#define AN_N_OFFSETS (2 * AN_OFFSET_WIN + 1)
#define AN_TOPK 3            /* top-k share: mass on the 3 largest keys of a row */
#define AN_STRIPE_COLS 3     /* stripe score: mass on the 3 columns with most total mass */
/* Decoder self-attention rows that see fewer keys are left out of the offset
 * histogram (diag, band) and of the block score: a row with 3 keys puts all
 * its mass within 3 offsets whatever the head does. */
#define AN_CAUSAL_MIN_KEYS 8

/* Statistics of one head, accumulated over maps (sums; an_stats_finish turns
 * them into means). Row statistics are means over valid query rows of every
 * map added; map statistics are means over the maps. */
typedef struct {
    /* row statistics */
    double rows;                      /* valid rows counted */
    double entropy;                   /* mean row entropy (nats) */
    double entropy_uniform;           /* mean entropy of a uniform row over the same keys */
    double distance;                  /* mean attended distance |k - q| (cross: |k - a(q)|) */
    double offset_rows;               /* rows counted in offset[] (see AN_CAUSAL_MIN_KEYS) */
    double offset[AN_N_OFFSETS];      /* mass on offset o at [o + AN_OFFSET_WIN], clipped */
    double argmax_offset[AN_N_OFFSETS]; /* share of those rows whose largest key sits at offset o */
    double class_mass[AN_TC_COUNT];   /* mass on keys of each token class */
    double topk;                      /* mass on the AN_TOPK largest keys */
    /* map statistics */
    double maps;                      /* maps counted */
    double stripe;                    /* mass on the AN_STRIPE_COLS heaviest columns */
    double stripe_class[AN_TC_COUNT]; /* the same mass split by the columns' token classes */
    double repeat;                    /* share of adjacent row pairs with change <= AN_BLOCK_SAME */
    double jump;                      /* share of adjacent row pairs with change >= AN_BLOCK_JUMP */
    double far_sim;                   /* overlap of rows half the map apart */
    double block;                     /* the block score (see an_classify) */
    double sq_contrast;               /* squares' density over their surroundings' (rule 3) */
    double sq_cover;                  /* share of valid rows inside a square (rule 3) */
    double sq_inside;                 /* mass a covered row puts inside its square (rule 3) */
    double sq_edge;                   /* row change at squares' edges over that inside (rule 3) */
    int finished;
} an_head_stats;

/* Add one map to s. kind decides the geometry (causal decoder self,
 * proportional cross diagonal); key_tokens (cols ids, may be NULL: all
 * classed AN_TC_OTHER, and stripes get no token classes) give the key
 * classes. */
void an_stats_add_map(an_head_stats *s, t5_attn_kind kind, const float *map, size_t rows,
                      size_t cols, size_t stride, const int *key_tokens);
/* Turn the sums into means (idempotent). A head with no rows stays zero. */
void an_stats_finish(an_head_stats *s);

/* Statistics of every head of a model, over every trace added. */
typedef struct {
    size_t n_layers[AN_N_KINDS]; /* encoder layers for ENC_SELF, decoder layers otherwise */
    size_t n_heads;
    size_t n_traces;
    int no_key_classes;          /* set for a model whose ids are not bytes (SentencePiece):
                                    keys are all AN_TC_OTHER, not misread as bytes */
    an_head_stats *heads[AN_N_KINDS]; /* (n_layers[kind], n_heads) */
} an_stats;

/* Sized for the trace's model (n_enc_layers, n_dec_layers, n_heads). Never NULL. */
an_stats *an_stats_new(size_t n_enc_layers, size_t n_dec_layers, size_t n_heads);
void an_stats_free(an_stats *s);
/* Add every map of a trace. */
void an_stats_add_trace(an_stats *s, const attn_trace *t);
void an_stats_finish_all(an_stats *s);
an_head_stats *an_stats_head(an_stats *s, t5_attn_kind kind, size_t layer, size_t head);

/* ---- classification ----------------------------------------------------- */

/* The thresholds. Each class is decided by one score in [0, 1]; the first
 * rule that holds, in this order, gives the class:
 *
 * 1. clear diagonal: diag >= AN_DIAG_CLEAR, where diag is the largest mean
 *    mass on one offset (end bins excluded); its offset is reported. Or a
 *    sharp line over a diffuse background, as a person sees one: diag >=
 *    AN_DIAG_SHARP_MASS, contrast >= AN_DIAG_CONTRAST and argmax >=
 *    AN_DIAG_ARGMAX, where contrast is diag over the mean mass of the other
 *    offsets of its window (best-AN_BLUR_HALF .. best+AN_BLUR_HALF) and
 *    argmax the share of rows whose largest key sits on the best offset.
 * 2. vertical stripes: stripe >= AN_STRIPE_MIN, the mean mass a row puts on
 *    the AN_STRIPE_COLS columns that receive the most attention in the
 *    map; the stripes' token classes are reported (those holding at least
 *    AN_STRIPE_TOKEN_SHARE of the stripe mass).
 * 3. sparse squares (block): block >= AN_BLOCK_MIN. Consecutive valid rows
 *    p, p' change by d = 1 - sum_k min(p_k, p'_k) (1 - histogram overlap).
 *    repeat = share of pairs with d <= AN_BLOCK_SAME, jump = share with
 *    d >= AN_BLOCK_JUMP, far_sim = mean overlap of rows half the map apart;
 *    block = repeat * (1 - far_sim) when the map has at least one jump, else
 *    0: rows repeat within squares, change at their edges, and rows far apart
 *    differ (which rules out stripes). In decoder self-attention a later row
 *    q' is compared with an earlier row q on keys 0..q only (renormalised),
 *    so that a causal row's growing prefix is not taken for a change.
 *    Or squares of high mass over a diffuse background, as a person sees
 *    them: runs of at least 2 consecutive rows that change by at most
 *    AN_BLOCK_SAME are squares, each over the keys of its rows (cross: their
 *    diagonal positions) and at most half the keys wide; sq_contrast is the
 *    mean key density inside a row's square over that on the keys beside it
 *    (the square's width on either side; decoder self: those visible),
 *    sq_cover the share of rows in a square, sq_inside the mass inside.
 *    sq_edge is the mean change between the last row of a square and the
 *    next row over the mean change between rows inside squares. The class
 *    holds when sq_contrast >= AN_SQ_CONTRAST, sq_cover >= AN_SQ_COVER,
 *    sq_inside >= AN_SQ_INSIDE and sq_edge >= AN_SQ_EDGE.
 * 4. blurred diagonal: band >= AN_BLUR_MIN, the largest mean mass on
 *    offsets c-AN_BLUR_HALF .. c+AN_BLUR_HALF for some centre c (end bins
 *    excluded); the centre is reported as the offset.
 * 5. heterogeneous: none of the above.
 *
 * Over many traces the row scores (diag, band) come from the pooled offset
 * histogram and the map scores (stripe, block) are means over maps. */
#define AN_DIAG_CLEAR 0.5
/* A sharp line needs a fifth of each row's mass on it: less is a faint
 * trace a reader overlooks next to the rest of the map. */
#define AN_DIAG_SHARP_MASS 0.2
/* Five times the mean of the offsets beside it (within the blur window): a
 * Gaussian band with sigma 1 is 4.0 times as heavy at its centre as on
 * average over the 6 offsets around it, and wider bands less, so bands stay
 * blurred; a line of mass w over a flat background of n keys scores
 * w (n - 1) / (1 - w): 7.4 for the 0.28 over 20 keys of the bundled model's
 * encoder layer 0 heads, which a person calls a clear diagonal. */
#define AN_DIAG_CONTRAST 5.0
/* Most rows (60 %) must peak on the line, so a few very sharp rows in a map
 * that is otherwise elsewhere do not make a diagonal. */
#define AN_DIAG_ARGMAX 0.6
#define AN_STRIPE_MIN 0.5
#define AN_STRIPE_TOKEN_SHARE 0.2
#define AN_BLOCK_SAME 0.25
#define AN_BLOCK_JUMP 0.5
#define AN_BLOCK_MIN 0.4
/* Squares 2.5 times as dense as the keys beside them: a square of s of n
 * keys holding w over a flat rest scores w (n - s) / (s (1 - w)), 4.0 for
 * 0.5 over 5 of 20 keys and 3.3 for 0.4 over 4, which a person sees at once
 * (2.8 with 60 % noise); 1 is no square at all. */
#define AN_SQ_CONTRAST 2.5
/* Most rows (60 %) in a square, as for diagonals: a few repeated rows in a
 * map that is otherwise elsewhere do not make squares. */
#define AN_SQ_COVER 0.6
/* A third of a row's mass inside its square: a square spreads its mass over
 * several keys, so it needs more than a line's fifth to stand out. */
#define AN_SQ_INSIDE 0.33
/* A square has edges: rows change at least twice as much from one square to
 * the next as within one. A Gaussian band cut into runs by noise changes
 * about as much at a cut as inside a run (1.2 to 1.8 on the synthetic
 * bands, whose runs also score up to 2.9 on contrast), squares 2.1 and up. */
#define AN_SQ_EDGE 2.0
#define AN_BLUR_HALF 3
#define AN_BLUR_MIN 0.5

typedef enum {
    AN_CLASS_DIAG = 0, /* clear diagonal */
    AN_CLASS_BLUR,     /* blurred diagonal */
    AN_CLASS_STRIPES,  /* vertical stripes */
    AN_CLASS_BLOCK,    /* sparse squares / block */
    AN_CLASS_HETERO,   /* heterogeneous */
    AN_CLASS_COUNT
} an_class;

/* "clear diagonal", "blurred diagonal", "vertical stripes", "sparse squares",
 * "heterogeneous"; and a one-letter mark for thumbnails: D B V S H. */
const char *an_class_name(an_class c);
char an_class_mark(an_class c);

typedef struct {
    an_class cls;
    int offset;        /* diagonal classes: the offset (k - q) or band centre */
    double diag;       /* rule 1 score */
    double contrast;   /* rule 1: diag over the mean of the other offsets of its window */
    double argmax;     /* rule 1: share of rows whose largest key is on the best offset */
    double stripe;     /* rule 2 score */
    double block;      /* rule 3 score */
    double sq_contrast; /* rule 3: squares' key density over their surroundings' */
    double sq_cover;   /* rule 3: share of rows inside a square */
    double sq_inside;  /* rule 3: mass a covered row puts inside its square */
    double sq_edge;    /* rule 3: row change at squares' edges over the change inside them */
    double band;       /* rule 4 score */
    int band_centre;
    unsigned stripe_classes; /* bit c set: class c holds >= AN_STRIPE_TOKEN_SHARE of the stripes */
    char label[48];    /* "diag +0", "blur -1", "stripes x ^ =", "squares", "hetero" */
} an_head_class;

/* Classify finished statistics (finishes them when needed). */
void an_classify(an_head_stats *s, an_head_class *out);

/* Classify every head of one trace: out is (n_layers[kind], n_heads) for
 * each kind, laid out like an_stats.heads (out[kind][layer*n_heads+head]).
 * The arrays are allocated here; free with an_trace_classes_free. This is
 * what the UI calls after each decode. */
typedef struct {
    size_t n_layers[AN_N_KINDS], n_heads;
    an_head_class *cls[AN_N_KINDS];
} an_trace_classes;
void an_classify_trace(const attn_trace *t, an_trace_classes *out);
void an_trace_classes_free(an_trace_classes *c);
/* The class of one head, NULL when out of range or not classified. */
const an_head_class *an_trace_class(const an_trace_classes *c, t5_attn_kind kind, size_t layer,
                                    size_t head);

/* ---- aggregates ---------------------------------------------------------- */

/* Mean of one trace's maps of kind over a layer (or all, layer < 0) and a
 * head (or all, head < 0). out has room for rows*cols floats (the trace's
 * map size for kind, from trace_map); rows and cols are written. */
void an_mean_map(const attn_trace *t, t5_attn_kind kind, long layer, long head, float *out,
                 size_t *rows, size_t *cols);

/* A grid that averages maps of different sizes cell by cell (aligned by
 * position: cell (r, c) is the mean over the maps that have it), or by
 * token class (an_grid_add_by_class). */
typedef struct {
    size_t rows, cols;
    double *sum;    /* (rows, cols) */
    double *count;  /* (rows, cols) */
} an_grid;

/* An empty grid of rows x cols (never NULL: allocation failure aborts, as
 * xcalloc does). Free with an_grid_free, which takes NULL. */
an_grid *an_grid_new(size_t rows, size_t cols);
void an_grid_free(an_grid *g);
/* Add a map cell by cell (cells beyond the grid are dropped). Rows that are
 * not computed (sum < AN_ROW_MIN_SUM) are skipped. */
void an_grid_add(an_grid *g, const float *map, size_t rows, size_t cols, size_t stride);
/* Add a map by class: grid (AN_TC_COUNT, AN_TC_COUNT), cell (a, b) the mean
 * mass that a query of class a puts on keys of class b. */
void an_grid_add_by_class(an_grid *g, const float *map, size_t rows, size_t cols, size_t stride,
                          const int *q_tokens, const int *k_tokens);
/* out (rows, cols) = sum / count, 0 where nothing was added. */
void an_grid_mean(const an_grid *g, float *out);

/* The study's summary map for one trace: out (n_layers, cols), entry (l, k)
 * the attention key k receives on layer l, summed over heads and averaged
 * over valid query rows. kind ENC_SELF (encoder layers, source keys), CROSS
 * (decoder layers, source keys) or DEC_SELF. *cols gets the key count. */
void an_summary_map(const attn_trace *t, t5_attn_kind kind, float *out, size_t *cols);

/* Attention rollout (Abnar and Zuidema 2020) through the self-attention of
 * one stack (ENC_SELF or DEC_SELF): with A_l the mean over heads of layer l,
 * A'_l = 0.5 I + 0.5 A_l with rows renormalised, R = A'_L ... A'_1. out (n, n),
 * row q: how much the last layer's position q draws on each input position.
 * *n gets the size. */
void an_rollout(const attn_trace *t, t5_attn_kind kind, float *out, size_t *n);

/* Rollout from the decoder into the source, the same rule carried through
 * cross attention: with R_enc the encoder rollout, start from R_dd = I
 * (decoder x decoder) and R_ds = 0 (decoder x source); for each decoder
 * layer, self attention mixes decoder positions (A' = 0.5 I + 0.5 A,
 * renormalised: R_dd = A' R_dd, R_ds = A' R_ds), then cross attention C (mean
 * over heads) moves half of each position onto the source through the
 * encoder (R_ds = 0.5 R_ds + 0.5 C R_enc, R_dd = 0.5 R_dd). out (n_rows,
 * n_src) = R_ds: how much each decoder position draws on each source token
 * (rows sum to 1 minus what stays on decoder positions). *rows, *cols get
 * the size. */
void an_rollout_cross(const attn_trace *t, float *out, size_t *rows, size_t *cols);

/* ---- causal checks through the hook --------------------------------------- */

typedef enum { AN_ABL_NONE = 0, AN_ABL_ZERO, AN_ABL_MEAN } an_abl_mode;

/* Which keys to block (their probabilities are set to 0 and each row is
 * renormalised over the remaining keys, the same as masking the keys before
 * the softmax; a row with nothing left stays zero). */
typedef enum {
    AN_BLOCK_NONE = 0,
    AN_BLOCK_SPECIAL,       /* keys whose token an_is_special */
    AN_BLOCK_RANDOM_DIGITS, /* per row, as many digit keys as special keys among the
                               keys the row sees, chosen by a fixed random priority
                               per (seed, stack, position) */
} an_block_rule;

/* An intervention: heads to ablate and keys to block, plus an optional
 * trace that captures the maps after the changes. Install it with
 * an_greedy / an_forced (which set and clear the hook), or by hand with
 * t5_run_set_hook(r, an_hook, iv) after an_iv_set_tokens. */
typedef struct {
    size_t n_layers[AN_N_KINDS], n_heads;
    unsigned char *mode[AN_N_KINDS];  /* (n_layers[kind], n_heads) an_abl_mode */
    an_grid **means[AN_N_KINDS];      /* AN_ABL_MEAN: position-aligned mean map of each head
                                         (borrowed; NULL entries fall back to uniform rows) */
    an_block_rule block;
    unsigned block_kinds;             /* bit kind set: block keys in maps of that kind */
    uint64_t block_seed;
    /* the tokens of the run, kept current by an_greedy / an_forced */
    const int *src;
    size_t n_src;
    int *dec;                         /* (dec_cap) decoder-input tokens so far, owned */
    size_t n_dec, dec_cap;
    attn_trace *capture;              /* borrowed, may be NULL */
    size_t events;                    /* hook calls seen (for tests) */
} an_iv;

/* Sized for a model. Nothing ablated or blocked. Free with an_iv_free. */
void an_iv_init(an_iv *iv, const t5_model *m);
void an_iv_free(an_iv *iv);
/* Set one head's mode (out-of-range heads are ignored); clear all heads. */
void an_iv_set_head(an_iv *iv, t5_attn_kind kind, size_t layer, size_t head, an_abl_mode mode);
an_abl_mode an_iv_head(const an_iv *iv, t5_attn_kind kind, size_t layer, size_t head);
void an_iv_clear_heads(an_iv *iv);
/* Toggle one head between AN_ABL_NONE and mode; returns the new mode. */
an_abl_mode an_iv_toggle(an_iv *iv, t5_attn_kind kind, size_t layer, size_t head, an_abl_mode mode);
/* Number of heads ablated. */
size_t an_iv_count(const an_iv *iv);

/* The hook (t5_hook_fn): applies the intervention to an event, then copies
 * it into iv->capture when set. */
void an_hook(void *user, const t5_attn_event *ev);

/* Greedy decoding under an intervention: like t5_greedy, but tracks the
 * tokens the hook needs and, when iv->capture is set, fills that trace
 * (tokens and maps, as trace_run does). iv may be NULL (no change).
 * Returns the generated count (eos included when produced) or -1. */
long an_greedy(t5_run *r, an_iv *iv, const int *src, size_t n_src, int *out, size_t max_len,
               as_err *err);

/* Teacher forcing under an intervention (logits (T, V) may be NULL). */
int an_forced(t5_run *r, an_iv *iv, const int *src, size_t n_src, const int *dec_in, size_t T,
              float *logits, as_err *err);

/* Reference outputs of a set of texts (report --raw): per example the
 * tokens (eos included when there is one) that a model under an
 * intervention is scored against. */
typedef struct {
    int **ids;     /* (count) arrays of n[i] ids */
    size_t *n;
    size_t count;
} an_refs;

/* A set of examples: source and target text, quad_kind of each, how many
 * threads score it (each with its own run; 0 or 1: the caller's run only;
 * scores do not depend on the thread count) and the model's tokenizer,
 * which encodes the sources and decodes the outputs (NULL: ByT5 bytes).
 * With refs NULL the examples are equations and are scored with the task's
 * scores; with refs set they are any text (tgt and kind may be NULL) and
 * are scored against refs (see an_score_set).
 * Borrowed: everything must outlive the calls that take the set. */
typedef struct {
    const char *const *src;
    const char *const *tgt;
    const int *kind;
    size_t n;
    size_t threads;
    const tok_vocab *tok;
    const an_refs *refs;
} an_examples;

/* The references of ex on r: each target encoded with eos where ex->tgt
 * has targets, else the unablated greedy output (at most the run's
 * max_tgt - 1 tokens). Returns 0, or -1 with err naming the example (a
 * source or target that does not fit, an empty output). Free with
 * an_refs_free. */
int an_refs_make(t5_run *r, const an_examples *ex, an_refs *out, as_err *err);
void an_refs_free(an_refs *refs);

/* text with eos in ex's tokenizer (NULL: ByT5) into ids: the count, or 0
 * when it does not fit cap ids (or the tokenizer refuses it). */
size_t an_encode(const tok_vocab *tok, const char *text, int *ids, size_t cap);
/* ids to text in the tokenizer's way (NULL: ByT5); see tok_decode. */
size_t an_decode(const tok_vocab *tok, const int *ids, size_t n, char *out, size_t cap);
/* Bytes of decoded text to allow per generated token (a SentencePiece piece
 * is a few bytes; ByT5 at most 4 per UTF-8 character). */
#define AN_TEXT_PER_TOKEN 16

/* Decode each source of ex under iv (at most the run's max_tgt - 1 tokens),
 * on r alone (ex->threads is not used), and score it against its target
 * with the task's scores (quad.h). out gets full solve, character accuracy
 * and answer accuracy (shares in [0, 1]). With ex->refs set (raw text),
 * out gets instead the mean log-likelihood per reference token in nats
 * (teacher-forced), the share of reference tokens that are the argmax
 * next token (teacher-forced agreement) and the share of examples whose
 * greedy output is the reference exactly. All three fall when an
 * intervention hurts, so drops (base - ablated) read the same way in both
 * modes. progress (may be NULL) is called after each example. */
typedef void (*an_progress_fn)(void *user, size_t done);
int an_score_set(t5_run *r, an_iv *iv, const an_examples *ex, double out[3],
                 an_progress_fn progress, void *puser, as_err *err);

/* ---- experiments (experiment.c) ------------------------------------------ */

/* an_score_set over ex, on ex->threads threads (each decodes with its own
 * run sized like r, and its own copy of iv, whose capture is not used). With
 * one thread it is an_score_set on r and iv itself. */
int an_score_examples(t5_run *r, an_iv *iv, const an_examples *ex, double out[3],
                      an_progress_fn progress, void *puser, as_err *err);

/* What an_collect calls after each example; every field may be NULL. */
typedef struct {
    an_iv *iv;                                     /* interventions while decoding */
    void (*each)(void *user, const attn_trace *t); /* the example's trace */
    void *each_user;
    an_progress_fn progress;                       /* the count done */
    void *progress_user;
} an_collector;

/* Decode every example of ex greedily (encoded by ex->tok; at most
 * min(t, run) max_tgt - 1 tokens) on r into the trace t, under c->iv, and
 * call c->each after each one. Returns 0, or -1 with err naming the example
 * (a source that does not fit, a failed decode). */
int an_collect(t5_run *r, const an_examples *ex, attn_trace *t, const an_collector *c,
               as_err *err);

/* The position-aligned mean map of every head (for AN_ABL_MEAN): grids
 * (rows, cols) per kind, laid out like an_stats.heads; add traces with
 * an_means_add. */
typedef struct {
    size_t n_layers[AN_N_KINDS], n_heads;
    an_grid **g[AN_N_KINDS];
} an_means;
void an_means_init(an_means *mm, const t5_model *m, size_t max_src, size_t max_tgt);
void an_means_add(an_means *mm, const attn_trace *t);
void an_means_free(an_means *mm);

/* Head importance: the three scores (full, chars, answer) without any
 * intervention, then with each head alone ablated (mode ZERO, or MEAN with
 * means). drop = base - ablated, 3 values per head, laid out
 * [kind][(layer*n_heads + head)*3 + score]. progress counts decodes. */
typedef struct {
    size_t n_layers[AN_N_KINDS], n_heads;
    double base[3];
    double *drop[AN_N_KINDS];
} an_importance;
int an_head_importance(t5_run *r, const an_examples *ex, an_abl_mode mode, const an_means *means,
                       an_importance *out, an_progress_fn progress, void *puser, as_err *err);
void an_importance_free(an_importance *imp);

/* The study's hypothesis, that the special symbols (x ^ = ...) hold the
 * results of the computation, as an experiment: scores with attention to
 * special-symbol keys blocked in the maps of the kinds in `kinds` (bit per
 * t5_attn_kind), against `draws` runs that each block as many random digit
 * keys (AN_BLOCK_RANDOM_DIGITS with seeds seed+1..seed+draws). The
 * hypothesis is supported when blocking the specials lowers character
 * accuracy below the random baseline's mean by more than AN_HYP_SD of its
 * standard deviations (and by at least AN_HYP_MIN_GAP). */
#define AN_HYP_SD 2.0
#define AN_HYP_MIN_GAP 0.01
typedef struct {
    size_t n, draws;
    unsigned kinds;
    double base[3], special[3];
    double rnd_mean[3], rnd_sd[3]; /* sample standard deviation over draws */
    double *rnd;                   /* (draws, 3) */
    double src_special, src_digits; /* mean count per source (eos excluded) */
    int holds;
} an_hypothesis;
int an_hypothesis_run(t5_run *r, const an_examples *ex, unsigned kinds, size_t draws,
                      uint64_t seed, an_hypothesis *out, an_progress_fn progress, void *puser,
                      as_err *err);
void an_hypothesis_free(an_hypothesis *h);

/* ---- the classifier's check (synth.c) ----------------------------------- */

/* A labelled set of synthetic maps (AN_SYNTH_N x AN_SYNTH_N, encoder
 * self-attention), fixed by a seed: sharp lines over a flat background at
 * offsets -2, 0, +1, +3 with line mass 0.28 .. 0.9 and noise 0 .. 60 %,
 * Gaussian bands (sigma 1, 1.5, 2.5) at the same offsets, two-column
 * stripes, squares of 3, 4, 5 and 10 keys along the diagonal holding 0.4
 * to 0.9 of each row, uniform maps with noise and random rows. */
#define AN_SYNTH_N 20
#define AN_SYNTH_MAX 128
typedef struct {
    float map[AN_SYNTH_N * AN_SYNTH_N];
    an_class label;
    int offset;      /* diagonals: the line's offset or the band's centre */
    char name[48];
} an_synth_map;

/* Fill set (room for AN_SYNTH_MAX) and return the count. */
size_t an_synth_maps(an_synth_map *set);
/* Classify one map alone (an_stats_add_map + an_classify). */
void an_synth_classify(const an_synth_map *m, an_head_class *out);
/* 1 when c is m's label (and, for diagonals, its offset; a band's centre
 * within one, since a band cut by the map's edge leans inward). */
int an_synth_right(const an_synth_map *m, const an_head_class *c);
/* The confusion matrix (rows: label, columns: class) over the whole set;
 * returns the number of maps not an_synth_right, *n_maps the set's size. */
size_t an_synth_confusion(size_t conf[AN_CLASS_COUNT][AN_CLASS_COUNT], size_t *n_maps);

/* ---- figures (figure.c, through cairo) -------------------------------- */

/* One heatmap panel: data (rows, cols), row-major with stride cols, values
 * drawn on a viridis-like ramp from 0 to the figure's vmax (NaN: not
 * applicable, drawn light grey). Labels (may be
 * NULL) name the rows and columns; title may be NULL. */
typedef struct {
    const float *data;
    size_t rows, cols;
    const char *title;
    const char *const *row_labels;
    const char *const *col_labels;
    const char *const *cell_text;  /* (rows*cols) short texts drawn in the cells, or NULL */
} an_panel;

/* Draw panels in a grid of grid_cols columns with a figure title (lines
 * separated by '\n') and one
 * colour bar (0 .. vmax, larger values saturate; vmax == 0 takes the 99.5th
 * percentile of the values, at least 1/20 of the largest; vmax < 0 scales
 * to -vmax and draws no colour bar, for categorical maps), and write
 * base.png and base.svg, each atomically. Cells are cell_px pixels (0:
 * chosen from the largest panel, 4..18); labels are drawn when a cell is
 * at least 7 pixels. *w and *h (may be NULL) get the image size, the same
 * in both files (SVG in user units = pixels). Returns 0 or -1. */
int an_fig_heatmaps(const char *base, const char *title, const an_panel *panels, size_t n,
                    size_t grid_cols, float vmax, size_t cell_px, int *w, int *h, as_err *err);

/* A bar chart: n bars with labels, values and error half-widths (err_hw may
 * be NULL), y from 0 to ymax (<= 0: from the data). Writes base.png/.svg. */
int an_fig_bars(const char *base, const char *title, const char *const *labels,
                const double *values, const double *err_hw, size_t n, double ymax, int *w, int *h,
                as_err *err);

/* Release cairo's and fontconfig's process-wide caches (call once at exit,
 * after the last figure, so leak checkers see a clean process). */
void an_fig_cleanup(void);

#endif
