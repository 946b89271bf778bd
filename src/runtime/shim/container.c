/* The container's first process, from clone to exec (and the tail of that path for
 * processes exec'd in later). Order matters and follows the OCI runtime spec as runc
 * implements it (the process has already entered its v1 cgroups):
 *   stdio, signals reset, new session -> hostname, loopback -> mounts, /dev ->
 *   pivot_root -> terminal (process.terminal: a pair of the container's own devpts,
 *   so after pivot_root; before the user switch, which would forbid binding
 *   /dev/console) -> sysctls -> read-only and masked paths -> rlimits -> drop the bounding set (needs
 *   CAP_SETPCAP, so before the user switch) -> groups, gid, uid (keeping caps across
 *   setuid) -> capset and ambient -> cwd (as the user, so permissions apply) ->
 *   no_new_privs -> wait until placed in v2 cgroups -> fork off the program when pid 1
 *   is our init -> close every inherited fd -> exec. */
#include "container.h"
#include "report.h"
#include "rootfs.h"
#include "title.h"
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int setup_stdio(const struct container_stdio *stdio)
{
	if (dup2(stdio->in, 0) < 0 || dup2(stdio->out, 1) < 0 || dup2(stdio->err, 2) < 0)
		return fail("stdio", "dup2 onto 0, 1, 2", errno);
	return 0;
}

/* The shim blocks signals to read them from a signalfd; a blocked mask and ignored
 * dispositions survive exec, so the container would start deaf without this. */
static int reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return fail("signals", "unblock all", errno);
	return 0;
}

static int bring_loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fail("loopback", "socket", errno);
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		int err = errno;

		close(fd);
		return fail("loopback", "bring lo up", err);
	}
	close(fd);
	return 0;
}

