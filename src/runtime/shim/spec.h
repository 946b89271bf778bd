/* The part of an OCI runtime-spec config.json the shim acts on, read into plain C. */
#ifndef STACK_SHIM_SPEC_H
#define STACK_SHIM_SPEC_H

#include <stdint.h>
#include <sys/types.h>

enum cap_set { CAP_SET_BOUNDING, CAP_SET_EFFECTIVE, CAP_SET_INHERITABLE, CAP_SET_PERMITTED, CAP_SET_AMBIENT, CAP_SET_COUNT };

struct mount_spec {
	char *destination;
	char *type;
	char *source;
	char **options;
	size_t noptions;
};

struct device_spec {
	char *path;
	char type; /* 'c', 'b', 'p' */
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

struct rlimit_spec {
	int resource;
	unsigned long long soft, hard;
};

struct sysctl_spec {
	char *key;
	char *value;
};

/* One linux.resources.devices entry; -1 stands for `*`. */
struct device_rule {
	int allow;
	char type; /* 'a', 'c', 'b' */
	int64_t major, minor;
	char access[4];
};

/* Unset limits are -1 (or 0 for shares and period, which the kernel cannot take as 0). */
struct resources_spec {
	int64_t memory_limit;
	int64_t memory_reservation;
	int64_t memory_swap;
	uint64_t cpu_shares;
	int64_t cpu_quota;
	uint64_t cpu_period;
	int64_t pids_limit;
	struct device_rule *device_rules;
	size_t ndevice_rules;
};

struct spec {
	char *root_path; /* absolute, resolved against the bundle */
	int root_readonly;

	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	char *cwd;
	/* process.terminal: pid 1 gets a terminal of the container's devpts, sized
	 * process.consoleSize (0 when absent: the default size). */
	int terminal;
	unsigned short console_rows, console_cols;
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t nadditional_gids;
	int has_umask;
	mode_t umask;
	int no_new_privs;
	int has_oom_score_adj;
	int oom_score_adj;
	int has_capabilities;
	uint64_t caps[CAP_SET_COUNT];
	struct rlimit_spec *rlimits;
	size_t nrlimits;

	/* annotations["stack.init"] == "true": pid 1 is a minimal init (forked from the
	 * shim's own code, so nothing is added to the image) that reaps and forwards. */
	int init;
	/* annotations["stack.network"]: the attachment (netsetup.h's JSON) the shim wires
	 * itself before the container starts, in the namespace at netns_path; NULL when none. */
	char *network_json;

	char *hostname;
	struct mount_spec *mounts;
	size_t nmounts;

	int clone_flags; /* CLONE_NEW* for the namespaces the spec asks for */
	/* A network namespace to join instead of making one (the engine's, with the
	 * container's veth already in it); NULL when none. */
	char *netns_path;
	char *rootfs_propagation;
	char *cgroups_path;
	struct resources_spec resources;
	struct device_spec *devices;
	size_t ndevices;
	struct sysctl_spec *sysctls;
	size_t nsysctls;
	char **masked_paths;
	size_t nmasked_paths;
	char **readonly_paths;
	size_t nreadonly_paths;
};

/* Reads <bundle>/config.json; on failure returns -1 with the reason in last_error(). */
int load_spec(const char *bundle, struct spec *out);

/* Reads an OCI process object (as `runc exec --process` takes) into s's process fields. */
int load_process(const char *path, struct spec *s);

/* Capability number for a name like "CAP_CHOWN", or -1; and back ("?" when unknown). */
int capability_number(const char *name);
const char *capability_name(int number);

#endif
