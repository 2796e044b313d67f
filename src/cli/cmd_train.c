/* cmd_train.c - `attnscope train --config FILE.cfg [--resume] [--out DIR]`:
 * read and check the configuration, then hand over to train_run.
 *
 * Deliberately not here: anything numeric (src/train). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "train.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attnscope train --config FILE.cfg [--resume|--force] [--out DIR]\n"
            "                       [--progress|--log] [--quiet]\n\n"
            "Train a T5 as the configuration file says (libconfig; see man attnscope and\n"
            "sample_models/*/train.cfg). The output folder is a model folder (config.json,\n"
            "model.safetensors) plus optimizer.safetensors, trainer_state.json, train.cfg\n"
            "and log.tsv.\n\n"
            "  --config FILE   the training configuration (required)\n"
            "  --out DIR       output folder (overrides train.out)\n"
            "  --resume        continue from the checkpoint in the output folder\n"
            "  --force         train a new model into a folder that is not empty (a model,\n"
            "                  a checkpoint, other files): its files are replaced, each only\n"
            "                  once the new run's first checkpoint is written; without it\n"
            "                  such a folder is refused\n"
            "  --progress      a progress bar even when stdout is not a terminal\n"
            "  --log           plain log lines even on a terminal\n"
            "  --quiet         print errors only\n\n"
            "Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and exits 0.\n"
            "The progress line and log.tsv give target tokens per second and per CPU-second,\n"
            "the share of the asked-for cores the run got and the machine's steal;\n"
            "trainer_state.json keeps the run's averages (\"machine\"); a run with less than\n"
            "75 %% of its cores warns once.\n\n"
            "The configuration (every key optional unless noted; paths relative to the file):\n"
            "  model = { d_model; d_ff; num_layers; num_decoder_layers; num_heads; d_kv;\n"
            "            feed_forward_proj (\"relu\" | \"gated-gelu\"); tie_word_embeddings;\n"
            "            relative_attention_num_buckets; relative_attention_max_distance;\n"
            "            init_seed; dropout_rate (0 .. 0.9, T5's places, training only;\n"
            "            default none); init_from = \"DIR\" (a model folder of this shape,\n"
            "            or with fewer layers, whose weights start the run; new layers\n"
            "            start as the identity) };\n"
            "  data = { preset (\"seed\" | \"small\"); n; seed; test_share; }\n"
            "      or { train = \"train.tsv\"; test = \"test.tsv\"; };\n"
            "      and, with either: weights = { two_roots; one_root; no_root; } (relative\n"
            "      sampling weights of the kinds; default: every example equally often);\n"
            "      stepwise = { stages = [0, S1(, S2)]; drop_first (\"4ac\" | \"b2\"); }\n"
            "      (training targets with b^2 and 4ac written out, removed stage by stage;\n"
            "      the last stage and every evaluation use the spec's targets);\n"
            "      with a preset: stream = true (fresh equations every step, never one of\n"
            "      the test split, which stays the one of the same preset, n and seed);\n"
            "      stream_range = { a; roots; b; c; } ([lo, hi] each, containing the\n"
            "      preset's and within the seed preset's: the stream draws from these\n"
            "      wider ranges, so a model cannot recall what it must compute);\n"
            "  optimizer = { lr; beta1; beta2; eps; weight_decay; clip; ema (0 .. 0.999999,\n"
            "      default 0: none; a moving average of the weights, which is then the\n"
            "      model saved and evaluated; training goes on from the weights) };\n"
            "  schedule = { warmup; decay (\"cosine\" | \"linear\" | \"constant\"); min_lr; };\n"
            "  train = { batch; steps | epochs (one is required); threads; seed; eval_every;\n"
            "            eval_n (0: all); checkpoint_every; keep_checkpoints (default 0;\n"
            "            N: also keep the model of the last N checkpoints, in\n"
            "            OUT/checkpoints/step-NNNNNN/ with checkpoint.json: step, loss and\n"
            "            the evaluation's scores when that step evaluated); log_every; out; };\n"
            "  loss = { label_smoothing (0 .. 0.999; default 0: none, as PyTorch's);\n"
            "           aux_weight (default 0: none; a training-only head predicts the digits\n"
            "           of b^2 and |4ac| at the discriminant's digits, not saved); };\n");
}

/* OpenMP threads that spin while waiting at the end of a parallel loop steal
 * the core from the thread they wait for whenever other programs share the
 * machine (measured: a tiny run took 8 s spinning, 1.3 s passive, with other
 * jobs running). libgomp reads OMP_WAIT_POLICY only at start-up, so when the
 * user has not chosen a policy, run again with "passive". A failed exec
 * simply continues with the default. */
static void prefer_passive_wait(int argc, char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("ATTNSCOPE_NO_REEXEC")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    char **nargv = xcalloc((size_t)argc + 2, sizeof *nargv);
    nargv[0] = (char *)"attnscope";
    for (int i = 0; i < argc; i++) nargv[i + 1] = argv[i];
    execv("/proc/self/exe", nargv);
    free(nargv);
}

int cmd_train(int argc, char **argv)
{
    prefer_passive_wait(argc, argv);
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'},
        {"resume", no_argument, 0, 'r'},       {"progress", no_argument, 0, 'p'},
        {"force", no_argument, 0, 'f'},
        {"log", no_argument, 0, 'l'},          {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *cfg = NULL, *out = NULL;
    train_options o = {.progress = -1};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (cli_parse_path("train", "--config", optarg, &cfg)) return EXIT_USAGE;
            break;
        case 'o':
            if (cli_parse_path("train", "--out", optarg, &out)) return EXIT_USAGE;
            break;
        case 'r': o.resume = 1; break;
        case 'f': o.force = 1; break;
        case 'p': o.progress = 1; break;
        case 'l': o.progress = 0; break;
        case 'q': o.quiet = 1; break;
        default: return cli_usage_exit(c, usage);  /* -h too */
        }
    }
    if (cli_no_args("train", argc, argv, NULL) ||
        cli_required("train", cfg, "--config FILE.cfg is required (see 'attnscope train --help')",
                     NULL))
        return EXIT_USAGE;
    if (o.resume && o.force) {
        cli_error("train", "--resume and --force exclude each other: --resume continues the "
                           "folder's checkpoint, --force starts a new run over it");
        return EXIT_USAGE;
    }
    train_settings s;
    as_err err;
    if (train_settings_read(&s, cfg, &err)) {
        cli_error("train", "%s", err.msg);
        return EXIT_FAIL;
    }
    if (out) {
        free(s.out_dir);
        s.out_dir = xstrdup(out);
    }
    if (!s.out_dir) {
        cli_error("train", "%s: no output folder: set train.out or give --out DIR", cfg);
        train_settings_free(&s);
        return EXIT_USAGE;
    }
    o.cfg_path = cfg;
    int rc = train_run(&s, &o, &err);
    if (rc) cli_error("train", "%s", err.msg);
    train_settings_free(&s);
    return rc ? EXIT_FAIL : EXIT_OK;
}
