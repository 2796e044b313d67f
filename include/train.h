/* train.h - training a T5 on the CPU: packed mini-batches, a training
 * forward pass that keeps its activations, the backward pass through every
 * layer, AdamW with gradient clipping and a learning-rate schedule, the
 * training configuration (libconfig), checkpoints and the training loop.
 *
 * Batches are packed: the tokens of all sequences sit one after another, so
 * the linear layers never compute on padding and each attention block is
 * exactly len x len. The numbers are those of Hugging Face's
 * T5ForConditionalGeneration on the equivalent padded batch (padding masked
 * in the encoder and cross attention, labels -100 ignored).
 *
 * Threads: a trainer uses omp_get_max_threads() threads (at trainer_new)
 * data-parallel: each thread runs the whole forward and backward pass of
 * its share of the batch's sequences with single-threaded OpenBLAS, and the
 * gradients are summed in a fixed order, so a run is reproducible bit for bit
 * for a given thread count (and agrees to rounding across counts). OpenBLAS
 * is set to one thread, so two thread pools never fight for the cores.
 *
 * Deliberately not here: inference and decoding (t5.h), the task's data
 * (quad.h). */
#ifndef ATTNSCOPE_TRAIN_H
#define ATTNSCOPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "quad.h"
#include "t5.h"
#include "util.h"

/* ---- batches -------------------------------------------------------------- */

/* A packed batch of (source, target) pairs. Sequence i's source tokens are
 * src[src_off[i] .. src_off[i]+src_len[i]), its decoder inputs and labels
 * dec_in/labels[tgt_off[i] .. tgt_off[i]+tgt_len[i]). */
typedef struct {
    size_t n;                    /* sequences */
    size_t *src_off, *src_len;   /* (cap_seqs) */
    size_t *tgt_off, *tgt_len;   /* (cap_seqs) */
    int *src;                    /* (cap_src_tok) source ids */
    int *dec_in;                 /* (cap_tgt_tok) decoder inputs (start token first) */
    int *labels;                 /* (cap_tgt_tok) next-token labels; < 0 is ignored */
    int *aux;                    /* (cap_tgt_tok, 2) the auxiliary loss's labels at each
                                    target position (digits of b^2 and |4ac|, -1: none);
                                    -1 unless train_batch_aux filled them */
    size_t n_src, n_tgt;         /* tokens in use */
    size_t max_src, max_tgt;     /* longest source / target sequence in the batch */
    size_t cap_seqs, cap_src_tok, cap_tgt_tok;
} train_batch;

/* Allocate a batch for at most cap_seqs sequences and the token totals. */
void train_batch_init(train_batch *b, size_t cap_seqs, size_t cap_src_tok, size_t cap_tgt_tok);
void train_batch_free(train_batch *b);
void train_batch_clear(train_batch *b);

/* Append one pair: src (ns >= 1 tokens, eos included by the caller) and
 * target tgt (nt >= 1 tokens, eos included). The decoder input is
 * start, tgt[0], ..., tgt[nt-2]; the labels are tgt. Returns 0, or -1 when
 * the batch is full or a length is 0. */
int train_batch_add(train_batch *b, const int *src, size_t ns, const int *tgt, size_t nt,
                    int start);

/* Append one pair with explicit decoder inputs and labels (T tokens each;
 * labels < 0 are ignored), for tests that mirror a padded HF batch. */
int train_batch_add_raw(train_batch *b, const int *src, size_t ns, const int *dec_in,
                        const int *labels, size_t T);

/* The auxiliary loss's labels of one pair (aux.c): aux (T, 2) gets, at each
 * position of labels (ByT5 ids) that writes a digit of the discriminant's
 * value (after "D=(...)=", or the last '=' before the first ';'), the digit
 * at the same place of b^2 and of |4ac| of the equation parsed from src; -1
 * elsewhere, and everywhere when src does not parse. Returns the number of
 * labelled positions. */
size_t train_aux_labels(const int *src, size_t ns, const int *labels, size_t T, int *aux);
/* train_aux_labels for every pair of b, into b->aux. */
void train_batch_aux(train_batch *b);

/* Number of labels >= 0 (the target tokens the loss counts). */
size_t train_batch_n_labels(const train_batch *b);

/* ---- forward and backward --------------------------------------------------- */

typedef struct t5_trainer t5_trainer;

/* A trainer for model m (which must outlive it) and batches of at most
 * cap_seqs sequences of at most max_src source and max_tgt target tokens.
 * Allocates gradients and every activation once (per thread). Sets OpenBLAS
 * to one thread (see the header comment). Never NULL (exits on out of
 * memory). */
