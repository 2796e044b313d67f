/* raw_input.c - the input file of `attnscope report --raw` (issue 18,
 * section 7; report.c reads it for --raw): one input a line, or
 * "input<TAB>target" for teacher forcing; every line of a file has a target
 * or none does. Bad input names the file and the line.
 *
 * Deliberately not here: tokenising (the model's tokenizer, at trace time,
 * which checks lengths against the model with the same file:line). */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

void rp_raw_free(rp_raw_set *r)
{
    free(r->input);
    free(r->target);
    free(r->line);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

int rp_raw_read(const char *path, size_t limit, rp_raw_set *r, as_err *err)
{
    memset(r, 0, sizeof *r);
    size_t len;
    r->buf = util_read_file(path, &len, err);
    if (!r->buf) return -1;
    size_t cap = 0, line = 0;
    int with_target = -1;
    char *s = r->buf, *end = r->buf + len;
    while (s < end && (!limit || r->n < limit)) {
        char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end;
        line++;
        if (e > s && e[-1] == '\r') e[-1] = '\0', e--;
        *e = '\0';
        for (size_t k = 0; s + k < e;) {
            size_t u = quad_utf8_len((const unsigned char *)s + k, (size_t)(e - s) - k);
            if (!u) {
                rp_raw_free(r);
                return as_errf(err, "%s:%zu: byte %zu is not valid UTF-8", path, line, k + 1);
            }
            k += u;
        }
        char *tab = strchr(s, '\t');
        if (tab && strchr(tab + 1, '\t')) {
            rp_raw_free(r);
            return as_errf(err, "%s:%zu: more than one tab (a line is input, or input<TAB>target)",
                           path, line);
        }
        if (tab) *tab = '\0';
        if (!*s) {
            rp_raw_free(r);
            return as_errf(err, "%s:%zu: empty input (every line needs text to run the model on)",
                           path, line);
        }
        int has = tab != NULL;
        if (with_target >= 0 && has != with_target) {
            rp_raw_free(r);
            return as_errf(err, "%s:%zu: %s (all lines have a target or none does)", path, line,
                           has ? "has a target, the lines before have none"
                               : "has no target, the lines before have one");
        }
        with_target = has;
        if (r->n == cap) {
            cap = cap ? 2 * cap : 64;
            r->input = xrealloc(r->input, cap * sizeof *r->input);
            r->target = xrealloc(r->target, cap * sizeof *r->target);
            r->line = xrealloc(r->line, cap * sizeof *r->line);
        }
        r->input[r->n] = s;
        r->target[r->n] = has ? tab + 1 : NULL;
        r->line[r->n] = line;
        r->n++;
        s = nl ? nl + 1 : end;
    }
    if (r->n == 0) {
        rp_raw_free(r);
        return as_errf(err, "%s: no input lines", path);
    }
    r->has_target = with_target == 1;
    return 0;
}
