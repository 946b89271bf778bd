/* The container's cgroups: found beside our own (from /proc/self/cgroup), one per
 * controller, on v1 or v2 per controller so hybrid machines work, limits from the spec. */
#ifndef STACK_SHIM_CGROUPS_H
#define STACK_SHIM_CGROUPS_H

#include <limits.h>
#include <sys/types.h>

#include "spec.h"

/* devices exists only on v1 (v2 filters devices with eBPF, not done yet). freezer too:
 * v2 freezes any cgroup through its cgroup.freeze file, so it is no controller there. The
 * engine pauses a container through the freezer cgroup recorded in the state file. */
enum cgroup_controller { CGROUP_MEMORY, CGROUP_CPU, CGROUP_PIDS, CGROUP_DEVICES, CGROUP_FREEZER, CGROUP_CONTROLLERS };

struct cgroups {
	int version[CGROUP_CONTROLLERS]; /* 1 or 2; 0 when the machine lacks the controller */
	char dir[CGROUP_CONTROLLERS][PATH_MAX];
	int created[CGROUP_CONTROLLERS];
};

extern const char *const cgroup_controller_names[CGROUP_CONTROLLERS];

/* Creates <own cgroup>/<relative> for each controller and writes the limits.
 * Refuses an absolute or `..` path so nothing outside our own subtree is touched. */
int cgroups_create(const char *relative, const struct resources_spec *limits, struct cgroups *out);
/* Moves the calling (single-threaded) process into its v1 cgroups. Writing 0 to a
 * v1 `tasks` file moves just the caller's thread, which skips the global threadgroup
 * lock that a cgroup.procs write takes: that lock waits out an RCU grace period,
 * 5-15 ms here, most of a container's start time. */
int cgroups_enter_v1(const struct cgroups *cg);
/* Moves pid into its v2 cgroup (v2 has no per-thread shortcut outside threaded mode). */
int cgroups_place_v2(const struct cgroups *cg, pid_t pid);
/* How many processes the kernel's OOM killer took in the memory cgroup. */
long cgroups_oom_kills(const struct cgroups *cg);
/* Kills what is left in dir and removes it; ENOENT counts as removed. */
int cgroup_remove_dir(const char *dir);
void cgroups_remove(const struct cgroups *cg);

#endif
