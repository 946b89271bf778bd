/* stack-shim: runs one OCI bundle as a container and stays its parent.
 *
 *   stack-shim run --bundle DIR --id ID --state FILE --log FILE [--console-size FILE]
 *   stack-shim exec --state FILE --process FILE
 *   stack-shim delete --state FILE [--force] [--unmount DIR]
 *   stack-shim net-attach < JSON,  stack-shim net-detach < JSON
 *
 * `run` forks twice with a setsid between, so the supervising process belongs to no
 * caller's session and is reparented away from it: the engine may exit or restart
 * while the container keeps running. The first process waits only until the
 * container is running (exit 0, pid on stdout) or has failed to start (exit 1, the
 * failing step on stderr, also in the state file). The supervisor then relays the
 * container's stdout/stderr to the json-file log, forwards signals to its pid 1,
 * reaps, and records the exit in the state file. With a `stack.network` annotation
 * the supervisor also wires the container's network before it starts (and unwires it
 * if the start fails); after the exit, `net-detach` is the engine's to run.
 *
 * `exec` joins a running container's cgroups and namespaces, runs the process object
 * with the caller's stdio, and exits with its status (128+signal if a signal ended it). */
#include "fdio.h"
#include "netsetup.h"
#include "cgroups.h"
#include "container.h"
#include "report.h"
#include "spec.h"
#include "state.h"
#include "title.h"
#include "tty.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGWINCH };

struct run_options {
	const char *bundle, *id, *state_path, *log_path;
	/* With process.terminal: "ROWS COLS" to size the terminal to on SIGWINCH. */
	const char *console_size_path;
};

static void usage(void)
{
	fputs("usage: stack-shim run --bundle DIR --id ID --state FILE --log FILE [--console-size FILE]\n"
	      "       stack-shim exec --state FILE --process FILE [-t [--rows N --cols N] [--size-file FILE]]\n"
	      "       stack-shim delete --state FILE [--force] [--unmount DIR]\n"
	      "       stack-shim net-attach < JSON\n"
	      "       stack-shim net-detach < JSON\n"
	      "       stack-shim unpack DIR < UNCOMPRESSED-TAR\n", stderr);
	exit(2);
}


/* Tells the waiting caller how the start went; it may have died already (EPIPE). */
static void report_start(int *ready_fd, const char *message)
{
	if (*ready_fd < 0)
		return;
	write_all(*ready_fd, message, strlen(message));
	close(*ready_fd);
	*ready_fd = -1;
}

static void record_failure(const struct run_options *o, struct shim_state *st, int *ready_fd)
{
	char message[SHIM_ERROR_MAX + 8];

	if (!st->error[0])
		snprintf(st->error, sizeof st->error, "%s", last_error());
	st->status = "stopped";
	timestamp_now(st->finished_at);
	write_state(o->state_path, st);
	snprintf(message, sizeof message, "error %s", st->error);
	report_start(ready_fd, message);
}

static int valid_id(const char *id)
{
	if (!id[0] || strlen(id) > 128)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_.-", *p)))
			return 0;
	return id[0] != '.';
}

static int redirect_stdio_to_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fail("detach", "/dev/null", errno);
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return fail("detach", "stdio onto /dev/null", errno);
	close(fd);
	return 0;
}

struct relay {
	int fd;
	struct log_stream stream;
};

static void record_exit(struct shim_state *st, int status)
{
	st->exited = 1;
	if (WIFEXITED(status)) {
		st->exit_code = WEXITSTATUS(status);
		st->signal = 0;
	} else {
		st->signal = WTERMSIG(status);
		st->exit_code = 128 + st->signal;
	}
}

/* Relays output and signals until pid 1 has exited and its pipes have drained. With a
 * terminal (relays[0] its master), SIGWINCH resizes it from console_size_path instead. */
