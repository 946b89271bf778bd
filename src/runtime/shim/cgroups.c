/* cgroup detection and setup. v1 controllers are mounted one hierarchy each (or a
 * few together); v2 is one tree. On a hybrid machine a controller lives in exactly one
 * of them, so the choice is made per controller. Paths always start from the cgroup
 * this process is already in, which is the subtree whoever runs us delegated to us. */
#include "cgroups.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *const cgroup_controller_names[CGROUP_CONTROLLERS] = { "memory", "cpu", "pids", "devices", "freezer" };

static int has_word(const char *list, const char *word, char sep)
{
	size_t len = strlen(word);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, sep);
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && strncmp(p, word, len) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

struct hierarchy {
	char mountpoint[PATH_MAX];
	char root[PATH_MAX]; /* the part of the hierarchy this mount shows */
};

/* mountinfo line: id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
static int find_mounts(struct hierarchy v1[CGROUP_CONTROLLERS], struct hierarchy *v2)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	if (!f)
		return fail("detect cgroups", "/proc/self/mountinfo", errno);
	while (fgets(line, sizeof line, f)) {
		char root[PATH_MAX], mountpoint[PATH_MAX], fstype[64], superopts[1024];
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mountpoint) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, superopts) != 2)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !v2->mountpoint[0]) {
			strcpy(v2->mountpoint, mountpoint);
			strcpy(v2->root, root);
		} else if (strcmp(fstype, "cgroup") == 0) {
			for (int c = 0; c < CGROUP_CONTROLLERS; c++)
				if (!v1[c].mountpoint[0] && has_word(superopts, cgroup_controller_names[c], ',')) {
					strcpy(v1[c].mountpoint, mountpoint);
					strcpy(v1[c].root, root);
				}
		}
	}
	fclose(f);
	return 0;
}

/* /proc/self/cgroup: "<id>:<controllers>:<path>"; v2 is "0::<path>". */
static int own_paths(char v1[CGROUP_CONTROLLERS][PATH_MAX], char *v2)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX + 256];

	if (!f)
		return fail("detect cgroups", "/proc/self/cgroup", errno);
	while (fgets(line, sizeof line, f)) {
		char *controllers = strchr(line, ':'), *path;

		if (!controllers)
			continue;
		controllers++;
		path = strchr(controllers, ':');
		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (controllers[0] == '\0') {
			snprintf(v2, PATH_MAX, "%s", path);
			continue;
		}
		for (int c = 0; c < CGROUP_CONTROLLERS; c++)
			if (has_word(controllers, cgroup_controller_names[c], ','))
				snprintf(v1[c], PATH_MAX, "%s", path);
	}
	fclose(f);
	return 0;
}

/* The directory of cgroup `path` seen through a mount that shows `h->root` of it. */
static int hierarchy_dir(const struct hierarchy *h, const char *path, char *out)
{
	size_t rootlen = strlen(h->root);

	if (strcmp(h->root, "/") != 0 && strncmp(path, h->root, rootlen) == 0 &&
	    (path[rootlen] == '/' || path[rootlen] == '\0'))
		path += rootlen;
	return join_path(out, PATH_MAX, h->mountpoint, path, "detect cgroups");
}

static int write_file(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (join_path(path, sizeof path, dir, file, "write cgroup") < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return failf("write cgroup", errno, "%s (value %s)", path, value);
	n = write(fd, value, strlen(value));
	if (n < 0 || (size_t)n != strlen(value)) {
		int err = n < 0 ? errno : EIO;

		close(fd);
		failf("write cgroup", err, "%s (value %s)", path, value);
		errno = err; /* callers tell EBUSY apart */
		return -1;
	}
	if (close(fd) < 0)
		return failf("write cgroup", errno, "%s (value %s)", path, value);
	return 0;
}

static int write_number(const char *dir, const char *file, long long value)
{
	char text[32];

	snprintf(text, sizeof text, "%lld", value);
	return write_file(dir, file, text);
}

static int valid_relative(const char *relative)
{
	const char *p = relative;

	if (relative[0] == '\0' || relative[0] == '/')
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 2 && strncmp(p, "..", 2) == 0) || (n == 1 && p[0] == '.'))
			return 0;
		p += n;
		while (*p == '/')
			p++;
	}
	return 1;
}

static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s", dir);
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return fail("create cgroup", path, errno);
		*p = '/';
	}
	return 0;
}

static int write_device_rule(const char *dir, int allow, char type, int64_t major, int64_t minor, const char *access)
{
	char rule[64], maj[24], min[24];

	if (type == 'a') {
		snprintf(rule, sizeof rule, "a *:* %s", access);
	} else {
		if (major < 0)
			snprintf(maj, sizeof maj, "*");
		else
			snprintf(maj, sizeof maj, "%lld", (long long)major);
		if (minor < 0)
			snprintf(min, sizeof min, "*");
		else
			snprintf(min, sizeof min, "%lld", (long long)minor);
		snprintf(rule, sizeof rule, "%c %s:%s %s", type, maj, min, access);
	}
	return write_file(dir, allow ? "devices.allow" : "devices.deny", rule);
}

