/* test_classify.c - the head classifier against the labelled set of
 * synthetic maps (an_synth_maps): a person names each at a glance (sharp
 * diagonals over a diffuse background at several offsets, line masses and
 * noise levels; Gaussian bands; stripes; squares; uniform and random
 * rows). Every map must get its label (sharp diagonals their offset, bands
 * theirs within one); the confusion matrix is printed. Then the set itself:
 * rows sum to 1, and a sharp line of 0.28 over 20 keys, which the old rule
 * (one offset >= 0.5) called blurred, is a clear diagonal now, and a faint
 * square that the repeat score misses is a square by its contrast. */
#include "testutil.h"

#include "analysis.h"

static void synthetic_confusion(void **state)
{
    (void)state;
    static an_synth_map set[AN_SYNTH_MAX];
    size_t n = an_synth_maps(set), wrong = 0;
    assert_true(n >= 100 && n <= AN_SYNTH_MAX);
    size_t per_label[AN_CLASS_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        per_label[set[i].label]++;
        for (size_t q = 0; q < AN_SYNTH_N; q++) {
            double s = 0;
            for (size_t k = 0; k < AN_SYNTH_N; k++) s += set[i].map[q * AN_SYNTH_N + k];
            if (!(fabs(s - 1.0) < 1e-5)) fail_msg("%s: row %zu sums to %g", set[i].name, q, s);
        }
        an_head_class c;
        an_synth_classify(&set[i], &c);
        if (!an_synth_right(&set[i], &c)) {
            printf("  %-36s -> %-10s (diag %.2f contrast %.1f argmax %.2f band %.2f stripe %.2f "
                   "block %.2f sq_contrast %.1f sq_cover %.2f sq_inside %.2f sq_edge %.1f)\n", set[i].name,
                   c.label, c.diag, c.contrast, c.argmax, c.band, c.stripe, c.block,
                   c.sq_contrast, c.sq_cover, c.sq_inside, c.sq_edge);
            wrong++;
        }
    }
    for (int l = 0; l < AN_CLASS_COUNT; l++) assert_true(per_label[l] >= 9);
    size_t conf[AN_CLASS_COUNT][AN_CLASS_COUNT], total;
    assert_int_equal(an_synth_confusion(conf, &total), wrong);
    assert_int_equal(total, n);
    printf("confusion (rows: label, columns: class) over %zu maps\n%-18s", n, "");
    for (int k = 0; k < AN_CLASS_COUNT; k++) printf(" %3c", an_class_mark((an_class)k));
    printf("\n");
    for (int l = 0; l < AN_CLASS_COUNT; l++) {
        printf("%-18s", an_class_name((an_class)l));
        for (int k = 0; k < AN_CLASS_COUNT; k++) printf(" %3zu", conf[l][k]);
        printf("\n");
    }
    if (wrong) fail_msg("%zu of %zu synthetic maps misclassified", wrong, n);
    /* The first sharp map: offset -2, line 0.28, no noise. */
    an_head_class c;
    an_synth_classify(&set[0], &c);
    assert_string_equal(set[0].name, "sharp -2 w 0.28 noise 0.0");
    assert_true(c.diag < AN_DIAG_CLEAR);
    assert_true(c.contrast >= AN_DIAG_CONTRAST);
    assert_string_equal(c.label, "diag -2");
    /* A faint square: 0.4 of each row over 4 of 20 keys. The repeat score
     * misses it (block < AN_BLOCK_MIN); the contrast rule takes it. */
    size_t i = 0;
    while (i < n && strcmp(set[i].name, "squares 4 inside 0.40 noise 0.0") != 0) i++;
    assert_true(i < n);
    an_synth_classify(&set[i], &c);
    assert_true(c.block < AN_BLOCK_MIN);
    assert_true(c.sq_contrast > 3.2 && c.sq_contrast < 3.4); /* 0.4 * 16 / (4 * 0.6) */
    assert_true(c.sq_cover > 0.99);
    assert_string_equal(c.label, "squares");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synthetic_confusion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