t5_trainer *trainer_new(t5_model *m, size_t cap_seqs, size_t max_src, size_t max_tgt);
void trainer_free(t5_trainer *t);

/* The training-only options of a trainer. All zeros (what trainer_new
 * starts with) is plain T5 training, computed exactly as before the options
 * existed. */
typedef struct {
    float label_smoothing;  /* loss.label_smoothing in [0, 1): PyTorch's */
    float dropout;          /* model.dropout_rate in [0, 1): T5's dropout at
                               T5's places (after the embeddings, on the
                               attention probabilities, the feed-forward
                               hidden layer and each residual branch, after
                               each stack's final layer norm) */
    uint64_t dropout_seed;  /* with the step (trainer_set_step), the masks */
    float aux_weight;       /* loss.aux_weight >= 0: the auxiliary loss's weight */
} trainer_opts;

/* The auxiliary head (loss.aux_weight > 0): a linear map (TRAIN_AUX_OUT, C)
 * of the decoder's final hidden states (what the output layer sees) to two
 * groups of 10 logits, the digits of b^2 and of |4ac| at the place of the
 * discriminant's digit being written (train_batch's aux labels). Its loss is
 * the mean over the labelled positions of the two cross-entropies' mean;
 * the step minimises loss + aux_weight * aux loss. The head is the
 * trainer's, not the model's: it starts at zero and is never saved with the
 * model (the checkpoint keeps it for --resume). */
#define TRAIN_AUX_OUT 20

/* Set the options for the next train_forward and train_backward. */
void trainer_set_opts(t5_trainer *t, const trainer_opts *o);

/* The update the next train_forward computes: its dropout masks depend only
 * on (dropout_seed, step, place, sequence of the batch, element), not on
 * the threads or on what ran before, so a resumed run drops exactly what an
 * uninterrupted one does. 0 until set. */
void trainer_set_step(t5_trainer *t, uint64_t step);

/* The head's weights (TRAIN_AUX_OUT, d_model), its AdamW moments m, v and
 * their update count (for checkpoints; writable), and the gradient of the
 * last train_backward (valid until the next train_zero_grad). */
float *trainer_aux_head(t5_trainer *t, float **m, float **v, size_t **step);
const float *train_aux_grads(const t5_trainer *t);
/* The auxiliary loss of the last train_forward (unweighted; 0 when off or
 * without labels). */
double train_aux_loss(const t5_trainer *t);

/* Whether batch b fits the trainer's capacities; -1 with a message if not. */
int trainer_check_batch(const t5_trainer *t, const train_batch *b, as_err *err);

/* The forward pass on b (which must pass trainer_check_batch), keeping the
 * activations for train_backward. Returns the mean cross-entropy over the
 * labels >= 0 (0 when there are none), label-smoothed when the options say
 * so (as PyTorch's cross_entropy reports it). */
double train_forward(t5_trainer *t, const train_batch *b);

/* The logits (n_tgt, V) of the last train_forward, in batch order; valid
 * until the next train_backward (which overwrites them with their
 * gradient) or train_forward. */
const float *train_logits(t5_trainer *t);

/* Clear the gradients. */
void train_zero_grad(t5_trainer *t);

/* Backward pass for the last train_forward: adds d(loss)/d(params) into the
 * gradients. */
void train_backward(t5_trainer *t, const train_batch *b);

/* The gradients, laid out like m->params (n_params floats). */
float *train_grads(t5_trainer *t);

/* ---- optimiser -------------------------------------------------------------- */

typedef enum { SCHED_CONSTANT = 0, SCHED_LINEAR = 1, SCHED_COSINE = 2 } sched_decay;

typedef struct {
    double lr;            /* peak learning rate */
    double min_lr;        /* floor of the decay */
    size_t warmup;        /* steps of linear warm-up */
    size_t total;         /* steps in the whole run (end of the decay) */
    sched_decay decay;
} lr_schedule;

/* Learning rate of update number step (0-based): lr * (step+1) / warmup
 * during warm-up, then constant, linear or cosine from lr to min_lr at
 * step == total. */
double lr_at(const lr_schedule *s, size_t step);

typedef struct {
    double beta1, beta2, eps, weight_decay;
    double clip;          /* max global gradient norm; <= 0 disables */
    double ema;           /* optimizer.ema: decay of the weights' moving average; 0 = none */
} adamw_cfg;

/* AdamW state over a model's parameter table: moments m and v in the
 * parameter layout, the update count, and which tensors are decayed
 * (every tensor except layer norms, as the HF Trainer does). */