/* Deny everything, then the spec's rules in order, then the nodes the shim itself
 * always creates in /dev (runc appends the same defaults). Without this a container
 * with CAP_MKNOD could make a node for the host's disk and read it. */
static int apply_device_rules(const char *dir, const struct resources_spec *r)
{
	static const struct {
		int64_t major, minor;
	} always[] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 }, { 5, 2 }, { 136, -1 } };

	if (write_device_rule(dir, 0, 'a', -1, -1, "rwm") < 0)
		return -1;
	for (size_t i = 0; i < r->ndevice_rules; i++) {
		const struct device_rule *d = &r->device_rules[i];

		if (write_device_rule(dir, d->allow, d->type, d->major, d->minor, d->access) < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
		if (write_device_rule(dir, 1, 'c', always[i].major, always[i].minor, "rwm") < 0)
			return -1;
	return 0;
}

static int apply_v1(int controller, const char *dir, const struct resources_spec *r)
{
	switch (controller) {
	case CGROUP_MEMORY:
		if (r->memory_limit > 0 && write_number(dir, "memory.limit_in_bytes", r->memory_limit) < 0)
			return -1;
		/* memsw covers memory plus swap and must not be below the memory limit,
		 * so it is written after it; hosts without swap accounting lack the file. */
		if (r->memory_swap != 0 && r->memory_swap != -1 &&
		    write_number(dir, "memory.memsw.limit_in_bytes", r->memory_swap) < 0)
			return -1;
		if (r->memory_reservation > 0 && write_number(dir, "memory.soft_limit_in_bytes", r->memory_reservation) < 0)
			return -1;
		return 0;
	case CGROUP_CPU:
		if (r->cpu_shares && write_number(dir, "cpu.shares", (long long)r->cpu_shares) < 0)
			return -1;
		/* The period first: a quota is checked against the current period. */
		if (r->cpu_period && write_number(dir, "cpu.cfs_period_us", (long long)r->cpu_period) < 0)
			return -1;
		if (r->cpu_quota > 0 && write_number(dir, "cpu.cfs_quota_us", r->cpu_quota) < 0)
			return -1;
		return 0;
	case CGROUP_PIDS:
		if (r->pids_limit > 0 && write_number(dir, "pids.max", r->pids_limit) < 0)
			return -1;
		return 0;
	case CGROUP_DEVICES:
		return apply_device_rules(dir, r);
	}
	return 0;
}

static int apply_v2(int controller, const char *dir, const struct resources_spec *r)
{
	char text[64];

	switch (controller) {
	case CGROUP_MEMORY:
		if (r->memory_limit > 0 && write_number(dir, "memory.max", r->memory_limit) < 0)
			return -1;
		/* OCI's swap is memory+swap (v1's meaning); v2 limits swap alone. */
		if (r->memory_swap > 0 && r->memory_limit > 0 &&
		    write_number(dir, "memory.swap.max", r->memory_swap - r->memory_limit) < 0)
			return -1;
		if (r->memory_reservation > 0 && write_number(dir, "memory.low", r->memory_reservation) < 0)
			return -1;
		return 0;
	case CGROUP_CPU:
		/* The conversion runc and crun use, mapping shares 2..262144 onto weight 1..10000. */
		if (r->cpu_shares && write_number(dir, "cpu.weight", 1 + (long long)((r->cpu_shares - 2) * 9999) / 262142) < 0)
			return -1;
		if (r->cpu_quota > 0) {
			snprintf(text, sizeof text, "%lld %llu", (long long)r->cpu_quota,
				 (unsigned long long)(r->cpu_period ? r->cpu_period : 100000));
			if (write_file(dir, "cpu.max", text) < 0)
				return -1;
		}
		return 0;
	case CGROUP_PIDS:
		if (r->pids_limit > 0 && write_number(dir, "pids.max", r->pids_limit) < 0)
			return -1;
		return 0;
	}
	return 0;
}

int cgroups_create(const char *relative, const struct resources_spec *limits, struct cgroups *cg)
{
	struct hierarchy v1[CGROUP_CONTROLLERS], v2;
	char own_v1[CGROUP_CONTROLLERS][PATH_MAX], own_v2[PATH_MAX], v2_own_dir[PATH_MAX];
	char available[1024] = "";

	memset(cg, 0, sizeof *cg);
	memset(v1, 0, sizeof v1);
	memset(&v2, 0, sizeof v2);
	memset(own_v1, 0, sizeof own_v1);
	own_v2[0] = '\0';
	if (!valid_relative(relative))
		return failf("create cgroup", 0, "linux.cgroupsPath %s must be relative to the runtime's own cgroup, without . or ..", relative);
	if (find_mounts(v1, &v2) < 0 || own_paths(own_v1, own_v2) < 0)
		return -1;

	if (v2.mountpoint[0] && own_v2[0]) {
		char path[PATH_MAX];
		int fd;
		ssize_t n;

		if (hierarchy_dir(&v2, own_v2, v2_own_dir) < 0 ||
		    join_path(path, sizeof path, v2_own_dir, "cgroup.controllers", "detect cgroups") < 0)
			return -1;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, available, sizeof available - 1);
			available[n > 0 ? n : 0] = '\0';
			available[strcspn(available, "\n")] = '\0';
			close(fd);
		}
	}

	for (int c = 0; c < CGROUP_CONTROLLERS; c++) {
		const char *name = cgroup_controller_names[c];
		char own_dir[PATH_MAX];

		if (v1[c].mountpoint[0] && own_v1[c][0]) {
			cg->version[c] = 1;
			if (hierarchy_dir(&v1[c], own_v1[c], own_dir) < 0)
				return -1;
		} else if (has_word(available, name, ' ')) {
			char enable[32];

			cg->version[c] = 2;
			snprintf(own_dir, sizeof own_dir, "%s", v2_own_dir);
			/* A v2 child gets a controller only if its parent delegates it. */
			snprintf(enable, sizeof enable, "+%s", name);
			if (write_file(v2_own_dir, "cgroup.subtree_control", enable) < 0) {
				if (errno == EBUSY)
					return failf("create cgroup", EBUSY, "cannot delegate %s below %s: cgroup v2 gives controllers only to "
						     "children of a cgroup without processes; start the runtime from a cgroup of its own", name, v2_own_dir);
				return -1;
			}
		} else {
			continue;
		}
		if (join_path(cg->dir[c], PATH_MAX, own_dir, relative, "create cgroup") < 0)
			return -1;
	}

	for (int c = 0; c < CGROUP_CONTROLLERS; c++) {
		int shared = 0;

		if (!cg->version[c])
			continue;
		/* v2 controllers share one directory. */
		for (int d = 0; d < c; d++)
			if (cg->created[d] && strcmp(cg->dir[d], cg->dir[c]) == 0)
				shared = 1;
		if (!shared) {
			if (mkdir_parents(cg->dir[c]) < 0)
				goto undo;
			if (mkdir(cg->dir[c], 0755) < 0) {
				if (errno == EEXIST)
					failf("create cgroup", 0, "%s already exists: a container with this id is running or was not deleted", cg->dir[c]);
				else
					fail("create cgroup", cg->dir[c], errno);
				goto undo;
			}
			cg->created[c] = 1;
		}
		if ((cg->version[c] == 1 ? apply_v1(c, cg->dir[c], limits) : apply_v2(c, cg->dir[c], limits)) < 0)
			goto undo;
	}
	for (int c = 0; c < CGROUP_CONTROLLERS; c++)
		if (!cg->version[c] && ((c == CGROUP_MEMORY && limits->memory_limit > 0) ||
					(c == CGROUP_PIDS && limits->pids_limit > 0) ||
					(c == CGROUP_CPU && (limits->cpu_shares || limits->cpu_quota > 0)))) {
			failf("create cgroup", 0, "the spec limits %s but this machine has no %s controller available to us", cgroup_controller_names[c], cgroup_controller_names[c]);
			goto undo;
		}
	return 0;
