/* The container's filesystem, in the order runc and crun build it: propagation made
 * private first (so nothing we mount leaks back to the host), the rootfs bound onto
 * itself (pivot_root needs a mount point), the spec's mounts in order, /dev nodes
 * and links, pivot_root with the old root detached, then read-only and masked paths
 * last because they cover files inside the /proc and /sys mounted above. */
#include "rootfs.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_SYMLINKS 40

int resolve_in_root(const char *root, const char *path, int create, int create_file, char out[PATH_MAX])
{
	char rest[PATH_MAX * 2], current[PATH_MAX];
	size_t rootlen = strlen(root);
	int links = 0;

	if (rootlen >= PATH_MAX)
		return fail("resolve path", root, ENAMETOOLONG);
	snprintf(current, sizeof current, "%s", root);
	if (snprintf(rest, sizeof rest, "%s", path) >= (int)sizeof rest)
		return fail("resolve path", path, ENAMETOOLONG);

	for (;;) {
		char *p = rest, component[NAME_MAX + 1], candidate[PATH_MAX];
		struct stat st;
		size_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX)
			return fail("resolve path", path, ENAMETOOLONG);
		memcpy(component, p, n);
		component[n] = '\0';
		memmove(rest, p + n, strlen(p + n) + 1);

		if (strcmp(component, ".") == 0)
			continue;
		if (strcmp(component, "..") == 0) {
			char *slash = strrchr(current, '/');

			if (strlen(current) > rootlen && slash && (size_t)(slash - current) >= rootlen)
				*slash = '\0';
			continue;
		}
		if (snprintf(candidate, sizeof candidate, "%s/%s", current, component) >= (int)sizeof candidate)
			return fail("resolve path", path, ENAMETOOLONG);
		if (lstat(candidate, &st) < 0) {
			int last;

			if (errno != ENOENT || !create)
				return failf("resolve path", errno, "%s (as %s inside %s)", candidate, path, root);
			last = strspn(rest, "/") == strlen(rest);
			if (last && create_file) {
				int fd = open(candidate, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);

				if (fd < 0)
					return fail("create mount point", candidate, errno);
				close(fd);
			} else if (mkdir(candidate, 0755) < 0 && errno != EEXIST) {
				return fail("create mount point", candidate, errno);
			}
			snprintf(current, sizeof current, "%s", candidate);
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], joined[PATH_MAX * 2];
			ssize_t len;

			if (++links > MAX_SYMLINKS)
				return fail("resolve path", path, ELOOP);
			len = readlink(candidate, target, sizeof target - 1);
			if (len < 0)
				return fail("resolve path", candidate, errno);
			target[len] = '\0';
			/* An absolute link means the container's root, never the host's. */
			if (target[0] == '/')
				current[rootlen] = '\0';
			if (snprintf(joined, sizeof joined, "%s/%s", target, rest) >= (int)sizeof rest)
				return fail("resolve path", path, ENAMETOOLONG);
			snprintf(rest, sizeof rest, "%s", joined);
			continue;
		}
		snprintf(current, sizeof current, "%s", candidate);
	}
	snprintf(out, PATH_MAX, "%s", current);
	return 0;
}

static int propagation_flag(const char *name, unsigned long *flag)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} table[] = {
		{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
		{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
		{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].name, name) == 0) {
			*flag = table[i].flag;
			return 1;
		}
	return 0;
}

int make_propagation_private(const char *propagation)
{
	unsigned long flag = MS_PRIVATE | MS_REC;

	if (propagation && propagation[0] && !propagation_flag(propagation, &flag))
		return failf("mount propagation", 0, "linux.rootfsPropagation %s is not a propagation type", propagation);
	/* Sharing would need a shared rootfs mount on the host side too; not needed yet. */
	if (flag & MS_SHARED)
		return failf("mount propagation", 0, "linux.rootfsPropagation %s is not supported yet", propagation);
	/* Everything private (or slave) before the first mount, so nothing mounted
	 * for the container shows up on the host. */
	if (mount(NULL, "/", NULL, flag, NULL) < 0)
		return failf("mount propagation", errno, "make / %s", propagation ? propagation : "rprivate");
	return 0;
}