static int write_oom_score_adj(int value)
{
	char text[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	size_t len;

	if (fd < 0)
		return fail("oom_score_adj", "/proc/self/oom_score_adj", errno);
	len = (size_t)snprintf(text, sizeof text, "%d", value);
	if (write(fd, text, len) != (ssize_t)len) {
		int err = errno;

		close(fd);
		return failf("oom_score_adj", err, "%d", value);
	}
	close(fd);
	return 0;
}

static int apply_rlimits(const struct spec *s)
{
	/* Only what the spec lists: some hosts refuse raising NOFILE or NPROC. */
	for (size_t i = 0; i < s->nrlimits; i++) {
		struct rlimit rl = { s->rlimits[i].soft, s->rlimits[i].hard };

		if (setrlimit(s->rlimits[i].resource, &rl) < 0)
			return failf("rlimit", errno, "resource %d soft %llu hard %llu", s->rlimits[i].resource,
				     s->rlimits[i].soft, s->rlimits[i].hard);
	}
	return 0;
}

static int last_capability(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char text[16] = "";
	ssize_t n;

	if (fd < 0)
		return CAP_LAST_CAP;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	return n > 0 ? atoi(text) : CAP_LAST_CAP;
}

static int drop_bounding_set(const struct spec *s, int last_cap)
{
	for (int cap = 0; cap <= last_cap; cap++) {
		if (cap < 64 && (s->caps[CAP_SET_BOUNDING] & (UINT64_C(1) << cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return failf("capabilities", errno, "drop %d from the bounding set", cap);
	}
	return 0;
}

static int switch_user(const struct spec *s)
{
	/* Without KEEPCAPS, leaving uid 0 would empty the permitted set before capset. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return fail("user", "PR_SET_KEEPCAPS", errno);
	if (setgroups(s->nadditional_gids, s->additional_gids) < 0)
		return failf("user", errno, "setgroups (%zu additional groups)", s->nadditional_gids);
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		return failf("user", errno, "setgid %u", (unsigned)s->gid);
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		return failf("user", errno, "setuid %u", (unsigned)s->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail("user", "clear PR_SET_KEEPCAPS", errno);
	return 0;
}

/* A capability the shim lacks itself cannot be granted (capset says only EPERM);
 * name it, since hosts that drop some (CAP_SYS_RESOURCE here and there) are common. */
static int check_capabilities_available(const struct spec *s)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t have, want;

	if (syscall(SYS_capget, &header, data) < 0)
		return fail("capabilities", "capget", errno);
	have = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
	want = s->caps[CAP_SET_EFFECTIVE] | s->caps[CAP_SET_PERMITTED] | s->caps[CAP_SET_INHERITABLE];
	for (int cap = 0; cap < 64; cap++)
		if ((want & ~have) & (UINT64_C(1) << cap))
			return failf("capabilities", 0, "the spec grants %s, which the runtime itself does not have on this host",
				     capability_name(cap));
	return 0;
}

static int set_capabilities(const struct spec *s, int last_cap)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof data);
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(s->caps[CAP_SET_EFFECTIVE] >> (32 * i));
		data[i].permitted = (uint32_t)(s->caps[CAP_SET_PERMITTED] >> (32 * i));
		data[i].inheritable = (uint32_t)(s->caps[CAP_SET_INHERITABLE] >> (32 * i));
	}
	if (syscall(SYS_capset, &header, data) < 0)
		return failf("capabilities", errno, "capset effective %#llx permitted %#llx inheritable %#llx",
			     (unsigned long long)s->caps[CAP_SET_EFFECTIVE], (unsigned long long)s->caps[CAP_SET_PERMITTED],
			     (unsigned long long)s->caps[CAP_SET_INHERITABLE]);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail("capabilities", "clear the ambient set", errno);
	/* The kernel refuses an ambient capability missing from the inheritable set;
	 * specs often list it anyway (runc's own template does), and runc only warns. */
	for (int cap = 0; cap <= last_cap && cap < 64; cap++)
		if ((s->caps[CAP_SET_AMBIENT] & (UINT64_C(1) << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
			return failf("capabilities", errno, "raise %d in the ambient set", cap);
	return 0;
}

static const char *env_value(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (; env && *env; env++)
		if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

/* execvp's search, but in the container's PATH rather than the shim's. */
static int find_program(const struct spec *s, char out[PATH_MAX])
{
	const char *name = s->args[0], *path = env_value(s->env, "PATH");
	int saw_eacces = 0;

	if (strchr(name, '/')) {
		snprintf(out, PATH_MAX, "%s", name);
		return 0;
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		struct stat st;

		if (snprintf(out, PATH_MAX, "%.*s/%s", (int)n, n ? path : ".", name) < PATH_MAX &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			saw_eacces = 1;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	if (saw_eacces)
		return failf("exec", EACCES, "%s", name);
	return failf("exec", 0, "%s: executable file not found in $PATH", name);
}

static void ignore_signal(int sig)
{
	(void)sig;
}

/* pid 1 with `init`: reaps whatever is reparented to it and forwards signals to the
 * one child that runs the program; exits as that child did. The kernel drops signals
 * to a namespace's init that it has no handler for, so every signal gets a (no-op)
 * handler and is then taken synchronously from the blocked set. */
static void run_init(pid_t child)
{
	sigset_t all;

	syscall(SYS_close_range, 3U, ~0U, 0U);
	title_set("init");
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, ignore_signal);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&all, &info), status;
		pid_t pid;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == child)
				_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

/* From the process's own limits to exec: shared by the container's first process
 * and by processes exec'd into it later. release < 0 means nothing to wait for. */
static int become_process(const struct spec *s, int last_cap, int release)
{
	char program[PATH_MAX];

	if (apply_rlimits(s) < 0)
		return -1;
	if (s->has_capabilities && drop_bounding_set(s, last_cap) < 0)
		return -1;
	if (switch_user(s) < 0)
		return -1;
	if (s->has_capabilities && set_capabilities(s, last_cap) < 0)
		return -1;
	if (chdir(s->cwd) < 0)
		return fail("cwd", s->cwd, errno);
	umask(s->has_umask ? s->umask : 022);
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail("no_new_privs", "PR_SET_NO_NEW_PRIVS", errno);
	if (find_program(s, program) < 0)
		return -1;
	/* The shim moves us into v2 cgroups meanwhile (v1 ones we entered ourselves
	 * first thing); nothing of the image runs before it says so. */
	if (release >= 0) {
		char go;
		ssize_t n;

		while ((n = read(release, &go, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			return fail("start", "the shim did not release the container process", n < 0 ? errno : EPIPE);
	}
	/* Forked last, so init and program share every step above; the init never
	 * execs and closes its fds itself, the program reports exec errors as usual. */
	if (s->init) {
		pid_t child = fork();

		if (child < 0)
			return fail("init", "fork the program", errno);
		if (child > 0)
			run_init(child);
	}
	/* CLOEXEC rather than close: the error pipe must stay open until exec
	 * succeeds, and its closing is how the shim learns that it did. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return fail("close inherited fds", "close_range", errno);
	execve(program, s->args, s->env);
	return fail("exec", program, errno);
}

int container_init(const struct spec *s, const struct container_stdio *stdio)
{
	int last_cap;

	if (setup_stdio(stdio) < 0 || reset_signals() < 0)
		return -1;
	if (setsid() < 0)
		return fail("setsid", "container process", errno);
	umask(0);
	last_cap = last_capability();
	if (s->has_capabilities && check_capabilities_available(s) < 0)
		return -1;
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return failf("hostname", errno, "%s", s->hostname);
	if ((s->clone_flags & CLONE_NEWNET) && bring_loopback_up() < 0)
		return -1;

	if (make_propagation_private(s->rootfs_propagation) < 0 ||
	    mount_rootfs(s) < 0 ||
	    pivot_into(s->root_path) < 0 ||
	    (s->terminal && tty_attach_console(stdio->console, s->console_rows, s->console_cols, s->uid) < 0) ||
	    apply_sysctls(s) < 0 ||
	    apply_readonly_paths(s) < 0 ||
	    apply_masked_paths(s) < 0 ||
	    (s->root_readonly && remount_root_readonly() < 0))
		return -1;

	if (s->has_oom_score_adj && write_oom_score_adj(s->oom_score_adj) < 0)
		return -1;
	return become_process(s, last_cap, stdio->release);
}

int container_exec_process(const struct spec *s)
{
	int last_cap;

	if (reset_signals() < 0)
		return -1;
	last_cap = last_capability();
	if (s->has_capabilities && check_capabilities_available(s) < 0)
		return -1;
	return become_process(s, last_cap, -1);
}
