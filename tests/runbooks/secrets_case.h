/*
 * One case of the secrets property: shared by the property test
 * (tests/runbooks/test_secrets.c, random inputs) and the fuzz target
 * (fuzz/fuzz_secrets.c, libFuzzer's inputs).  secrets_case.c says what
 * the bytes mean and what is checked.
 */
#ifndef SECRETS_CASE_H
#define SECRETS_CASE_H

#include <stddef.h>
#include <stdint.h>

/* NULL when no path let a secret through; otherwise which path did and
 * how (a static buffer). */
const char *secrets_case(const uint8_t *data, size_t size);

#endif