static void supervise(struct shim_state *st, int sfd, struct relay relays[2], int log_fd, int terminal, const char *console_size_path)
{
	struct timespec exited_at = { 0, 0 };

	for (;;) {
		struct pollfd fds[3];
		int nfds = 0, timeout = -1;

		fds[nfds++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (int i = 0; i < 2; i++)
			fds[nfds++] = (struct pollfd){ .fd = relays[i].fd, .events = POLLIN };
		if (st->exited) {
			struct timespec now;
			long waited_ms;

			/* Without a pid namespace a background process can keep the pipes
			 * open after pid 1 is gone; stop relaying after a short grace. */
			clock_gettime(CLOCK_MONOTONIC, &now);
			waited_ms = (now.tv_sec - exited_at.tv_sec) * 1000 + (now.tv_nsec - exited_at.tv_nsec) / 1000000;
			if ((relays[0].fd < 0 && relays[1].fd < 0) || waited_ms >= 500)
				break;
			timeout = (int)(500 - waited_ms);
		}
		if (poll(fds, (nfds_t)nfds, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fail("supervise", "poll", errno);
			snprintf(st->error, sizeof st->error, "%s", last_error());
			break;
		}
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGCHLD) {
					int status;
					pid_t pid;

					while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
						if (pid == st->pid && !st->exited) {
							record_exit(st, status);
							clock_gettime(CLOCK_MONOTONIC, &exited_at);
						}
				} else if (si.ssi_signo == SIGWINCH && terminal && console_size_path) {
					/* A bad size file leaves the size as it was; the engine checked what it wrote. */
					if (relays[0].fd >= 0)
						tty_resize_from_file(relays[0].fd, console_size_path);
				} else if (!st->exited) {
					kill(st->pid, (int)si.ssi_signo);
				}
			}
		}
		for (int i = 0; i < 2; i++) {
			char buf[65536];
			ssize_t n;

			if (relays[i].fd < 0 || !(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(relays[i].fd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0) {
				if (log_bytes(log_fd, &relays[i].stream, buf, (size_t)n) < 0 && !st->error[0])
					snprintf(st->error, sizeof st->error, "%s", last_error());
				continue;
			}
			close(relays[i].fd);
			relays[i].fd = -1;
		}
	}
	for (int i = 0; i < 2; i++) {
		log_flush(log_fd, &relays[i].stream);
		if (relays[i].fd >= 0)
			close(relays[i].fd);
	}
}

static int join_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail("join network namespace", path, errno);
	if (setns(fd, CLONE_NEWNET) < 0) {
		int err = errno;

		close(fd);
		return fail("join network namespace", path, err);
	}
	close(fd);
	return 0;
}

/* The attachment of annotations["stack.network"], made here so it costs no ip(8) processes. */
static int read_network(const struct spec *spec, struct net_config *out)
{
	if (net_config_parse(spec->network_json, "annotations.stack.network", NET_CONFIG_ATTACH, out) < 0)
		return -1;
	/* The container joins the namespace the attachment makes: one path for both. */
	if (!spec->netns_path || strcmp(spec->netns_path, out->netns) != 0)
		return failf("config.json", 0, "annotations.stack.network: netns %s must also be the network namespace's path in linux.namespaces", out->netns);
	/* The container's sandbox is born with it, whatever the JSON says. */
	out->create = 1;
	return 0;
}

/* Undoes the attachment of a container that never ran. By now the supervisor may be in
 * the container's namespace; the host ends are deleted from the namespace they are in. */
static void detach_network(const struct net_config *network, int home_netns)
{
	if (setns(home_netns, CLONE_NEWNET) == 0)
		net_detach(network);
}

static int make_pipe(int fds[2], const char *what)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return fail("pipe", what, errno);
	return 0;
}

