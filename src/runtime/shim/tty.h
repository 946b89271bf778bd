/* Terminals for `exec -t` and for a container's pid 1 (process.terminal): a pty pair
 * opened inside the container's mount namespace, the slave made the controlling terminal
 * of the process, the master relayed by the shim (to the caller's stdio for exec, to the
 * container's log for pid 1). */
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

/* A container's terminal when its spec gives no size, as runc and Docker default. */
#define TTY_DEFAULT_ROWS 24
#define TTY_DEFAULT_COLS 80

/* In the child: new session, the slave as controlling terminal and as fds 0, 1, 2. */
int tty_become_controlling(const struct tty_pair *tty);

/* In the container's pid 1, once its /dev/pts is mounted and it leads its session: a
 * pair of the container's devpts (rows x cols, or the default when 0), the slave bound
 * onto /dev/console, made the controlling terminal and fds 0, 1, 2 (owned by uid), the
 * master sent over console_socket (SCM_RIGHTS) and closed here. -1 with last_error(). */
int tty_attach_console(int console_socket, unsigned short rows, unsigned short cols, uid_t uid);

/* In the supervisor: the master tty_attach_console sent (close-on-exec), or -1. */
int tty_receive_master(int console_socket);

/* Sizes the terminal as the file at path says ("ROWS COLS"); -1 with last_error(). */
int tty_resize_from_file(int master, const char *path);

/* In the shim: relays stdin -> master and master -> stdout until `child` has exited
 * and the master has nothing left, following the caller's window size on SIGWINCH.
 * Returns the child's wait status. */
int tty_relay(const struct tty_pair *tty, pid_t child);

/* Where a caller without a terminal writes "ROWS COLS" before sending SIGWINCH.
 * Opened at once: after joining the container's mount namespace the path would
 * resolve inside the container. */
int tty_set_size_file(const char *path);

#endif