struct mount_options {
	unsigned long flags;      /* for mount(2) */
	unsigned long clear;      /* flags an option turned off */
	unsigned long propagation;
	int recursive_bind;
	char data[1024];
};

static int parse_mount_options(const struct mount_spec *m, struct mount_options *o)
{
	static const struct {
		const char *name;
		int clear;
		unsigned long flag;
	} table[] = {
		{ "ro", 0, MS_RDONLY }, { "rw", 1, MS_RDONLY },
		{ "nosuid", 0, MS_NOSUID }, { "suid", 1, MS_NOSUID },
		{ "nodev", 0, MS_NODEV }, { "dev", 1, MS_NODEV },
		{ "noexec", 0, MS_NOEXEC }, { "exec", 1, MS_NOEXEC },
		{ "sync", 0, MS_SYNCHRONOUS }, { "async", 1, MS_SYNCHRONOUS },
		{ "dirsync", 0, MS_DIRSYNC }, { "remount", 0, MS_REMOUNT },
		{ "noatime", 0, MS_NOATIME }, { "atime", 1, MS_NOATIME },
		{ "nodiratime", 0, MS_NODIRATIME }, { "diratime", 1, MS_NODIRATIME },
		{ "relatime", 0, MS_RELATIME }, { "norelatime", 1, MS_RELATIME },
		{ "strictatime", 0, MS_STRICTATIME }, { "nostrictatime", 1, MS_STRICTATIME },
		{ "bind", 0, MS_BIND },
	};
	size_t used = 0;

	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < m->noptions; i++) {
		const char *opt = m->options[i];
		unsigned long prop;
		size_t k;

		if (strcmp(opt, "rbind") == 0) {
			o->flags |= MS_BIND | MS_REC;
			o->recursive_bind = 1;
			continue;
		}
		if (propagation_flag(opt, &prop)) {
			o->propagation = prop;
			continue;
		}
		for (k = 0; k < sizeof table / sizeof table[0]; k++)
			if (strcmp(table[k].name, opt) == 0)
				break;
		if (k < sizeof table / sizeof table[0]) {
			if (table[k].clear) {
				o->flags &= ~table[k].flag;
				o->clear |= table[k].flag;
			} else {
				o->flags |= table[k].flag;
			}
			continue;
		}
		/* Anything else is filesystem data (mode=, size=, gid=, newinstance, ...). */
		if (used + strlen(opt) + 2 > sizeof o->data)
			return failf("mount", 0, "%s: options too long", m->destination);
		used += (size_t)snprintf(o->data + used, sizeof o->data - used, "%s%s", used ? "," : "", opt);
	}
	return 0;
}

static int is_directory(const char *path, int *is_dir)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno;
	*is_dir = S_ISDIR(st.st_mode);
	return 0;
}

