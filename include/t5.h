/* t5.h - the T5 encoder-decoder: configuration, parameters, model files,
 * and inference (encode, incremental decode with a key/value cache, greedy
 * decoding, teacher forcing) with the attention hook.
 *
 * It computes exactly what Hugging Face's T5ForConditionalGeneration
 * computes: RMS layer norm (no mean, no bias), attention without the
 * 1/sqrt(d_kv) scaling, a relative position bias computed by the first layer
 * of each stack and shared by the later ones, relu or gated-gelu (tanh GELU)
 * feed-forward, tied embeddings with the decoder output scaled by
 * d_model^-0.5, or an untied lm_head.
 *
 * Deliberately not here: training (train.h), tokenizers (byt5.h), what a
 * view does with the attention (trace.h, the views). */
#ifndef ATTNSCOPE_T5_H
#define ATTNSCOPE_T5_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef enum { T5_FF_RELU, T5_FF_GATED_GELU } t5_ff_kind;

/* The T5Config keys attnscope uses, with Hugging Face's names in comments. */
typedef struct {
    size_t vocab_size;          /* vocab_size */
    size_t d_model;             /* d_model */
    size_t d_kv;                /* d_kv */
    size_t d_ff;                /* d_ff */
    size_t num_heads;           /* num_heads */
    size_t num_layers;          /* num_layers (encoder) */
    size_t num_decoder_layers;  /* num_decoder_layers */
    size_t rel_buckets;         /* relative_attention_num_buckets */
    size_t rel_max_distance;    /* relative_attention_max_distance */
    double dropout_rate;        /* dropout_rate: training only (the trainer's
                                   model.dropout_rate); inference ignores it.
                                   HF's 0.1 unless config.json says. Always a
                                   float's value; a double here so that the
                                   struct has no padding (tests memcmp it) */
    float layer_norm_eps;       /* layer_norm_epsilon */
    t5_ff_kind ff;              /* feed_forward_proj: "relu" | "gated-gelu" */
    int tie_word_embeddings;    /* tie_word_embeddings */
    int pad_token_id;           /* pad_token_id */
    int eos_token_id;           /* eos_token_id */
    int decoder_start_token_id; /* decoder_start_token_id */
} t5_config;

/* Fill c with ByT5-like defaults for a small model (vocab 384, relu, tied,
 * 32 buckets, max distance 128, eps 1e-6, pad 0, eos 1, start 0). */
void t5_config_default(t5_config *c);

/* Check a configuration: positive sizes, num_heads * d_kv sane, buckets >= 4
 * and max_distance > buckets / 2 (HF's bucket formula divides by
 * log(max_distance / max_exact) otherwise), token ids inside the
 * vocabulary... Returns 0, or -1 naming the bad key. */
int t5_config_check(const t5_config *c, as_err *err);

/* config.json <-> t5_config. Unknown keys are ignored on reading; writing
 * produces a complete T5Config that transformers loads
 * (architectures, model_type "t5", feed_forward_proj, dense_act_fn...). */
int t5_config_read_json(t5_config *c, const char *path, as_err *err);
int t5_config_write_json(const t5_config *c, const char *path, as_err *err);

/* One tensor of the parameter table: its Hugging Face name, shape and place
 * in the flat parameter array. */
typedef struct {
    char name[96];
    size_t ndim;
    size_t shape[2];
    size_t offset;   /* in floats, into t5_model.params */
    size_t numel;
    float *data;     /* (numel) where the model's floats are: params + offset, or
                        into the read-only file mapping of a mapped model; NULL
                        in a bare t5_param_table */
} t5_tensor;

/* The weights of one block (layer). Linear weights are stored as Hugging
 * Face stores them, (out_features, in_features), so y = x W^T. Pointers
 * that do not apply are NULL (cross attention in the encoder, rel_bias after
 * layer 0, wi for gated-gelu, wi_0/wi_1 for relu). */