typedef struct {
    float *m, *v;          /* (n_params) */
    float *ema;            /* (n_params) the weights' moving average, or NULL (adamw_ema_start) */
    size_t n_params;
    size_t step;           /* updates done */
    unsigned char *decay;  /* (n_tensors) */
    size_t n_tensors;
} adamw_state;

/* Zeroed moments for every parameter of m, and weight decay for every
 * tensor but the layer norms; no moving average. adamw_free releases them
 * (NULL allowed) and zeroes *s. */
void adamw_init(adamw_state *s, const t5_model *m);
void adamw_free(adamw_state *s);

/* optimizer.ema: keep an exponential moving average of m's weights, which
 * starts as the weights now (then every adamw_update with c->ema = d makes
 * it d * average + (1 - d) * weights). The average is the run's model: the
 * in-training evaluation and model.safetensors use it, the checkpoint keeps
 * it beside the raw weights that training continues from. */
void adamw_ema_start(adamw_state *s, const t5_model *m);

/* Exchange m's weights and the moving average (nothing without one): once
 * to evaluate or save the average, once more to go on training. */
void adamw_ema_swap(adamw_state *s, t5_model *m);

/* Global L2 norm of g (in double); scales g by max_norm / norm when
 * max_norm > 0 and norm exceeds it (PyTorch clip_grad_norm_, which adds 1e-6
 * to the norm). Returns the norm before clipping. */
double grad_clip(float *g, size_t n, double max_norm);

/* One AdamW update of m's parameters with gradients g and learning rate lr
 * (PyTorch semantics: p -= lr*wd*p, then the bias-corrected Adam step), and
 * of the moving average when s has one (c->ema, adamw_ema_start). */
void adamw_update(adamw_state *s, t5_model *m, const float *g, double lr, const adamw_cfg *c);
/* The same update on one array p (n) with moments m, v; *step is the count
 * of updates (incremented); decay 0 leaves out the weight decay. */
void adamw_update_array(float *p, float *m, float *v, size_t *step, const float *g, size_t n,
                        double lr, const adamw_cfg *c, int decay);

/* The auxiliary head's update (loss.aux_weight): clip its gradient to
 * c->clip (its own norm) and take an AdamW step (weight decay included);
 * returns the norm before clipping. */
double train_aux_update(t5_trainer *t, double lr, const adamw_cfg *c);

/* ---- which examples a step draws ---------------------------------------------- */

/* The order in which a run draws its n training examples; the examples of a
 * step depend only on (seed, step), never on what ran before, so a resumed
 * run draws exactly the batches of an uninterrupted one.
 *
 * weights NULL: the plain order, shuffled epochs over all examples (epoch
 * e's order is seeded by (seed, e)); kind may then be NULL.
 * weights[QUAD_N_KINDS] (>= 0, not all 0; train.cfg's data.weights): each
 * draw picks a kind with probability weights[k] / sum (a uniform draw
 * seeded by (seed, step)), then that kind's next example in its own
 * shuffled epochs, so within a kind every example comes once before any
 * comes twice. kind[i] is example i's kind.
 *
 * Returns NULL with err filled when n is 0, every weight is 0, or a kind
 * with a weight above 0 has no example. */
typedef struct train_sampler train_sampler;

/* The kinds' cumulative probabilities from weights (>= 0, sum > 0):
 * cum[k] = P(kind <= k), exactly 1 from the last weighted kind on; and the
 * kind a uniform u in [0, 1) picks from them. */
void train_kind_cdf(const double *weights, double cum[QUAD_N_KINDS]);
quad_kind train_kind_pick(const double cum[QUAD_N_KINDS], double u);
train_sampler *train_sampler_new(size_t n, const quad_kind *kind, const double *weights,
                                 uint64_t seed, as_err *err);
void train_sampler_free(train_sampler *s);

/* The B example indices of update number step into idx. Any step may be
 * asked in any order (the weighted order replays the kind draws from step 0
 * when asked for an earlier step or a later one than the next: cheap); B
 * must be the same in every call. */
void train_sampler_step(train_sampler *s, size_t step, size_t B, size_t *idx);

/* Fresh equations at every step (train.cfg data.stream): each of a step's
 * B equations picks a kind with probability weights[k] / sum (weights NULL:
 * the spec's 50/30/20 %), then is drawn with the generator's rules
 * (quad_draw) and drawn again while its canonical source is one of the
 * n_exclude strings of exclude (the run's test split; copied). Every draw
 * comes from one generator seeded by (seed, step), so a step's equations
 * depend on nothing else. NULL with err filled when no weight is above 0. */
