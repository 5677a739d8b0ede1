/* SPDX-License-Identifier: MIT */
/*
 * unit.h — table-driven cmocka cases for pcid's unit tests (house style rule 10).
 *
 * A table is an array of row structures whose first member is `const char *name`. UNIT_ROWS()
 * registers one cmocka case per row, built with cmocka_unit_test_prestate*(): the row is the
 * case's initial state and "<table>/<row name>" its name, so a failure names its row.
 * unit_run() runs every registered case as one group and frees the list.
 *
 * Header-only, included by exactly one test-*.c of each binary.
 */
#ifndef PCID_TESTS_UNIT_H
#define PCID_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct unit_suite {
    struct CMUnitTest *tests;
    size_t n, cap;
};

static inline void unit_add(struct unit_suite *s, const char *table, const char *row,
                            CMUnitTestFunction fn, const void *state, CMFixtureFunction setup,
                            CMFixtureFunction teardown)
{
    struct CMUnitTest t =
        cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)state);
    char *name;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct CMUnitTest *tests = realloc(s->tests, cap * sizeof(*tests));

        if (!tests)
            abort();
        s->tests = tests;
        s->cap = cap;
    }
    if (asprintf(&name, "%s/%s", table, row) < 0)
        abort();
    t.name = name;
    s->tests[s->n++] = t;
}

/* Register every row of `table` (an array) as a case of `fn`, with optional fixtures. */
#define UNIT_ROWS_FIXTURE(suite, table, fn, setup, teardown)                                       \
    for (size_t unit_i_ = 0; unit_i_ < ARRAY_SIZE(table); unit_i_++)                               \
    unit_add((suite), #table, (table)[unit_i_].name, (fn), &(table)[unit_i_], (setup), (teardown))
#define UNIT_ROWS(suite, table, fn) UNIT_ROWS_FIXTURE(suite, table, fn, NULL, NULL)

/*
 * A per-case fixture for rows that need resources: the row, plus cleanups run in reverse order
 * after the case, so an assertion that fails mid-case leaks nothing.
 */
#define UNIT_MAX_CLEANUPS 128
struct unit_fix {
    const void *row;
    int n;
    struct {
        void (*fn)(void *);
        void *p;
    } cleanup[UNIT_MAX_CLEANUPS];
};

static inline int unit_fix_setup(void **state)
{
    struct unit_fix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->row = *state;
    *state = f;
    return 0;
}

static inline int unit_fix_teardown(void **state)
{
    struct unit_fix *f = *state;

    while (f->n > 0) {
        f->n--;
        f->cleanup[f->n].fn(f->cleanup[f->n].p);
    }
    free(f);
    return 0;
}

/* Call fn(p) after the case; returns p. */
static inline void *unit_defer(struct unit_fix *f, void (*fn)(void *), void *p)
{
    assert_true(f->n < UNIT_MAX_CLEANUPS);
    f->cleanup[f->n].fn = fn;
    f->cleanup[f->n].p = p;
    f->n++;
    return p;
}

/* Register rows whose case receives a struct unit_fix (row in ->row). */
#define UNIT_ROWS_FIX(suite, table, fn)                                                            \
    UNIT_ROWS_FIXTURE(suite, table, fn, unit_fix_setup, unit_fix_teardown)

/* Run everything registered in `s` as group `group`; returns the number of failures. */
static inline int unit_run(struct unit_suite *s, const char *group)
{
    int failed = _cmocka_run_group_tests(group, s->tests, s->n, NULL, NULL);

    for (size_t i = 0; i < s->n; i++)
        free((char *)s->tests[i].name);
    free(s->tests);
    *s = (struct unit_suite){0};
    return failed;
}

#endif