typedef struct {
    float *ln_self;    /* (C)             layer.0.layer_norm.weight */
    float *q, *k, *v;  /* (H*dkv, C)      layer.0.SelfAttention.{q,k,v}.weight */
    float *o;          /* (C, H*dkv)      layer.0.SelfAttention.o.weight */
    float *rel_bias;   /* (buckets, H)    layer.0.SelfAttention.relative_attention_bias.weight */
    float *ln_cross;   /* (C)             decoder: layer.1.layer_norm.weight */
    float *cq, *ck, *cv; /* (H*dkv, C)    decoder: layer.1.EncDecAttention.{q,k,v}.weight */
    float *co;         /* (C, H*dkv)      decoder: layer.1.EncDecAttention.o.weight */
    float *ln_ff;      /* (C)             layer.{1|2}.layer_norm.weight */
    float *wi;         /* (d_ff, C)       relu: DenseReluDense.wi.weight */
    float *wi0, *wi1;  /* (d_ff, C)       gated: DenseReluDense.wi_{0,1}.weight */
    float *wo;         /* (C, d_ff)       DenseReluDense.wo.weight */
} t5_block;

typedef struct {
    float *shared;       /* (V, C) shared.weight (embeddings, tied output) */
    t5_block *enc;       /* num_layers blocks */
    float *enc_final_ln; /* (C) encoder.final_layer_norm.weight */
    t5_block *dec;       /* num_decoder_layers blocks */
    float *dec_final_ln; /* (C) decoder.final_layer_norm.weight */
    float *lm_head;      /* (V, C) lm_head.weight, NULL when tied */
} t5_weights;

/* One memory-mapped file. */
typedef struct {
    void *addr;
    size_t len;
} t5_mapping;

/* A model: configuration plus every parameter in one float array, laid out
 * by the parameter table.
 *
 * Ownership: a model from t5_alloc / t5_load owns params, one writable
 * array (training, gradients and AdamW moments use its layout). A model
 * from t5_load_mapped whose file is all aligned F32 has params == NULL and
 * n_maps > 0: the weight pointers (w, tensors[i].data) point into
 * read-only shared mappings of model.safetensors (or of its shards), which
 * t5_free unmaps.
 * Such a model serves everything that only reads weights (inference,
 * traces, t5_save); writing through a weight pointer faults. Code that
 * writes weights must use t5_load (or check params != NULL). */
typedef struct {
    t5_config cfg;
    float *params;       /* (n_params) owned and writable; NULL when mapped */
    size_t n_params;
    t5_tensor *tensors;  /* (n_tensors) the parameter table, owned */
    size_t n_tensors;
    t5_weights w;        /* pointers into params, or into map */
    t5_mapping *maps;    /* (n_maps) read-only mappings of the weight file(s), owned;
                            NULL unless mapped */
    size_t n_maps;
} t5_model;

/* Build the parameter table for cfg: every tensor with its HF name, shape
 * and offset, in a fixed order. *n_params gets the total float count.
 * Returns a malloc'ed array of *n_tensors entries. The same table drives
 * loading, saving, training (gradients and AdamW moments use the same
 * layout) and inspect. */
t5_tensor *t5_param_table(const t5_config *cfg, size_t *n_tensors, size_t *n_params);

/* Allocate a model for cfg (checked) with zeroed parameters and the weight
 * pointers set. Returns 0 or -1. Free with t5_free. */
int t5_alloc(t5_model *m, const t5_config *cfg, as_err *err);

/* Initialise parameters the way HF's T5PreTrainedModel._init_weights does
 * (factor 1.0), from the project's PRNG. */
void t5_init_random(t5_model *m, uint64_t seed);

/* Load a Hugging Face model folder: dir/config.json and
 * dir/model.safetensors (F32, F16 or BF16, memory-mapped while read), or a
 * sharded checkpoint: dir/model.safetensors.index.json naming its shards
 * (plain file names in dir) in "weight_map".
 * Every problem (missing or malformed file, shape that disagrees with
 * config.json, missing tensor, non-finite weight...) returns -1 with a
 * message naming the file and tensor. On failure m is left freed. */
int t5_load(t5_model *m, const char *dir, as_err *err);

/* As t5_load, but without copying the weights when model.safetensors holds
 * every tensor as F32 at a 4-byte aligned offset (what PyTorch and
 * attnscope write): the weights then stay memory-mapped, read-only and
 * shared with the page cache (params NULL, see t5_model). Other files
 * (F16, BF16, unaligned) are converted once into params as t5_load does.
 * Both check every weight is finite. When stderr is a terminal and the
 * file is large (>= 64 MB), a progress line is drawn there while the
 * weights are read, and erased at the end. */