static void close_if_open(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The container's pid 1 sends its terminal's master over this (tty_attach_console). */
static int make_console_socket(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return fail("socketpair", "terminal", errno);
	return 0;
}

/* The daemonized supervisor: everything from reading the bundle to recording the exit. */
static void run_supervisor(const struct run_options *o, int ready_fd)
{
	static struct spec spec;
	static struct cgroups cg;
	static struct relay relays[2];
	static struct net_config network;
	int home_netns = -1, attached = 0;
	struct shim_state st;
	char cgroup_name[160], message[64];
	int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, console[2] = { -1, -1 };
	int sync_pipe[2], exec_pipe[2], null_fd, log_fd, sfd, master = -1;
	sigset_t signals;
	pid_t pid;
	ssize_t n;

	memset(&st, 0, sizeof st);
	st.id = o->id;
	st.bundle = o->bundle;
	st.log_path = o->log_path;
	st.status = "creating";
	st.shim_pid = getpid();
	st.cgroups = &cg;
	timestamp_now(st.created_at);

	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		fail("subreaper", "PR_SET_CHILD_SUBREAPER", errno);
		goto failed;
	}
	if (redirect_stdio_to_null() < 0 || chdir("/") < 0)
		goto failed;
	/* Whatever the caller leaked to us would otherwise stay open for the container's lifetime. */
	if ((ready_fd > 3 && syscall(SYS_close_range, 3U, (unsigned)ready_fd - 1, 0U) < 0) ||
	    syscall(SYS_close_range, (unsigned)ready_fd + 1, ~0U, 0U) < 0) {
		fail("detach", "close inherited fds", errno);
		goto failed;
	}
	if (load_spec(o->bundle, &spec) < 0)
		goto failed;
	if (spec.network_json && read_network(&spec, &network) < 0)
		goto failed;
	snprintf(cgroup_name, sizeof cgroup_name, "stack-%s", o->id);
	if (cgroups_create(spec.cgroups_path ? spec.cgroups_path : cgroup_name, &spec.resources, &cg) < 0)
		goto failed;
	log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log_fd < 0) {
		fail("open log", o->log_path, errno);
		goto failed_cgroups;
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0) {
		fail("open stdin", "/dev/null", errno);
		goto failed_cgroups;
	}
	/* With a terminal, pid 1's stdio is the terminal and its output comes on the master. */
	if (spec.terminal ? make_console_socket(console) < 0 : make_pipe(out_pipe, "stdout") < 0 || make_pipe(err_pipe, "stderr") < 0)
		goto failed_cgroups;
	if (make_pipe(sync_pipe, "sync") < 0 || make_pipe(exec_pipe, "exec status") < 0)
		goto failed_cgroups;

	/* Blocked before clone so no signal sent meanwhile is lost; read from a signalfd. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
		sigaddset(&signals, forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &signals, NULL) < 0) {
		fail("signals", "block", errno);
		goto failed_cgroups;
	}
	sfd = signalfd(-1, &signals, SFD_CLOEXEC);
	if (sfd < 0) {
		fail("signals", "signalfd", errno);
		goto failed_cgroups;
	}

	/* Wired before joining: the veths' host ends belong in the namespace we are in now,
	 * and the namespace to join is made by the attachment. */
	if (spec.network_json) {
		home_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home_netns < 0) {
			fail("network namespace", "/proc/self/ns/net", errno);
			goto failed_cgroups;
		}
		if (net_attach(&network) < 0)
			goto failed_cgroups;
		attached = 1;
	}
	/* Joined here, in the supervisor, so that the container's sysctls and every process
	 * forked below land in it; the supervisor itself has no use for the host's network. */
	if (spec.netns_path && join_netns(spec.netns_path) < 0)
		goto failed_cgroups;

	/* clone with a NULL stack behaves like fork, with the namespaces made at once. */
	pid = (pid_t)syscall(SYS_clone, (unsigned long)spec.clone_flags | SIGCHLD, NULL, NULL, NULL, 0UL);
	if (pid < 0) {
		failf("clone", errno, "namespaces %#x", spec.clone_flags);
		goto failed_cgroups;
	}
	if (pid == 0) {
		struct container_stdio stdio = { null_fd, spec.terminal ? null_fd : out_pipe[1], spec.terminal ? null_fd : err_pipe[1],
						 sync_pipe[0], console[1] };

		close(sync_pipe[1]);
		close(exec_pipe[0]);
		close_if_open(console[0]);
		/* First thing, before any setup: what the container does is charged to it. */
		if (cgroups_enter_v1(&cg) == 0)
			container_init(&spec, &stdio);
		write_all(exec_pipe[1], last_error(), strlen(last_error()));
		_exit(127);
	}
	st.pid = pid;
	close_if_open(out_pipe[1]);
	close_if_open(err_pipe[1]);
	close_if_open(console[1]);
	close(sync_pipe[0]);
	close(exec_pipe[1]);
	close(null_fd);
	if (cgroups_place_v2(&cg, pid) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto failed_cgroups;
	}
	st.status = "created";
	if (write_state(o->state_path, &st) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto failed_cgroups;
	}
	/* EPIPE here means the child already failed; its reason is on the exec pipe. */
	write_all(sync_pipe[1], "g", 1);
	close(sync_pipe[1]);

	/* EOF with nothing read means exec succeeded (the pipe was close-on-exec). */
	{
		char why[SHIM_ERROR_MAX];
		size_t got = 0;

		while ((n = read(exec_pipe[0], why + got, sizeof why - 1 - got)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			got += (size_t)n;
			if (got == sizeof why - 1)
				break;
		}
		close(exec_pipe[0]);
		if (got) {
			int status;

			why[got] = '\0';
			snprintf(st.error, sizeof st.error, "%s", why);
			waitpid(pid, &status, 0);
			goto failed_cgroups;
		}
	}
	/* Sent before exec, so it is waiting in the socket now that exec succeeded. */
	if (spec.terminal) {
		master = tty_receive_master(console[0]);
		close(console[0]);
		if (master < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			goto failed_cgroups;
		}
	}
	st.status = "running";
	timestamp_now(st.started_at);
	if (write_state(o->state_path, &st) < 0) {
		kill(pid, SIGKILL);
		goto failed_cgroups;
	}
	snprintf(message, sizeof message, "ok %d\n", (int)pid);
	report_start(&ready_fd, message);
	/* Needed only to undo a failed start; the host's namespace stays out of reach. */
	if (home_netns >= 0)
		close(home_netns);

	/* A terminal has one output, logged as stdout as Docker does; EIO on it (every
	 * slave closed) ends it as EOF ends a pipe. */
	relays[0] = (struct relay){ .fd = spec.terminal ? master : out_pipe[0], .stream = { .name = "stdout" } };
	relays[1] = (struct relay){ .fd = err_pipe[0], .stream = { .name = "stderr" } };
	supervise(&st, sfd, relays, log_fd, spec.terminal, o->console_size_path);
	st.oom_killed = cgroups_oom_kills(&cg) > 0;
	st.status = "stopped";
	timestamp_now(st.finished_at);
	write_state(o->state_path, &st);
	exit(0);

failed_cgroups:
	/* The container never ran: nothing in its cgroups is worth keeping. The reason
	 * is saved first because a failed removal would overwrite last_error(). */
	if (!st.error[0])
		snprintf(st.error, sizeof st.error, "%s", last_error());
	if (attached)
		detach_network(&network, home_netns);
	cgroups_remove(&cg);
failed:
	record_failure(o, &st, &ready_fd);
	exit(1);
}

