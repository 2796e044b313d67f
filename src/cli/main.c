/* main.c - the attnscope binary: git-style subcommands. With no arguments it
 * opens the UI on the bundled model.
 *
 * Deliberately not here: any command's options or work (each is in its
 * src/cli/cmd_<name>.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"tui",     cmd_tui,     "open the terminal UI (the default)"},
    {"solve",   cmd_solve,   "decode equations with a model and check them"},
    {"eval",    cmd_eval,    "score a model on a data set"},
    {"gen",     cmd_gen,     "generate a quadratic-equation data set"},
    {"train",   cmd_train,   "train a T5 from a configuration file"},
    {"dump",    cmd_dump,    "print token ids, decoded text and every attention map as JSON"},
    {"inspect", cmd_inspect, "print a model's configuration and parameter counts"},
    {"bench",   cmd_bench,   "time decoding and training steps"},
    {"report",  cmd_report,  "measure every head and write report.md with figures"},
    {"probe",   cmd_probe,   "fit linear probes: which positions and layers hold which quantity"},
    {"patch",   cmd_patch,   "activation patching: where a changed coefficient's effect lives"},
    {"render",  cmd_render,  "draw attention maps without the UI (ansi, text, svg, png, pdf, csv, json)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: attnscope [COMMAND] [OPTIONS]\n\n"
               "See how a T5 solves a task: every attention map in the terminal.\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'attnscope COMMAND --help' describes each; 'man attnscope' has it all.\n"
               "With no command, attnscope opens the UI on the bundled model.\n");
}

/* The one check of standard output for every command: what a command
 * printed is only out once it is flushed and closed, and a full disk or a
 * closed pipe then is a failed run ("stdout: write error", exit 1), never a
 * silent success. rc is the command's own status, kept when it failed. */
static int close_stdout(const char *name, int rc)
{
    int bad = ferror(stdout), e = 0;
    errno = 0;
    if (fflush(stdout) != 0) bad = 1, e = errno;
    if (fclose(stdout) != 0 && !e) bad = 1, e = errno;
    if (!bad) return rc;
    fprintf(stderr, "attnscope%s%s: stdout: write error%s%s\n", name ? " " : "", name ? name : "",
            e ? ": " : "", e ? strerror(e) : "");
    return rc == EXIT_OK ? EXIT_FAIL : rc;
}

static int dispatch(int argc, char **argv, const char **name_out);

int main(int argc, char **argv)
{
    const char *name = argc < 2 ? "tui" : NULL;
    int rc = dispatch(argc, argv, &name);
    return close_stdout(name, rc);
}

static int dispatch(int argc, char **argv, const char **name_out)
{
    if (argc < 2) return cmd_tui(argc, argv);
    const char *name = argv[1];
    if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
        printf("attnscope %s\n", ATTNSCOPE_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name)) {
            *name_out = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    /* An option or an equation without a command goes to the UI. */
    if ((name[0] == '-' && name[1] == '-') || strchr(name, '=')) {
        *name_out = "tui";
        return cmd_tui(argc, argv);
    }
    fprintf(stderr, "attnscope: unknown command '%s'\n\n", name);
    usage(stderr);
    return EXIT_USAGE;
}