static int mount_one(const char *rootfs, const struct mount_spec *m)
{
	struct mount_options o;
	char target[PATH_MAX];
	int bind = strcmp(m->type, "bind") == 0, source_is_dir = 1;
	unsigned long flags;

	if (parse_mount_options(m, &o) < 0)
		return -1;
	if (o.flags & MS_BIND)
		bind = 1;
	if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0)
		return failf("mount", 0, "%s: mounting cgroup filesystems into a container is not supported yet", m->destination);
	if (bind) {
		int err = is_directory(m->source, &source_is_dir);

		if (err)
			return failf("mount", err, "bind source %s for %s", m->source, m->destination);
	}
	if (resolve_in_root(rootfs, m->destination, 1, !source_is_dir, target) < 0)
		return -1;

	if (bind) {
		flags = MS_BIND | (o.recursive_bind ? MS_REC : 0);
		if (mount(m->source, target, NULL, flags, NULL) < 0)
			return failf("mount", errno, "bind %s on %s", m->source, target);
		/* Bind mounts ignore every flag but MS_BIND|MS_REC on creation; the
		 * rest (ro, nosuid, ...) take a remount of the new mount. */
		flags = o.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
		if (flags) {
			struct statvfs sv;
			unsigned long keep = 0;

			/* A remount replaces the per-mount flags, so keep the ones the source had. */
			if (statvfs(target, &sv) == 0)
				keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RDONLY);
			keep &= ~o.clear;
			if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | keep, NULL) < 0)
				return failf("mount", errno, "remount bind %s with its options", target);
		}
	} else {
		if (mount(m->source, target, m->type, o.flags, o.data[0] ? o.data : NULL) < 0)
			return failf("mount", errno, "%s (%s, options %s) on %s", m->source, m->type, o.data[0] ? o.data : "none", target);
	}
	if (o.propagation && mount(NULL, target, NULL, o.propagation, NULL) < 0)
		return failf("mount", errno, "set propagation of %s", target);
	return 0;
}

