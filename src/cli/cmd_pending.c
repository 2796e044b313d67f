/* cmd_pending.c - weak stand-ins for subcommands whose modules are still
 * being written; each real cmd_<name>.c overrides its symbol. Removed once
 * every command exists. */
#include "cli.h"

#define PENDING(name)                                                         \
    __attribute__((weak)) int cmd_##name(int argc, char **argv)               \
    {                                                                         \
        (void)argc;                                                           \
        (void)argv;                                                           \
        cli_error(#name, "this command is not built yet");                    \
        return EXIT_FAIL;                                                     \
    }

PENDING(tui)
PENDING(dump)
PENDING(inspect)
PENDING(gen)
PENDING(solve)
PENDING(eval)
PENDING(train)
PENDING(bench)