int t5_load_mapped(t5_model *m, const char *dir, as_err *err);

/* Write dir/config.json and dir/model.safetensors (F32, HF names; tied
 * models write shared.weight only), each atomically. Creates dir. */
int t5_save(const t5_model *m, const char *dir, as_err *err);

/* Release what t5_alloc, t5_load or t5_load_mapped took (mapped files are
 * unmapped) and zero *m, so it may be loaded again. m may be NULL. Pointers
 * into the weights stop being valid. */
void t5_free(t5_model *m);

/* Find a tensor of the table by its HF name; NULL when absent. */
const t5_tensor *t5_find_tensor(const t5_model *m, const char *name);

/* ---- inference ---------------------------------------------------------- */

typedef enum { T5_ATTN_ENC_SELF = 0, T5_ATTN_DEC_SELF = 1, T5_ATTN_CROSS = 2 } t5_attn_kind;

/* What a hook is handed: the attention probabilities of every head of one
 * (stack, layer), after the softmax and before they weight the values.
 * Rows are queries at positions q_pos0 .. q_pos0+n_q-1 (encoder: source
 * positions; decoder: decoder-input positions), columns are keys 0 .. n_k-1
 * (source positions for encoder and cross attention, decoder positions for
 * decoder self-attention; causal maps have exact zeros above the diagonal).
 * The hook may change probs in place (zero a head, block a key): the change
 * flows into the rest of the forward pass. probs is valid only during the
 * call. */
typedef struct {
    t5_attn_kind kind;
    size_t layer;
    size_t n_heads;
    size_t n_q, n_k;
    size_t q_pos0;
    float *probs;  /* (n_heads, n_q, n_k) */
    const float *values; /* (n_k, n_heads * d_kv) the values the probabilities weight, head h
                            in columns h*d_kv ..; read-only, valid only during the call */
} t5_attn_event;

typedef void (*t5_hook_fn)(void *user, const t5_attn_event *ev);

/* The state of one run: encoder output, key/value caches, scratch buffers.
 * Holds a pointer to the model, which must outlive it. */
typedef struct t5_run t5_run;

/* Make a run for sequences of at most max_src source and max_tgt decoder
 * tokens. Never NULL (exits on out of memory). */
t5_run *t5_run_new(const t5_model *m, size_t max_src, size_t max_tgt);
void t5_run_free(t5_run *r);

/* Set (or clear, with fn NULL) the attention hook. With no hook the forward
 * pass does not look at it beyond one pointer test per layer. */
void t5_run_set_hook(t5_run *r, t5_hook_fn fn, void *user);

/* The second hook: the hidden states. Each stack calls it at fixed points
 * of every layer with the rows of the positions just computed (encoder:
 * source positions 0 .. n-1; decoder: positions pos0 .. pos0+n-1, one row a
 * decoding step):
 *   T5_STATE_EMBED  layer 0: the residual stream entering layer 0 (the
 *                   token embeddings)
 *   T5_STATE_ATTN   the self-attention sublayer's output (after the o
 *                   projection), before it is added to the residual stream
 *   T5_STATE_CROSS  decoder only: the cross-attention sublayer's output, the same
 *   T5_STATE_MLP    the feed-forward sublayer's output (after wo), before the add
 *   T5_STATE_RESID  the residual stream after the layer (after the
 *                   feed-forward add; the last layer's goes to the final
 *                   layer norm)
 * in this order within a layer. The hook may change x in place (write a
 * patched state): the change flows into the rest of the pass, and the
 * residual stream of a component is x + the (changed) output. x is valid
 * only during the call. */
typedef enum { T5_ENCODER = 0, T5_DECODER = 1 } t5_stack;
typedef enum {
    T5_STATE_EMBED = 0,
    T5_STATE_ATTN,
    T5_STATE_CROSS,
    T5_STATE_MLP,
    T5_STATE_RESID,
    T5_STATE_COUNT
} t5_state_kind;