static char *absolute(const char *path, const char *what)
{
	char *resolved;

	if (path[0] == '/')
		return strdup(path);
	resolved = malloc(PATH_MAX);
	if (!resolved || !getcwd(resolved, PATH_MAX) || strlen(resolved) + strlen(path) + 2 > PATH_MAX) {
		fprintf(stderr, "stack-shim: %s: cannot make %s absolute\n", what, path);
		exit(1);
	}
	strcat(resolved, "/");
	strcat(resolved, path);
	return resolved;
}

static int command_run(int argc, char **argv)
{
	struct run_options o = { 0 };
	int ready[2], status;
	char reply[SHIM_ERROR_MAX + 16];
	size_t got = 0;
	pid_t middle;
	ssize_t n;

	for (int i = 2; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--bundle") == 0 ? &o.bundle :
				    strcmp(argv[i], "--id") == 0     ? &o.id :
				    strcmp(argv[i], "--state") == 0  ? &o.state_path :
				    strcmp(argv[i], "--log") == 0    ? &o.log_path :
				    strcmp(argv[i], "--console-size") == 0 ? &o.console_size_path : NULL;

		if (!slot || i + 1 == argc)
			usage();
		*slot = argv[++i];
	}
	if (!o.bundle || !o.id || !o.state_path || !o.log_path)
		usage();
	if (!valid_id(o.id)) {
		fprintf(stderr, "stack-shim: --id %s: use letters, digits, '_', '.', '-' (at most 128, not starting with '.')\n", o.id);
		return 1;
	}
	{
		const char *given = o.bundle;

		o.bundle = realpath(given, NULL);
		if (!o.bundle) {
			fprintf(stderr, "stack-shim: bundle: %s: %s\n", given, strerror(errno));
			return 1;
		}
	}
	o.state_path = absolute(o.state_path, "state");
	o.log_path = absolute(o.log_path, "log");
	if (o.console_size_path)
		o.console_size_path = absolute(o.console_size_path, "console size");

	if (pipe2(ready, O_CLOEXEC) < 0) {
		perror("stack-shim: pipe");
		return 1;
	}
	middle = fork();
	if (middle < 0) {
		perror("stack-shim: fork");
		return 1;
	}
	if (middle == 0) {
		pid_t supervisor;

		close(ready[0]);
		if (setsid() < 0)
			_exit(1);
		supervisor = fork();
		if (supervisor < 0)
			_exit(1);
		if (supervisor == 0)
			run_supervisor(&o, ready[1]);
		_exit(0);
	}
	close(ready[1]);
	while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
		;
	while ((n = read(ready[0], reply + got, sizeof reply - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
		if (got == sizeof reply - 1)
			break;
	}
	reply[got] = '\0';
	if (strncmp(reply, "ok ", 3) == 0) {
		fputs(reply + 3, stdout);
		return 0;
	}
	if (strncmp(reply, "error ", 6) == 0) {
		fprintf(stderr, "stack-shim: %s\n", reply + 6);
		return 1;
	}
	fprintf(stderr, "stack-shim: the supervisor exited before reporting the start of %s\n", o.id);
	return 1;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static int pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* The container's rootfs, unmounted in the same process that removed its cgroups (one
 * process per removal instead of two). Busy (a leftover process of the container
 * holds it): detached, so its directory can go; not mounted, or gone: nothing to do. */
static int unmount_rootfs(const char *dir)
{
	if (umount2(dir, 0) == 0 || errno == EINVAL || errno == ENOENT)
		return 0;
	if (umount2(dir, MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT)
		return 0;
	fprintf(stderr, "stack-shim: delete: cannot unmount %s: %s\n", dir, strerror(errno));
	return -1;
}

static int command_delete(int argc, char **argv)
{
	const char *state_path = NULL, *unmount = NULL;
	int force = 0, rc = 0;
	cJSON *doc, *cgroups, *entry, *status, *shim_pid, *pid;
	char *text;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state_path = argv[++i];
		else if (strcmp(argv[i], "--unmount") == 0 && i + 1 < argc)
			unmount = argv[++i];
		else
			usage();
	}
	if (!state_path)
		usage();
	text = read_text(state_path);
	if (!text) {
		fprintf(stderr, "stack-shim: delete: %s: %s\n", state_path, strerror(errno));
		return 1;
	}
	doc = cJSON_Parse(text);
	free(text);
	if (!doc) {
		fprintf(stderr, "stack-shim: delete: %s is not valid JSON\n", state_path);
		return 1;
	}
	status = cJSON_GetObjectItemCaseSensitive(doc, "status");
	shim_pid = cJSON_GetObjectItemCaseSensitive(doc, "shimPid");
	pid = cJSON_GetObjectItemCaseSensitive(doc, "pid");
	if (cJSON_IsString(status) && strcmp(status->valuestring, "stopped") != 0 && cJSON_IsNumber(shim_pid) &&
	    pid_alive((pid_t)shim_pid->valuedouble)) {
		if (!force) {
			fprintf(stderr, "stack-shim: delete: the container is %s; stop it first or pass --force\n", status->valuestring);
			cJSON_Delete(doc);
			return 1;
		}
		if (cJSON_IsNumber(pid) && pid->valuedouble > 0)
			kill((pid_t)pid->valuedouble, SIGKILL);
		/* Let the supervisor record the exit before its cgroups go. */
		for (int i = 0; i < 500 && pid_alive((pid_t)shim_pid->valuedouble); i++) {
			struct timespec pause = { 0, 10 * 1000 * 1000 };

			nanosleep(&pause, NULL);
		}
	}
	cgroups = cJSON_GetObjectItemCaseSensitive(doc, "cgroups");
	cJSON_ArrayForEach(entry, cgroups) {
		cJSON *path = cJSON_GetObjectItemCaseSensitive(entry, "path");

		if (cJSON_IsString(path) && cgroup_remove_dir(path->valuestring) < 0) {
			fprintf(stderr, "stack-shim: %s\n", last_error());
			rc = 1;
		}
	}
	cJSON_Delete(doc);
	if (unmount && unmount_rootfs(unmount) < 0)
		rc = 1;
	return rc;
}

static pid_t exec_child;

static void forward_to_exec_child(int sig)
{
	if (exec_child > 0)
		kill(exec_child, sig);
}

/* Namespaces in the order runc joins them; mnt last, since joining it changes what
 * /proc paths resolve to (the fds are all opened first anyway). */
static const char *const exec_namespaces[] = { "ipc", "uts", "net", "pid", "mnt" };

static int command_exec(int argc, char **argv)
{
	const char *state_path = NULL, *process_path = NULL;
	int use_tty = 0;
	unsigned long rows = 0, cols = 0;
	struct tty_pair tty = { -1, "" };
	int ns_fds[sizeof exec_namespaces / sizeof exec_namespaces[0]], status, err_pipe[2];
	static struct spec process;
	cJSON *doc, *cgroups, *entry, *st, *pid_item;
	char *text, path[PATH_MAX], why[SHIM_ERROR_MAX];
	size_t got = 0;
	pid_t pid;
	ssize_t n;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state_path = argv[++i];
		else if (strcmp(argv[i], "--process") == 0 && i + 1 < argc)
			process_path = argv[++i];
		else if (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--tty") == 0)
			use_tty = 1;
		else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
			rows = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--cols") == 0 && i + 1 < argc)
			cols = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--size-file") == 0 && i + 1 < argc) {
			if (tty_set_size_file(argv[++i]) < 0) {
				fprintf(stderr, "stack-shim: exec: %s\n", last_error());
				return 125;
			}
		}
		else
			usage();
	}
	if (rows > 0xffff || cols > 0xffff)
		usage();
	if (!state_path || !process_path)
		usage();
	if (load_process(process_path, &process) < 0) {
		fprintf(stderr, "stack-shim: %s\n", last_error());
		return 125;
	}
	text = read_text(state_path);
	doc = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!doc) {
		fprintf(stderr, "stack-shim: exec: cannot read the state file %s\n", state_path);
		return 125;
	}
	st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	pid_item = cJSON_GetObjectItemCaseSensitive(doc, "pid");
	if (!cJSON_IsString(st) || strcmp(st->valuestring, "running") != 0 || !cJSON_IsNumber(pid_item)) {
		fprintf(stderr, "stack-shim: exec: the container is %s, not running\n", cJSON_IsString(st) ? st->valuestring : "in an unknown state");
		cJSON_Delete(doc);
		return 125;
	}
	pid = (pid_t)pid_item->valuedouble;
	for (size_t i = 0; i < sizeof exec_namespaces / sizeof exec_namespaces[0]; i++) {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, exec_namespaces[i]);
		ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (ns_fds[i] < 0) {
			fprintf(stderr, "stack-shim: exec: open %s: %s\n", path, strerror(errno));
			cJSON_Delete(doc);
			return 125;
		}
	}
	/* Into the cgroups first, so the process we fork below is born inside them. */
	cgroups = cJSON_GetObjectItemCaseSensitive(doc, "cgroups");
	cJSON_ArrayForEach(entry, cgroups) {
		cJSON *dir = cJSON_GetObjectItemCaseSensitive(entry, "path");
		cJSON *version = cJSON_GetObjectItemCaseSensitive(entry, "version");
		int fd;

		if (!cJSON_IsString(dir) || !cJSON_IsNumber(version))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir->valuestring, version->valuedouble == 1 ? "tasks" : "cgroup.procs");
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			fprintf(stderr, "stack-shim: exec: join cgroup %s: %s\n", path, strerror(errno));
			cJSON_Delete(doc);
			return 125;
		}
		close(fd);
	}
	cJSON_Delete(doc);
	for (size_t i = 0; i < sizeof exec_namespaces / sizeof exec_namespaces[0]; i++) {
		if (setns(ns_fds[i], 0) < 0) {
			fprintf(stderr, "stack-shim: exec: join the %s namespace of %d: %s\n", exec_namespaces[i], (int)pid, strerror(errno));
			return 125;
		}
		close(ns_fds[i]);
	}
	/* Opened after joining the mount namespace, so the pair comes from the container's
	 * devpts and the process sees its terminal as /dev/pts/N of its own. */
	if (use_tty && tty_open(&tty, (unsigned short)rows, (unsigned short)cols) < 0) {
		fprintf(stderr, "stack-shim: exec: %s\n", last_error());
		return 125;
	}
	if (pipe2(err_pipe, O_CLOEXEC) < 0) {
		perror("stack-shim: exec: pipe");
		return 125;
	}
	/* A new pid namespace applies to children only, hence the fork. */
	exec_child = fork();
	if (exec_child < 0) {
		perror("stack-shim: exec: fork");
		return 125;
	}
	if (exec_child == 0) {
		close(err_pipe[0]);
		if (!use_tty || tty_become_controlling(&tty) == 0)
			container_exec_process(&process);
		write_all(err_pipe[1], last_error(), strlen(last_error()));
		_exit(127);
	}
	close(err_pipe[1]);
	signal(SIGTERM, forward_to_exec_child);
	signal(SIGINT, forward_to_exec_child);
	signal(SIGHUP, forward_to_exec_child);
	while ((n = read(err_pipe[0], why + got, sizeof why - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
		if (got == sizeof why - 1)
			break;
	}
	why[got] = '\0';
	if (use_tty && !got)
		status = tty_relay(&tty, exec_child);
	else
		while (waitpid(exec_child, &status, 0) < 0)
			if (errno != EINTR)
				return 125;
	if (got) {
		fprintf(stderr, "stack-shim: %s\n", why);
		return 126;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* net-attach / net-detach: the attachment described on stdin (see netsetup.h). */
static int command_net(int argc, char **argv, enum net_config_use use)
{
	struct net_config config;
	char *json = NULL;
	size_t cap = 0;
	int rc;

	if (argc != 2)
		usage();
	if (getdelim(&json, &cap, '\0', stdin) < 0) {
		fprintf(stderr, "stack-shim: %s: reading stdin: %s\n", argv[1], ferror(stdin) ? strerror(errno) : "no input");
		free(json);
		return 1;
	}
	rc = net_config_parse(json, argv[1], use, &config);
	free(json);
	if (rc == 0) {
		rc = use == NET_CONFIG_ATTACH ? net_attach(&config) : net_detach(&config);
		net_config_free(&config);
	}
	if (rc < 0) {
		fprintf(stderr, "stack-shim: %s\n", last_error());
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	title_init(argc, argv);
	if (strcmp(argv[1], "run") == 0)
		return command_run(argc, argv);
	if (strcmp(argv[1], "delete") == 0)
		return command_delete(argc, argv);
	if (strcmp(argv[1], "exec") == 0)
		return command_exec(argc, argv);
	if (strcmp(argv[1], "net-attach") == 0)
		return command_net(argc, argv, NET_CONFIG_ATTACH);
	if (strcmp(argv[1], "net-detach") == 0)
		return command_net(argc, argv, NET_CONFIG_DETACH);
	if (strcmp(argv[1], "unpack") == 0) { int command_unpack(int, char **); return command_unpack(argc, argv); }
	usage();
	return 2;
}
