/* Reads config.json with cJSON into struct spec, checking each field's type so a
 * malformed bundle fails with the JSON path that is wrong rather than later, mid-setup. */
#include "spec.h"
#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const capability_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

int capability_number(const char *name)
{
	for (size_t i = 0; i < sizeof capability_names / sizeof capability_names[0]; i++)
		if (strcmp(capability_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *capability_name(int number)
{
	if (number < 0 || (size_t)number >= sizeof capability_names / sizeof capability_names[0])
		return "?";
	return capability_names[number];
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

static const struct {
	const char *type;
	int flag;
} namespace_types[] = {
	{ "pid", CLONE_NEWPID }, { "mount", CLONE_NEWNS }, { "uts", CLONE_NEWUTS },
	{ "ipc", CLONE_NEWIPC }, { "network", CLONE_NEWNET },
};

static int bad(const char *path, const char *expected)
{
	return failf("config.json", 0, "%s: expected %s", path, expected);
}

static int get_string(const cJSON *obj, const char *key, const char *path, int required, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return required ? failf("config.json", 0, "%s is required", path) : 0;
	if (!cJSON_IsString(v))
		return bad(path, "a string");
	*out = strdup(v->valuestring);
	if (!*out)
		return fail("config.json", path, ENOMEM);
	return 0;
}

/* Integers in the spec may exceed a double's exact range only in theory; every
 * field we read (ids, limits in bytes, shares) fits in 53 bits in practice. */
static int get_int(const cJSON *obj, const char *key, const char *path, int64_t min, int64_t max, int64_t *out, int *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (present)
		*present = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
		return bad(path, "an integer");
	if ((int64_t)v->valuedouble < min || (int64_t)v->valuedouble > max)
		return failf("config.json", 0, "%s: %.0f is out of range", path, v->valuedouble);
	*out = (int64_t)v->valuedouble;
	if (present)
		*present = 1;
	return 0;
}

/*
 * An rlimit value: an integer, or the uint64 maximum (18446744073709551615, as Docker and
 * runc write "unlimited"), which cJSON can only hold as the double 2^64.
 */
static int get_rlimit_value(const cJSON *obj, const char *key, const char *path, unsigned long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	int64_t n = 0;

	*out = 0;
	if (v && cJSON_IsNumber(v) && v->valuedouble >= 18446744073709551615.0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (get_int(obj, key, path, 0, INT64_MAX, &n, NULL) < 0)
		return -1;
	*out = (unsigned long long)n;
	return 0;
}

static int get_bool(const cJSON *obj, const char *key, const char *path, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return bad(path, "true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

static int get_object(const cJSON *obj, const char *key, const char *path, const cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return bad(path, "an object");
	*out = v;
	return 0;
}

/* A string array becomes a NULL-terminated vector (never NULL itself). */
static int get_strings(const cJSON *obj, const char *key, const char *path, char ***out, size_t *count)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const cJSON *item;
	size_t n = 0, i = 0;

	if (v && !cJSON_IsNull(v) && !cJSON_IsArray(v))
		return bad(path, "an array of strings");
	if (v && cJSON_IsArray(v))
		n = (size_t)cJSON_GetArraySize(v);
	*out = calloc(n + 1, sizeof **out);
	if (!*out)
		return fail("config.json", path, ENOMEM);
	if (count)
		*count = n;
	if (n == 0)
		return 0;
	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsString(item))
			return failf("config.json", 0, "%s[%zu]: expected a string", path, i);
		(*out)[i] = strdup(item->valuestring);
		if (!(*out)[i])
			return fail("config.json", path, ENOMEM);
		i++;
	}
	return 0;
}

static int read_console_size(const cJSON *process, struct spec *s)
{
	const cJSON *size;
	int64_t rows, cols;
	int has_rows, has_cols;

	if (get_object(process, "consoleSize", "process.consoleSize", &size) < 0)
		return -1;
	if (!size)
		return 0;
	if (get_int(size, "height", "process.consoleSize.height", 0, 0xffff, &rows, &has_rows) < 0 ||
	    get_int(size, "width", "process.consoleSize.width", 0, 0xffff, &cols, &has_cols) < 0)
		return -1;
	s->console_rows = has_rows ? (unsigned short)rows : 0;
	s->console_cols = has_cols ? (unsigned short)cols : 0;
	return 0;
}

static int read_process(const cJSON *process, struct spec *s)
{
	const cJSON *user, *caps, *rlimits, *item;
	int64_t v;
	int present;
	size_t i;

	if (!process)
		return failf("config.json", 0, "process is required");
	if (get_bool(process, "terminal", "process.terminal", &s->terminal) < 0 || read_console_size(process, s) < 0)
		return -1;
	if (get_strings(process, "args", "process.args", &s->args, NULL) < 0 ||
	    get_strings(process, "env", "process.env", &s->env, NULL) < 0 ||
	    get_string(process, "cwd", "process.cwd", 1, &s->cwd) < 0)
		return -1;
	if (!s->args[0])
		return failf("config.json", 0, "process.args must name a program");
	if (s->cwd[0] != '/')
		return failf("config.json", 0, "process.cwd: %s is not an absolute path", s->cwd);

	if (get_object(process, "user", "process.user", &user) < 0)
		return -1;
	if (user) {
		const cJSON *gids = cJSON_GetObjectItemCaseSensitive(user, "additionalGids");

		if (get_int(user, "uid", "process.user.uid", 0, UINT32_MAX - 1, &v, &present) < 0)
			return -1;
		s->uid = present ? (uid_t)v : 0;
		if (get_int(user, "gid", "process.user.gid", 0, UINT32_MAX - 1, &v, &present) < 0)
			return -1;
		s->gid = present ? (gid_t)v : 0;
		if (get_int(user, "umask", "process.user.umask", 0, 0777, &v, &s->has_umask) < 0)
			return -1;
		s->umask = (mode_t)v;
		if (gids && !cJSON_IsNull(gids)) {
			if (!cJSON_IsArray(gids))
				return bad("process.user.additionalGids", "an array of integers");
			s->nadditional_gids = (size_t)cJSON_GetArraySize(gids);
			s->additional_gids = calloc(s->nadditional_gids + 1, sizeof(gid_t));
			if (!s->additional_gids)
				return fail("config.json", "process.user.additionalGids", ENOMEM);
			i = 0;
			cJSON_ArrayForEach(item, gids) {
				if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble >= UINT32_MAX ||
				    item->valuedouble != (double)(int64_t)item->valuedouble)
					return failf("config.json", 0, "process.user.additionalGids[%zu]: expected a group id", i);
				s->additional_gids[i++] = (gid_t)item->valuedouble;
			}
		}
	}

	if (get_bool(process, "noNewPrivileges", "process.noNewPrivileges", &s->no_new_privs) < 0)
		return -1;
	if (get_int(process, "oomScoreAdj", "process.oomScoreAdj", -1000, 1000, &v, &s->has_oom_score_adj) < 0)
		return -1;
	s->oom_score_adj = (int)v;

	if (get_object(process, "capabilities", "process.capabilities", &caps) < 0)
		return -1;
	if (caps) {
		static const char *const set_names[CAP_SET_COUNT] = { "bounding", "effective", "inheritable", "permitted", "ambient" };

		s->has_capabilities = 1;
		for (int set = 0; set < CAP_SET_COUNT; set++) {
			char path[64], **names;
			size_t n;

			snprintf(path, sizeof path, "process.capabilities.%s", set_names[set]);
			if (get_strings(caps, set_names[set], path, &names, &n) < 0)
				return -1;
			for (i = 0; i < n; i++) {
				int cap = capability_number(names[i]);

				if (cap < 0)
					return failf("config.json", 0, "%s[%zu]: unknown capability %s", path, i, names[i]);
				s->caps[set] |= UINT64_C(1) << cap;
			}
		}
	}

	rlimits = cJSON_GetObjectItemCaseSensitive(process, "rlimits");
	if (rlimits && !cJSON_IsNull(rlimits)) {
		if (!cJSON_IsArray(rlimits))
			return bad("process.rlimits", "an array");
		s->nrlimits = (size_t)cJSON_GetArraySize(rlimits);
		s->rlimits = calloc(s->nrlimits + 1, sizeof *s->rlimits);
		if (!s->rlimits)
			return fail("config.json", "process.rlimits", ENOMEM);
		i = 0;
		cJSON_ArrayForEach(item, rlimits) {
			char path[64], *type = NULL;
			size_t k;

			snprintf(path, sizeof path, "process.rlimits[%zu].type", i);
			if (get_string(item, "type", path, 1, &type) < 0)
				return -1;
			for (k = 0; k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
				if (strcmp(rlimit_names[k].name, type) == 0)
					break;
			if (k == sizeof rlimit_names / sizeof rlimit_names[0])
				return failf("config.json", 0, "%s: unknown resource %s", path, type);
			s->rlimits[i].resource = rlimit_names[k].resource;
			snprintf(path, sizeof path, "process.rlimits[%zu].soft", i);
			if (get_rlimit_value(item, "soft", path, &s->rlimits[i].soft) < 0)
				return -1;
			snprintf(path, sizeof path, "process.rlimits[%zu].hard", i);
			if (get_rlimit_value(item, "hard", path, &s->rlimits[i].hard) < 0)
				return -1;
			free(type);
			i++;
		}
	}
	return 0;
}

static int read_mounts(const cJSON *root, struct spec *s)
{
	const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(root, "mounts"), *item;
	size_t i = 0;

	if (!mounts || cJSON_IsNull(mounts))
		return 0;
	if (!cJSON_IsArray(mounts))
		return bad("mounts", "an array");
	s->nmounts = (size_t)cJSON_GetArraySize(mounts);
	s->mounts = calloc(s->nmounts + 1, sizeof *s->mounts);
	if (!s->mounts)
		return fail("config.json", "mounts", ENOMEM);
	cJSON_ArrayForEach(item, mounts) {
		struct mount_spec *m = &s->mounts[i];
		char path[64];

		if (!cJSON_IsObject(item))
			return failf("config.json", 0, "mounts[%zu]: expected an object", i);
		snprintf(path, sizeof path, "mounts[%zu].destination", i);
		if (get_string(item, "destination", path, 1, &m->destination) < 0)
			return -1;
		if (m->destination[0] != '/')
			return failf("config.json", 0, "%s: %s is not an absolute path", path, m->destination);
		snprintf(path, sizeof path, "mounts[%zu].type", i);
		if (get_string(item, "type", path, 0, &m->type) < 0)
			return -1;
		snprintf(path, sizeof path, "mounts[%zu].source", i);
		if (get_string(item, "source", path, 0, &m->source) < 0)
			return -1;
		snprintf(path, sizeof path, "mounts[%zu].options", i);
		if (get_strings(item, "options", path, &m->options, &m->noptions) < 0)
			return -1;
		if (!m->type) {
			/* Bind mounts may leave out the type; runc infers it from the options. */
			for (size_t k = 0; k < m->noptions; k++)
				if (strcmp(m->options[k], "bind") == 0 || strcmp(m->options[k], "rbind") == 0)
					m->type = strdup("bind");
			if (!m->type)
				return failf("config.json", 0, "%s: a mount without a type must be a bind mount", path);
		}
		if (!m->source)
			m->source = strdup(m->type);
		i++;
	}
	return 0;
}

static int read_device_rules(const cJSON *res, struct resources_spec *r)
{
	const cJSON *devices = cJSON_GetObjectItemCaseSensitive(res, "devices"), *item;
	size_t i = 0;

	if (!devices || cJSON_IsNull(devices))
		return 0;
	if (!cJSON_IsArray(devices))
		return bad("linux.resources.devices", "an array");
	r->ndevice_rules = (size_t)cJSON_GetArraySize(devices);
	r->device_rules = calloc(r->ndevice_rules + 1, sizeof *r->device_rules);
	if (!r->device_rules)
		return fail("config.json", "linux.resources.devices", ENOMEM);
	cJSON_ArrayForEach(item, devices) {
		struct device_rule *d = &r->device_rules[i];
		char path[64], *type = NULL, *access = NULL;
		int present;

		snprintf(path, sizeof path, "linux.resources.devices[%zu].allow", i);
		if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(item, "allow")))
			return bad(path, "true or false");
		d->allow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "allow"));
		snprintf(path, sizeof path, "linux.resources.devices[%zu].type", i);
		if (get_string(item, "type", path, 0, &type) < 0)
			return -1;
		if (type && strcmp(type, "a") && strcmp(type, "c") && strcmp(type, "b"))
			return failf("config.json", 0, "%s: %s is not one of a, c, b", path, type);
		d->type = type ? type[0] : 'a';
		free(type);
		snprintf(path, sizeof path, "linux.resources.devices[%zu].major", i);
		if (get_int(item, "major", path, 0, UINT32_MAX, &d->major, &present) < 0)
			return -1;
		if (!present)
			d->major = -1;
		snprintf(path, sizeof path, "linux.resources.devices[%zu].minor", i);
		if (get_int(item, "minor", path, 0, UINT32_MAX, &d->minor, &present) < 0)
			return -1;
		if (!present)
			d->minor = -1;
		snprintf(path, sizeof path, "linux.resources.devices[%zu].access", i);
		if (get_string(item, "access", path, 0, &access) < 0)
			return -1;
		if (access && (strlen(access) == 0 || strlen(access) > 3 || strspn(access, "rwm") != strlen(access)))
			return failf("config.json", 0, "%s: %s is not made of r, w, m", path, access);
		snprintf(d->access, sizeof d->access, "%s", access ? access : "rwm");
		free(access);
		i++;
	}
	return 0;
}