typedef struct train_stream train_stream;
train_stream *train_stream_new(const quad_preset *p, const double *weights, uint64_t seed,
                               char *const *exclude, size_t n_exclude, as_err *err);
void train_stream_free(train_stream *s);

/* The B equations of update number step into out. -1 with err filled only
 * when a kind's draws hit the excluded set 100,000 times in a row. */
int train_stream_step(const train_stream *s, size_t step, size_t B, quad_eq *out, as_err *err);

/* Whether a canonical source is in the excluded set. */
int train_stream_excluded(const train_stream *s, const char *source);

/* Stepwise internalisation (train.cfg data.stepwise): stage i of n starts at
 * update stage_start[i] (stage_start[0] = 0) and writes the training targets
 * with the products train_stage_show gives (quad_format_target_worked): the
 * first stage both b^2 and 4ac, with 3 stages the middle one keeps one of
 * them (drop_first says which goes first), and the last stage is the
 * spec's target. */
#define TRAIN_MAX_STAGES 3
typedef struct {
    size_t n;                              /* 0: off */
    size_t start[TRAIN_MAX_STAGES];
    unsigned drop_first;                   /* QUAD_SHOW_4AC (default) or QUAD_SHOW_B2 */
} train_stepwise;

/* The stage of update number step (0 when off), and what its targets show. */
size_t train_stage_at(const train_stepwise *w, size_t step);
unsigned train_stage_show(const train_stepwise *w, size_t stage);

/* ---- how much of the machine a run gets ---------------------------------------- */

/* A run warns once when its process used less than this share of the cores
 * it asked for (train.threads). */
#define TRAIN_LOW_SHARE 0.75

/* The speed of a run's training steps (batch, forward, backward, update;
 * not evaluation or checkpoints) and what of the machine it had: wall and
 * CPU seconds (all threads, getrusage), target tokens, and the machine's
 * /proc/stat ticks (steal and total) since the start. base_* carry the
 * totals of the sessions before a --resume (from trainer_state.json). */
typedef struct {
    int threads;
    double wall, cpu, asked;            /* asked: wall x threads, summed */
    size_t tokens, steps;
    int have_stat;
    unsigned long long steal0, total0, steal1, total1;
    double stat_at;                     /* when /proc/stat was last read */
    int warned;
    /* earlier sessions of the same run */
    size_t since_step;
    double base_wall, base_cpu, base_asked;
    size_t base_tokens, base_steps;
    unsigned long long base_steal, base_total;
    int base_warned;
} train_speed;

/* CPU seconds of the process so far (user + system, all threads). */
double train_cpu_seconds(void);

/* Steal and total ticks from /proc/stat's first line ("cpu  user nice
 * system idle iowait irq softirq steal ..."); -1 when it is not that line. */
int train_parse_proc_stat(const char *text, unsigned long long *steal,
                          unsigned long long *total);

/* Start measuring (reads /proc/stat) for a run of threads threads. */
void train_speed_begin(train_speed *s, int threads, double now);
/* One training step: its wall and CPU seconds and target tokens. Reads
 * /proc/stat about once a second. */
void train_speed_add(train_speed *s, double wall, double cpu, size_t tokens, double now);
/* Read /proc/stat once more (the end of a session). */
void train_speed_finish(train_speed *s);

/* This session's target tokens per second and per CPU-second, the share
 * of the asked-for cores (CPU / (wall x threads)) and the machine's steal
 * share; with all = 1 over the whole run (base_* included). 0 when there
 * is nothing measured. */
double train_speed_tps(const train_speed *s, int all);
double train_speed_tpcs(const train_speed *s, int all);
double train_speed_share(const train_speed *s, int all);
double train_speed_steal(const train_speed *s, int all);

/* 1 exactly once per session: when at least a second of steps (or, at the
 * last step, a quarter second) measured a share below TRAIN_LOW_SHARE. */
int train_speed_should_warn(train_speed *s, int last);

/* ---- the training run ------------------------------------------------------- */

/* Everything a train.cfg says, checked. Paths are resolved against the
 * configuration file's folder. */
