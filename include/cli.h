/* cli.h - the subcommands of the attnscope binary. Each lives in
 * src/cli/cmd_<name>.c and is called with argv[0] = "<name>".
 *
 * Exit status of every command: 0 success, 1 a failed run (bad model, bad
 * data, bad equation...), 2 bad usage (unknown option, missing argument).
 * Commands print errors as "attnscope <name>: <message>" on stderr.
 *
 * Deliberately not here: what the commands do; the helpers below only find
 * data, print and parse. */
#ifndef ATTNSCOPE_CLI_H
#define ATTNSCOPE_CLI_H

#include <stdio.h>

#include "version.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

int cmd_tui(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_solve(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_patch(int argc, char **argv);

/* The model folder used when no --model is given: $ATTNSCOPE_MODEL, else
 * the source tree's sample_models/quadratic-seed next to the running
 * binary, else <binary>/../share/attnscope/models/quadratic-seed (an
 * install, also a moved one), else the compiled-in
 * DATADIR/models/quadratic-seed. Returns a static string (may name a folder
 * that does not exist; loading says so). */
const char *cli_default_model(void);

/* The folder a --model argument names: arg itself when it is a folder or a
 * path; else, for a bare name, the bundled model of that name
 * (sample_models/NAME in the source tree, models/NAME of an install) when
 * one exists; else arg (loading then says what is missing). NULL gives
 * cli_default_model(). May return a static string. */
const char *cli_model_dir(const char *arg);

/* The folder holding themes/: the source tree, else
 * <binary>/../share/attnscope when it exists, else the compiled-in DATADIR. */
const char *cli_data_dir(void);

/* Print "attnscope <cmd>: <message>\n" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a size_t / double option value; on failure print a usage error
 * naming the option and return -1. */
int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double *out);
/* cli_parse_size plus a range: "OPT must be LO..HI, got S" when outside. */
int cli_parse_range(const char *cmd, const char *opt, const char *s, size_t lo, size_t hi,
                    size_t *out);

/* The tail every command's option parsing shares.
 *
 *   default: return cli_usage_exit(c, usage);      in the getopt switch:
 *                                                  -h prints usage to stdout
 *                                                  (EXIT_OK), anything else to
 *                                                  stderr (EXIT_USAGE)
 *   if (cli_no_args(cmd, argc, argv, hint) ||      no argument left after the
 *       cli_required(cmd, value, msg, usage))      options; a required option
 *       return EXIT_USAGE;                         given
 *
 * cli_no_args prints "unexpected argument 'A'" (hint, when not NULL, is
 * appended) and returns -1 when one is left; cli_required prints msg (then
 * usage to stderr, when usage is not NULL) and returns -1 when value is NULL.
 * Both return 0 otherwise. */
int cli_usage_exit(int c, void (*usage)(FILE *f));
/* For commands that parse with a leading ':' in the option string (opterr
 * 0): in the getopt switch, default: return cli_option_error(cmd, c, argv);
 * prints "option 'X' needs a value" (c == ':') or "unknown option 'X' (see
 * attnscope CMD --help)" and returns EXIT_USAGE. */
int cli_option_error(const char *cmd, int c, char **argv);
int cli_no_args(const char *cmd, int argc, char **argv, const char *hint);
int cli_required(const char *cmd, const char *value, const char *msg, void (*usage)(FILE *f));
/* A file or folder name option (--model, --data, --out, --config,
 * --theme...): *out = s, or a usage error naming the option and -1 when s
 * is empty or only white space. */
int cli_parse_path(const char *cmd, const char *opt, const char *s, const char **out);

#endif