/* The devices every container gets whatever the spec says, as runc and Docker do. */
static const struct {
	const char *name;
	unsigned major, minor;
} default_devices[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static int make_device(const char *rootfs, const char *path, char type, unsigned major, unsigned minor, mode_t mode, uid_t uid, gid_t gid)
{
	char target[PATH_MAX], parent[PATH_MAX], dir[PATH_MAX], *slash;
	mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;

	snprintf(parent, sizeof parent, "%s", path);
	slash = strrchr(parent, '/');
	if (!slash || slash[1] == '\0')
		return failf("create device", 0, "%s is not a device path", path);
	*slash = '\0';
	/* The parent is resolved inside the rootfs so an image symlink cannot aim mknod at the host. */
	if (resolve_in_root(rootfs, parent[0] ? parent : "/", 1, 0, dir) < 0 ||
	    join_path(target, sizeof target, dir, slash + 1, "create device") < 0)
		return -1;
	if (unlink(target) < 0 && errno != ENOENT)
		return fail("create device", target, errno);
	if (mknod(target, kind | (mode & 07777), makedev(major, minor)) < 0)
		return failf("create device", errno, "%s (%c %u:%u)", target, type, major, minor);
	if (chown(target, uid, gid) < 0)
		return failf("create device", errno, "chown %s to %u:%u", target, (unsigned)uid, (unsigned)gid);
	return 0;
}

static int populate_dev(const struct spec *s)
{
	static const struct {
		const char *target, *link;
	} links[] = {
		{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" }, { "/proc/kcore", "core" },
	};
	/* Kernels without /proc/kcore get no dangling /dev/core, as with runc. */
	size_t nlinks = sizeof links / sizeof links[0] - (access("/proc/kcore", F_OK) == 0 ? 0 : 1);
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++) {
		char dev[32];

		snprintf(dev, sizeof dev, "/dev/%s", default_devices[i].name);
		if (make_device(s->root_path, dev, 'c', default_devices[i].major, default_devices[i].minor, 0666, 0, 0) < 0)
			return -1;
	}
	for (i = 0; i < s->ndevices; i++) {
		const struct device_spec *d = &s->devices[i];

		if (make_device(s->root_path, d->path, d->type, d->major, d->minor, d->mode, d->uid, d->gid) < 0)
			return -1;
	}
	for (i = 0; i < nlinks; i++) {
		char name[32];

		snprintf(name, sizeof name, "dev/%s", links[i].link);
		if (join_path(path, sizeof path, s->root_path, name, "create /dev link") < 0)
			return -1;
		if (symlink(links[i].target, path) < 0 && errno != EEXIST)
			return failf("create /dev link", errno, "%s -> %s", path, links[i].target);
	}
	return 0;
}

int mount_rootfs(const struct spec *s)
{
	int dev_is_ours = 0;

	/* pivot_root wants the new root to be a mount point of its own. */
	if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return failf("mount rootfs", errno, "bind %s onto itself", s->root_path);
	for (size_t i = 0; i < s->nmounts; i++) {
		if (mount_one(s->root_path, &s->mounts[i]) < 0)
			return -1;
		if (strcmp(s->mounts[i].destination, "/dev") == 0 && strcmp(s->mounts[i].type, "tmpfs") == 0)
			dev_is_ours = 1;
	}
	/* Device nodes only on a /dev we just made: never mknod into the image itself. */
	if (dev_is_ours && populate_dev(s) < 0)
		return -1;
	return 0;
}

int pivot_into(const char *rootfs)
{
	int old_root, new_root, rc = -1;

	old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (old_root < 0)
		return fail("pivot_root", "open /", errno);
	new_root = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (new_root < 0) {
		fail("pivot_root", rootfs, errno);
		goto out_old;
	}
	if (fchdir(new_root) < 0) {
		fail("pivot_root", rootfs, errno);
		goto out;
	}
	/* Pivoting "." onto "." stacks the old root on top of the new one, so no
	 * directory for it is needed inside the image. */
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		fail("pivot_root", rootfs, errno);
		goto out;
	}
	if (fchdir(old_root) < 0) {
		fail("pivot_root", "return to the old root", errno);
		goto out;
	}
	/* Detaching must not propagate an unmount to the host's mounts. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
		fail("pivot_root", "make the old root rslave", errno);
		goto out;
	}
	if (umount2(".", MNT_DETACH) < 0) {
		fail("pivot_root", "detach the old root", errno);
		goto out;
	}
	if (chdir("/") < 0) {
		fail("pivot_root", "chdir /", errno);
		goto out;
	}
	rc = 0;
out:
	close(new_root);
out_old:
	close(old_root);
	return rc;
}

int apply_sysctls(const struct spec *s)
{
	for (size_t i = 0; i < s->nsysctls; i++) {
		char path[PATH_MAX];
		size_t len;
		int fd;

		snprintf(path, sizeof path, "/proc/sys/%s", s->sysctls[i].key);
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return failf("sysctl", errno, "%s = %s", s->sysctls[i].key, s->sysctls[i].value);
		len = strlen(s->sysctls[i].value);
		if (write(fd, s->sysctls[i].value, len) != (ssize_t)len) {
			int err = errno;

			close(fd);
			return failf("sysctl", err, "%s = %s", s->sysctls[i].key, s->sysctls[i].value);
		}
		close(fd);
	}
	return 0;
}

int apply_readonly_paths(const struct spec *s)
{
	for (size_t i = 0; i < s->nreadonly_paths; i++) {
		const char *path = s->readonly_paths[i];
		struct statvfs sv;
		unsigned long keep = 0;

		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return failf("readonly path", errno, "bind %s", path);
		}
		if (statvfs(path, &sv) == 0)
			keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC);
		if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
			return failf("readonly path", errno, "remount %s read-only", path);
	}
	return 0;
}

int apply_masked_paths(const struct spec *s)
{
	for (size_t i = 0; i < s->nmasked_paths; i++) {
		const char *path = s->masked_paths[i];
		struct stat st;

		if (stat(path, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return failf("masked path", errno, "%s", path);
		}
		/* A directory gets an empty read-only tmpfs; a file gets /dev/null. */
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
				return failf("masked path", errno, "tmpfs over %s", path);
		} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
			return failf("masked path", errno, "/dev/null over %s", path);
		}
	}
	return 0;
}

int remount_root_readonly(void)
{
	struct statvfs sv;
	unsigned long keep = 0;

	if (statvfs("/", &sv) == 0)
		keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC);
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
		return fail("readonly root", "remount / read-only", errno);
	return 0;
}