typedef struct {
    t5_config model;
    uint64_t init_seed;
    char *init_from;               /* owned; model.init_from, a model folder whose
                                      weights start a fresh run, or NULL */
    char *init_from_at;            /* owned; "FILE:LINE" of that key, for messages */
    /* data: a preset to generate, or TSV files */
    char preset[32];
    size_t data_n;
    uint64_t data_seed;
    double test_share;
    char *train_tsv, *test_tsv;   /* owned; NULL when a preset is used */
    int have_weights;              /* data.weights given */
    double kind_weight[QUAD_N_KINDS]; /* its relative weights, by quad_kind */
    int stream;                    /* data.stream: fresh equations every step */
    int have_stream_range;         /* data.stream_range given: the stream draws from */
    quad_preset stream_range;      /* these ranges, which contain the preset's */
    train_stepwise stepwise;       /* data.stepwise */
    trainer_opts train;            /* loss.label_smoothing ... */
    /* optimiser and schedule */
    adamw_cfg opt;
    lr_schedule sched;
    /* loop */
    size_t batch;
    size_t steps;                  /* total updates (from epochs when given) */
    size_t epochs;                 /* 0 when steps is given */
    int threads;
    uint64_t seed;                 /* data order */
    size_t eval_every, eval_n, checkpoint_every, log_every;
    size_t keep_checkpoints;       /* 0, or the models of the last N checkpoints
                                      kept in out/checkpoints/step-NNNNNN/ */
    size_t max_src, max_tgt;       /* longest sequences (tokens with eos) kept */
    char *out_dir;                 /* owned */
} train_settings;

/* Read and check a libconfig training file. Every problem (syntax, unknown
 * key, wrong type, a negative or zero size, d_model and heads that do not
 * fit, a missing data file) returns -1 with "FILE:LINE: message". */
int train_settings_read(train_settings *s, const char *path, as_err *err);
void train_settings_free(train_settings *s);

/* Options of one run beside the file. */
typedef struct {
    int resume;            /* continue from out_dir's checkpoint */
    int force;             /* train into a folder that holds other files (see run_dir.c) */
    int progress;          /* 1 progress bar, 0 log lines, -1 decide by isatty */
    int quiet;
    const char *cfg_path;  /* copied into the output folder as train.cfg */
    train_speed *speed;    /* NULL, or gets the run's speed at the end (bench) */
} train_options;

/* Train as s says. Returns 0 (finished, or interrupted by SIGINT/SIGTERM
 * after writing a checkpoint), -1 with err filled (bad data, a write that
 * failed, a non-finite loss: the last good checkpoint stays). */
int train_run(const train_settings *s, const train_options *o, as_err *err);

/* model.init_from (init_from.c). 0 when a model of shape from can start a
 * run of shape to: every size the same, layers added to either stack but
 * none removed; else -1 with why (n bytes) saying what differs. */
int train_init_compatible(const t5_config *from, const t5_config *to, char *why, size_t n);

/* A fresh run's check of model.init_from, before anything is written: the
 * folder's config.json is readable and fits the model section
 * (train_init_compatible). -1 with err "FILE:LINE: model.init_from: ...". */
int train_init_check(const train_settings *s, as_err *err);

/* Copy every tensor of the model folder dir into m (allocated with a
 * compatible shape); the layers dir lacks start as the identity (zero
 * output projections, see init_from.c). A line saying what was copied goes
 * to note when not NULL. Returns 0, or -1 with err naming the folder. */
int train_init_from(t5_model *m, const char *dir, FILE *note, as_err *err);

/* The training steps behind the model folder dir, counted from its random
 * start: its trainer_state.json's step (a run's folder) or its
 * metrics.json's training.steps (a bundle), plus, when that run itself
 * started from a model, the steps behind that one (trainer_state.json's
 * init_from.steps_before, metrics.json's training.steps_before). 0 when
 * neither file says. A run keeps its source's in trainer_state.json as
 * init_from.steps_before (read back on --resume), so that its steps can be
 * counted on from its source's (report --checkpoints, bundle-model.sh). */
size_t train_init_lineage_steps(const char *dir);

/* The run folder run_dir's own init_from.steps_before (0 when it did not
 * start from a model): what --resume keeps counting from. */
size_t train_init_steps_before(const char *run_dir);

/* What `attnscope bench train` times: a random T5 of cfg's shape (layers in
 * each stack) on batch random sequences of src_len and tgt_len tokens, warmup
 * untimed steps then steps timed ones on threads OpenMP threads. */
typedef struct {
    t5_config cfg;
    size_t layers, batch, src_len, tgt_len, threads, steps, warmup;
    size_t real_steps;  /* > 0: also a real training run of this many steps */
} train_bench_opts;

/* Times full training steps (forward, backward, clipping, AdamW) and prints
 * the report to stdout, ending with 'tokens/s N'; with real_steps, the line
 * before it is a real `train` run's (the seed preset, same shape, batch and
 * threads, in a temporary folder) tokens per CPU-second beside the steps'. Returns 0, or -1 with err
 * filled (a size that is zero or too large, a shape t5_alloc refuses). */
int train_bench(const train_bench_opts *o, as_err *err);

#endif
