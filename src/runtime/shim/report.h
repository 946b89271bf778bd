/* Failure reporting shared by every step of the shim. A step that fails records one
 * message naming itself and the path or value it was working on; the message then
 * travels to the caller's stderr and into the state file. One buffer suffices: the
 * shim is single-threaded and each forked process has its own copy. */
#ifndef STACK_SHIM_REPORT_H
#define STACK_SHIM_REPORT_H

#include <stddef.h>

#define SHIM_ERROR_MAX 1024

/* Records "<step>: <detail>: <strerror(errnum)>" (errnum 0 leaves off the last part)
 * and returns -1 so callers can write `return fail(...)`. */
int fail(const char *step, const char *detail, int errnum);
/* Same, with a printf-style detail. */
int failf(const char *step, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *last_error(void);
/* Puts back a message saved before cleanup steps that may record failures of their own. */
void restore_error(const char *message);

/* snprintf that reports truncation as a failure of `step`. */
int join_path(char *out, size_t size, const char *a, const char *b, const char *step);

#endif