static int read_resources(const cJSON *linux_obj, struct resources_spec *r)
{
	const cJSON *res, *memory, *cpu, *pids;
	int64_t v;
	int present;

	r->memory_limit = r->memory_reservation = r->memory_swap = -1;
	r->cpu_quota = r->pids_limit = -1;
	r->cpu_shares = r->cpu_period = 0;
	if (get_object(linux_obj, "resources", "linux.resources", &res) < 0)
		return -1;
	if (!res)
		return 0;
	if (get_object(res, "memory", "linux.resources.memory", &memory) < 0 ||
	    get_object(res, "cpu", "linux.resources.cpu", &cpu) < 0 ||
	    get_object(res, "pids", "linux.resources.pids", &pids) < 0)
		return -1;
	if (memory) {
		if (get_int(memory, "limit", "linux.resources.memory.limit", -1, INT64_MAX, &r->memory_limit, NULL) < 0 ||
		    get_int(memory, "reservation", "linux.resources.memory.reservation", -1, INT64_MAX, &r->memory_reservation, NULL) < 0 ||
		    get_int(memory, "swap", "linux.resources.memory.swap", -1, INT64_MAX, &r->memory_swap, NULL) < 0)
			return -1;
	}
	if (cpu) {
		if (get_int(cpu, "shares", "linux.resources.cpu.shares", 0, UINT32_MAX, &v, &present) < 0)
			return -1;
		r->cpu_shares = present ? (uint64_t)v : 0;
		if (get_int(cpu, "quota", "linux.resources.cpu.quota", -1, INT64_MAX, &r->cpu_quota, NULL) < 0)
			return -1;
		if (get_int(cpu, "period", "linux.resources.cpu.period", 0, INT64_MAX, &v, &present) < 0)
			return -1;
		r->cpu_period = present ? (uint64_t)v : 0;
	}
	if (pids && get_int(pids, "limit", "linux.resources.pids.limit", INT64_MIN, INT64_MAX, &r->pids_limit, NULL) < 0)
		return -1;
	return read_device_rules(res, r);
}