typedef struct {
    t5_stack stack;
    t5_state_kind kind;
    size_t layer;
    size_t n;        /* rows */
    size_t pos0;     /* position of the first row */
    size_t d_model;
    float *x;        /* (n, d_model) */
} t5_state_event;

typedef void (*t5_state_fn)(void *user, const t5_state_event *ev);

/* Set (or clear, with fn NULL) the hidden-state hook. Without it the
 * sublayer outputs are added straight into the residual stream by the
 * products (beta 1); with it each output is computed into its own buffer,
 * shown to the hook, then added (the same numbers up to float rounding). */
void t5_run_set_state_hook(t5_run *r, t5_state_fn fn, void *user);
void t5_run_get_state_hook(const t5_run *r, t5_state_fn *fn, void **user);

/* The logit lens and the output head: logits (n, V) from residual-stream
 * rows x (n, C) through the decoder's final layer norm and the LM head
 * (tied: shared.weight with the d_model^-0.5 scale; or lm_head), exactly as
 * the decoder's last layer is turned into logits. x is not changed. */
void t5_logits_from_state(const t5_model *m, const float *x, size_t n, float *logits);

/* Encode src (n tokens, 1 <= n <= max_src) and reset the decoder. */
int t5_encode(t5_run *r, const int *src, size_t n, as_err *err);

/* Feed one decoder-input token at the next position (the first call takes
 * the decoder start token) and write the next-token logits (V floats) to
 * logits when it is not NULL. Uses and extends the key/value cache. */
int t5_decode_step(t5_run *r, int token, float *logits, as_err *err);

/* Feed n decoder-input tokens at the next positions in one pass (as
 * teacher forcing does) and write their logits (n, V) when not NULL. */
int t5_decode_tokens(t5_run *r, const int *tok, size_t n, float *logits, as_err *err);

/* Forget the decoder positions pos and later, so that the next tokens fed
 * go to pos again; the encoding and the key/value cache of the positions
 * before pos stay (a patched rerun from pos on). Returns 0, or -1 when pos
 * is beyond the positions fed. */
int t5_run_rewind(t5_run *r, size_t pos, as_err *err);

/* Threads for the one-row products of a decoding step (default 1). Two
 * threads split every weight matrix in fixed halves, so each core keeps its
 * half in its own cache: several times faster on an idle multi-core
 * machine, but much slower when the cores are busy with other work (every
 * product waits for the slower thread). Several-row products (encoder,
 * teacher forcing) use OpenBLAS's own threads whatever this says. */
void t5_run_set_threads(t5_run *r, int threads);

/* Number of decoder positions fed since the last t5_encode. */
size_t t5_run_decoded(const t5_run *r);

/* The hook currently set (fn NULL when none), so a caller such as
 * trace_run can chain its own hook after it. Either pointer may be NULL. */
void t5_run_get_hook(const t5_run *r, t5_hook_fn *fn, void **user);

/* The capacities given to t5_run_new and the model the run uses. */
size_t t5_run_max_src(const t5_run *r);
size_t t5_run_max_tgt(const t5_run *r);
const t5_model *t5_run_model(const t5_run *r);

/* Greedy decoding: encode src, feed the start token, then the argmax token
 * each step until eos or max_len generated tokens. Writes the generated
 * tokens (without the start token; with the eos when produced) to out
 * (capacity max_len). Returns the count, or -1. Needs max_len <= max_tgt (the
 * last generated token is never fed). The argmax takes the first of equal
 * logits, as torch.argmax. */
long t5_greedy(t5_run *r, const int *src, size_t n_src, int *out, size_t max_len, as_err *err);

/* Teacher forcing: encode src, then run the decoder on dec_in (T tokens,
 * starting with the start token) in one pass, writing logits (T, V) when not
 * NULL. */
int t5_teacher_forced(t5_run *r, const int *src, size_t n_src, const int *dec_in, size_t T,
                      float *logits, as_err *err);

/* Mean cross-entropy of logits (T, V) against labels (T), ignoring labels
 * < 0 (HF's -100) and labels >= V. NaN when no label counts (as torch). */
double t5_cross_entropy(const float *logits, const int *labels, size_t T, size_t V);

#endif
