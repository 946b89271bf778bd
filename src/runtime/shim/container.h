/* Everything the container's first process does to itself between clone and exec. */
#ifndef STACK_SHIM_CONTAINER_H
#define STACK_SHIM_CONTAINER_H

#include "spec.h"

struct container_stdio {
	int in, out, err;
	/* Readable (one byte) once the shim has placed us in our cgroups. */
	int release;
	/* With process.terminal: where the terminal's master goes (tty_attach_console);
	 * in, out and err are then replaced by the terminal. -1 otherwise. */
	int console;
};

/* Runs inside the new namespaces. Returns only on failure, with last_error() set;
 * on success the process image is replaced by the spec's program. */
int container_init(const struct spec *s, const struct container_stdio *stdio);

/* For a process exec'd into a running container, once it has joined the container's
 * namespaces and cgroups: user, capabilities, cwd, no_new_privs, exec. Returns only on failure. */
int container_exec_process(const struct spec *s);

#endif