static int read_linux(const cJSON *root, struct spec *s)
{
	const cJSON *linux_obj, *namespaces, *devices, *sysctl, *item;
	size_t i = 0;

	if (get_object(root, "linux", "linux", &linux_obj) < 0)
		return -1;
	if (!linux_obj)
		return failf("config.json", 0, "linux is required");

	namespaces = cJSON_GetObjectItemCaseSensitive(linux_obj, "namespaces");
	if (namespaces && !cJSON_IsArray(namespaces))
		return bad("linux.namespaces", "an array");
	cJSON_ArrayForEach(item, namespaces) {
		char path[64], *type = NULL, *ns_path = NULL;
		size_t k;

		snprintf(path, sizeof path, "linux.namespaces[%zu].type", i);
		if (get_string(item, "type", path, 1, &type) < 0)
			return -1;
		snprintf(path, sizeof path, "linux.namespaces[%zu].path", i);
		if (get_string(item, "path", path, 0, &ns_path) < 0)
			return -1;
		for (k = 0; k < sizeof namespace_types / sizeof namespace_types[0]; k++)
			if (strcmp(namespace_types[k].type, type) == 0)
				break;
		if (k == sizeof namespace_types / sizeof namespace_types[0])
			return failf("config.json", 0, "linux.namespaces[%zu]: the %s namespace is not supported yet", i, type);
		if (ns_path && namespace_types[k].flag != CLONE_NEWNET)
			return failf("config.json", 0, "linux.namespaces[%zu]: joining an existing %s namespace (%s) is not supported yet (only network)", i, type, ns_path);
		if (ns_path)
			s->netns_path = ns_path;
		else
			s->clone_flags |= namespace_types[k].flag;
		free(type);
		i++;
	}
	if (!(s->clone_flags & CLONE_NEWNS))
		return failf("config.json", 0, "linux.namespaces must include a mount namespace");
	/* Without its own UTS namespace, sethostname would rename the host. */
	if (s->hostname && !(s->clone_flags & CLONE_NEWUTS))
		return failf("config.json", 0, "hostname %s needs a uts namespace in linux.namespaces", s->hostname);

	if (get_string(linux_obj, "rootfsPropagation", "linux.rootfsPropagation", 0, &s->rootfs_propagation) < 0 ||
	    get_string(linux_obj, "cgroupsPath", "linux.cgroupsPath", 0, &s->cgroups_path) < 0 ||
	    get_strings(linux_obj, "maskedPaths", "linux.maskedPaths", &s->masked_paths, &s->nmasked_paths) < 0 ||
	    get_strings(linux_obj, "readonlyPaths", "linux.readonlyPaths", &s->readonly_paths, &s->nreadonly_paths) < 0 ||
	    read_resources(linux_obj, &s->resources) < 0)
		return -1;

	devices = cJSON_GetObjectItemCaseSensitive(linux_obj, "devices");
	if (devices && !cJSON_IsNull(devices)) {
		if (!cJSON_IsArray(devices))
			return bad("linux.devices", "an array");
		s->ndevices = (size_t)cJSON_GetArraySize(devices);
		s->devices = calloc(s->ndevices + 1, sizeof *s->devices);
		if (!s->devices)
			return fail("config.json", "linux.devices", ENOMEM);
		i = 0;
		cJSON_ArrayForEach(item, devices) {
			struct device_spec *d = &s->devices[i];
			char path[64], *type = NULL;
			int64_t v = 0;
			int present;

			snprintf(path, sizeof path, "linux.devices[%zu].path", i);
			if (get_string(item, "path", path, 1, &d->path) < 0)
				return -1;
			snprintf(path, sizeof path, "linux.devices[%zu].type", i);
			if (get_string(item, "type", path, 1, &type) < 0)
				return -1;
			if (strcmp(type, "c") && strcmp(type, "u") && strcmp(type, "b") && strcmp(type, "p"))
				return failf("config.json", 0, "%s: %s is not one of c, u, b, p", path, type);
			d->type = type[0] == 'u' ? 'c' : type[0];
			free(type);
			snprintf(path, sizeof path, "linux.devices[%zu].major", i);
			if (get_int(item, "major", path, 0, UINT32_MAX, &v, NULL) < 0)
				return -1;
			d->major = (unsigned)v;
			v = 0;
			snprintf(path, sizeof path, "linux.devices[%zu].minor", i);
			if (get_int(item, "minor", path, 0, UINT32_MAX, &v, NULL) < 0)
				return -1;
			d->minor = (unsigned)v;
			snprintf(path, sizeof path, "linux.devices[%zu].fileMode", i);
			if (get_int(item, "fileMode", path, 0, 07777, &v, &present) < 0)
				return -1;
			d->mode = present ? (mode_t)v : 0666;
			snprintf(path, sizeof path, "linux.devices[%zu].uid", i);
			if (get_int(item, "uid", path, 0, UINT32_MAX - 1, &v, &present) < 0)
				return -1;
			d->uid = present ? (uid_t)v : 0;
			snprintf(path, sizeof path, "linux.devices[%zu].gid", i);
			if (get_int(item, "gid", path, 0, UINT32_MAX - 1, &v, &present) < 0)
				return -1;
			d->gid = present ? (gid_t)v : 0;
			i++;
		}
	}

	if (get_object(linux_obj, "sysctl", "linux.sysctl", &sysctl) < 0)
		return -1;
	if (sysctl) {
		s->nsysctls = (size_t)cJSON_GetArraySize(sysctl);
		s->sysctls = calloc(s->nsysctls + 1, sizeof *s->sysctls);
		if (!s->sysctls)
			return fail("config.json", "linux.sysctl", ENOMEM);
		i = 0;
		cJSON_ArrayForEach(item, sysctl) {
			if (!cJSON_IsString(item))
				return failf("config.json", 0, "linux.sysctl.%s: expected a string", item->string);
			if (strstr(item->string, "..") || strchr(item->string, '/'))
				return failf("config.json", 0, "linux.sysctl: %s is not a sysctl name", item->string);
			s->sysctls[i].key = strdup(item->string);
			s->sysctls[i].value = strdup(item->valuestring);
			i++;
		}
	}
	return 0;
}

