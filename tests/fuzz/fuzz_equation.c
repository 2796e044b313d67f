/* fuzz_equation.c - libFuzzer target for the equation parser (quad.h): the
 * input, cut at its first NUL, is what a person typed. quad_parse must
 * either accept it (then the canonical source must parse back to the same
 * equation, and solving and formatting must not crash) or reject it with a
 * column inside the text. The bytes are also split at the first newline
 * into a target and an output for the scoring helpers.
 *
 *   make fuzz            (clang, libFuzzer, ASan+UBSan; FUZZ_SECONDS each)
 *   make test            replays tests/fuzz/corpus/equation with a plain driver
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text);
    quad_eq eq;
    quad_parse_error pe;
    if (quad_parse(text, &eq, &pe) == 0) {
        if (eq.a <= 0) abort(); /* canonical: a > 0 */
        char src[QUAD_SOURCE_MAX];
        if (quad_format_source(&eq, src, sizeof src) < 0) abort();
        quad_eq back;
        if (quad_parse(src, &back, NULL) != 0 || back.a != eq.a || back.b != eq.b ||
            back.c != eq.c)
            abort(); /* the canonical source reads back as the same equation */
        quad_solution sol;
        as_err err;
        if (quad_solve(&eq, &sol, &err) == 0) {
            char tgt[QUAD_TARGET_MAX];
            quad_format_target(&eq, tgt, sizeof tgt, &err);
            if (sol.kind != quad_kind_of(&eq)) abort();
        }
    } else {
        if (pe.byte > len || pe.column < 1 || pe.column > len + 1) abort();
    }
    /* scores on arbitrary text */
    char *nl = memchr(text, '\n', len);
    const char *target = text, *output = "";
    if (nl) {
        *nl = '\0';
        output = nl + 1;
    }
    quad_answer_right(target, output);
    quad_first_diff(target, output);
    quad_scores s;
    memset(&s, 0, sizeof s);
    quad_scores_add(&s, QUAD_TWO_ROOTS, target, output);
    free(text);
    return 0;
}
