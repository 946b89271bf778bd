/* The state file the engine reads (JSON, replaced atomically) and the container's
 * json-file log, one JSON object per line as Docker's json-file driver writes it. */
#ifndef STACK_SHIM_STATE_H
#define STACK_SHIM_STATE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroups.h"
#include "report.h"

#define TIMESTAMP_MAX 40

struct shim_state {
	const char *id;
	const char *bundle;
	const char *log_path;
	const char *status; /* creating, created, running, stopped */
	pid_t pid;          /* the container's pid 1 as the host sees it; 0 before clone */
	pid_t shim_pid;
	int exited;
	int exit_code;      /* 128+signal when a signal ended it, as shells and Docker report */
	int signal;
	int oom_killed;
	char created_at[TIMESTAMP_MAX];
	char started_at[TIMESTAMP_MAX];
	char finished_at[TIMESTAMP_MAX];
	char error[SHIM_ERROR_MAX];
	const struct cgroups *cgroups;
};

/* RFC 3339 with nanoseconds in UTC, e.g. 2026-11-22T23:01:02.123456789Z. */
void timestamp_now(char out[TIMESTAMP_MAX]);

/* Writes path.tmp, fsyncs it and renames it over path, so readers never see half a file. */
int write_state(const char *path, const struct shim_state *st);

/* Accumulates one stream's bytes and writes whole lines (or 16 KiB pieces, as Docker
 * splits long lines) to the log file. */
struct log_stream {
	const char *name;
	size_t used;
	char pending[16 * 1024];
};

int log_bytes(int log_fd, struct log_stream *ls, const char *data, size_t len);
int log_flush(int log_fd, struct log_stream *ls);

#endif