static char *read_whole_file(const char *path, size_t limit)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 65536;
	char *buf;
	ssize_t n;

	if (fd < 0) {
		fail("read config", path, errno);
		return NULL;
	}
	buf = malloc(cap + 1);
	while (buf) {
		if (len == cap) {
			char *bigger;

			if (cap >= limit) {
				failf("read config", 0, "%s is larger than %zu bytes", path, limit);
				free(buf);
				buf = NULL;
				break;
			}
			cap *= 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("read config", path, errno);
			free(buf);
			buf = NULL;
			break;
		}
		if (n == 0) {
			buf[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	return buf;
}

int load_spec(const char *bundle, struct spec *s)
{
	char path[PATH_MAX], *text, *root_path = NULL;
	const cJSON *root_obj;
	cJSON *doc;
	int rc = -1;

	memset(s, 0, sizeof *s);
	if (join_path(path, sizeof path, bundle, "config.json", "read config") < 0)
		return -1;
	text = read_whole_file(path, 16 << 20);
	if (!text)
		return -1;
	doc = cJSON_Parse(text);
	if (!doc) {
		const char *where = cJSON_GetErrorPtr();

		failf("config.json", 0, "%s is not valid JSON near byte %ld", path, where ? (long)(where - text) : -1L);
		goto out;
	}
	if (!cJSON_IsObject(doc)) {
		bad("(document)", "an object");
		goto out;
	}
	if (get_object(doc, "root", "root", &root_obj) < 0)
		goto out;
	if (!root_obj) {
		failf("config.json", 0, "root is required");
		goto out;
	}
	if (get_string(root_obj, "path", "root.path", 1, &root_path) < 0 ||
	    get_bool(root_obj, "readonly", "root.readonly", &s->root_readonly) < 0)
		goto out;
	if (root_path[0] == '/') {
		s->root_path = root_path;
		root_path = NULL;
	} else {
		s->root_path = malloc(PATH_MAX);
		if (!s->root_path || join_path(s->root_path, PATH_MAX, bundle, root_path, "config.json") < 0)
			goto out;
	}
	{
		const cJSON *annotations, *init;

		if (get_object(doc, "annotations", "annotations", &annotations) < 0)
			goto out;
		init = annotations ? cJSON_GetObjectItemCaseSensitive(annotations, "stack.init") : NULL;
		if (init && !cJSON_IsString(init)) {
			bad("annotations.stack.init", "a string");
			goto out;
		}
		s->init = init && strcmp(init->valuestring, "true") == 0;
		if (annotations && get_string(annotations, "stack.network", "annotations.stack.network", 0, &s->network_json) < 0)
			goto out;
	}
	if (get_string(doc, "hostname", "hostname", 0, &s->hostname) < 0 ||
	    read_process(cJSON_GetObjectItemCaseSensitive(doc, "process"), s) < 0 ||
	    read_mounts(doc, s) < 0 ||
	    read_linux(doc, s) < 0)
		goto out;
	rc = 0;
out:
	free(root_path);
	cJSON_Delete(doc);
	free(text);
	return rc;
}

int load_process(const char *path, struct spec *s)
{
	char *text;
	cJSON *doc;
	int rc = -1;

	memset(s, 0, sizeof *s);
	text = read_whole_file(path, 4 << 20);
	if (!text)
		return -1;
	doc = cJSON_Parse(text);
	if (!doc)
		failf("process.json", 0, "%s is not valid JSON", path);
	else if (!cJSON_IsObject(doc))
		failf("process.json", 0, "%s: expected an object", path);
	else
		rc = read_process(doc, s);
	cJSON_Delete(doc);
	free(text);
	return rc;
}
