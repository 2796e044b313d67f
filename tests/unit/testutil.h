/* testutil.h - shared helpers for the cmocka unit tests. */
#ifndef ATTNSCOPE_TESTUTIL_H
#define ATTNSCOPE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

/* Fail with the index and both values when |a-b| > atol + rtol*|b|. */
#define assert_close_array(a, b, n, atol, rtol)                                          \
    do {                                                                                 \
        for (size_t i_ = 0; i_ < (size_t)(n); i_++) {                                    \
            double x_ = (a)[i_], y_ = (b)[i_];                                           \
            if (!(fabs(x_ - y_) <= (atol) + (rtol) * fabs(y_))) {                        \
                fail_msg("%s[%zu] = %.8g, expected %s[%zu] = %.8g", #a, i_, x_, #b, i_, y_); \
            }                                                                            \
        }                                                                                \
    } while (0)

/* The source tree's tests/fixtures folder (tests run from the top level). */
#define FIXTURES "tests/fixtures"

#endif
