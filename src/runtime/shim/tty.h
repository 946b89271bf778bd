/* Terminals for `exec -t`: a pty pair opened inside the container's mount namespace,
 * the slave made the controlling terminal of the exec'd process, the master relayed
 * to the caller's stdio by the shim. */
#ifndef STACK_SHIM_TTY_H
#define STACK_SHIM_TTY_H

#include <sys/types.h>

struct tty_pair {
	int master;
	char slave_path[64];
};

/* Opens /dev/ptmx as the current mount namespace sees it; rows/cols of 0 keep the
 * caller's terminal size when stdin is one. Returns -1 with last_error() set. */
int tty_open(struct tty_pair *tty, unsigned short rows, unsigned short cols);

/* In the child: new session, the slave as controlling terminal and as fds 0, 1, 2. */
int tty_become_controlling(const struct tty_pair *tty);

/* In the shim: relays stdin -> master and master -> stdout until `child` has exited
 * and the master has nothing left, following the caller's window size on SIGWINCH.
 * Returns the child's wait status. */
int tty_relay(const struct tty_pair *tty, pid_t child);

/* Where a caller without a terminal writes "ROWS COLS" before sending SIGWINCH.
 * Opened at once: after joining the container's mount namespace the path would
 * resolve inside the container. */
int tty_set_size_file(const char *path);

#endif
