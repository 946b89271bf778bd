/* Whole writes to a file descriptor, retried across EINTR and short writes: the log,
 * the state file, the pipes to the caller and the pty relay all need them. */
#ifndef STACK_SHIM_FDIO_H
#define STACK_SHIM_FDIO_H

#include <stddef.h>

/* Returns 0 once all of `data` is written, -1 (errno set) otherwise. */
int write_all(int fd, const char *data, size_t len);

#endif