undo:
	cgroups_remove(cg);
	return -1;
}

int cgroups_enter_v1(const struct cgroups *cg)
{
	for (int c = 0; c < CGROUP_CONTROLLERS; c++)
		if (cg->created[c] && cg->version[c] == 1 && write_file(cg->dir[c], "tasks", "0") < 0)
			return -1;
	return 0;
}

int cgroups_place_v2(const struct cgroups *cg, pid_t pid)
{
	char text[16];

	snprintf(text, sizeof text, "%d", (int)pid);
	for (int c = 0; c < CGROUP_CONTROLLERS; c++)
		if (cg->created[c] && cg->version[c] == 2 && write_file(cg->dir[c], "cgroup.procs", text) < 0)
			return -1;
	return 0;
}

long cgroups_oom_kills(const struct cgroups *cg)
{
	char path[PATH_MAX], line[256];
	long kills = 0;
	FILE *f;

	if (!cg->version[CGROUP_MEMORY])
		return 0;
	if (join_path(path, sizeof path, cg->dir[CGROUP_MEMORY],
		      cg->version[CGROUP_MEMORY] == 1 ? "memory.oom_control" : "memory.events", "read oom count") < 0)
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "oom_kill %ld", &kills) == 1)
			break;
	fclose(f);
	return kills;
}

static void kill_members(const char *dir)
{
	char path[PATH_MAX];
	FILE *f;
	int pid;

	if (join_path(path, sizeof path, dir, "cgroup.procs", "remove cgroup") < 0)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, SIGKILL);
	fclose(f);
}

int cgroup_remove_dir(const char *dir)
{
	/* A killed process leaves its cgroup only once the kernel has reaped it,
	 * so rmdir can see EBUSY for a few milliseconds. */
	for (int attempt = 0; attempt < 200; attempt++) {
		struct timespec pause = { 0, 10 * 1000 * 1000 };

		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return fail("remove cgroup", dir, errno);
		kill_members(dir);
		nanosleep(&pause, NULL);
	}
	return fail("remove cgroup", dir, EBUSY);
}

void cgroups_remove(const struct cgroups *cg)
{
	for (int c = 0; c < CGROUP_CONTROLLERS; c++)
		if (cg->created[c])
			cgroup_remove_dir(cg->dir[c]);
}
