/* lsan_suppress.c - leaks that are not attnscope's, for LeakSanitizer in
 * `make SANITIZE=1` builds (and the fuzz targets, which link the same
 * objects): Debian 12's libconfig 1.5 leaks its scanner's string buffer
 * (strbuf_append) when a file ends inside a string literal, and a byte in
 * its lexer (libconfig_yylex) on some runs of adjacent string literals. A
 * bare config_init / config_read_file / config_destroy program leaks the
 * same (tests/fuzz/corpus/theme/unterminated_string.cfg and
 * tests/fuzz/corpus/train_config/lexer_leak.cfg are the cases). Without
 * this, a person's broken config.cfg or train.cfg would fail every
 * sanitizer run.
 *
 * LeakSanitizer calls this hook when it exists; other builds never do.
 *
 * Deliberately not here: anything of attnscope's own (a leak of ours must
 * fail the sanitizer run). */

const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n"
           "leak:libconfig_yylex\n";
}
