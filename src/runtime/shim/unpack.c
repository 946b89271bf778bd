/* stack-shim unpack DIR: extracts an uncompressed tar stream read from stdin into DIR (an
 * empty staging directory the caller made) in the form overlayfs wants: an OCI whiteout
 * `.wh.NAME` becomes a 0:0 character device NAME, `.wh..wh..opq` marks its directory
 * trusted.overlay.opaque=y, and a 0:0 character device in the archive stays a whiteout.
 *
 * Hostile archives are refused, never followed: every operation is relative to a directory
 * fd opened component by component with O_NOFOLLOW, so neither `..` nor a symlink (one in
 * the archive or one planted by an earlier entry) can lead a write outside DIR. A later
 * entry replaces an earlier one of the same name, as tar does (a directory over a directory
 * keeps it). Directories get their owner, mode and mtime last, deepest first, because
 * creating their children would change the mtime and a read-only mode would stop them.
 *
 * Exit status: 0 done, 1 failed (I/O, corrupt archive), 2 usage, 3 the archive was refused.
 * The last stderr line is the reason; lines before it that start with
 * "stack-shim unpack: warning: " are warnings. The whole stream is read to its end even after
 * the end-of-archive blocks, so the caller's digest covers every byte it sent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tarformat.h"

#define EXIT_REFUSED 3
#define READ_BUFFER (4u << 20)
/* Pax headers and GNU long names are held in memory; real ones are a few KiB. */
#define MAX_META_SIZE (16u << 20)
/* Each directory level of the current parent holds an fd; keep well under RLIMIT_NOFILE. */
#define MAX_DEPTH 512
#define OPAQUE_MARKER ".wh..wh..opq"
#define WHITEOUT_PREFIX ".wh."

struct reader {
	int fd;
	unsigned char *buf;
	size_t cap, pos, len;
	int eof;
};

/* The open directories along the last parent path walked: entries of one directory come
 * together in real archives, so most entries open nothing at all. */
struct dirstack {
	char **names;
	int *fds;
	size_t depth;
};

/* A path split into components; `buf` holds them NUL-separated. */
struct pathparts {
	char *buf;
	size_t bufcap;
	char **parts;
	size_t n, partscap;
};

/* The owner, mode and mtime a directory gets at the end. `alive` is cleared when a later
 * entry removes the directory, so its metadata is not applied to a stranger. */
struct dirrec {
	char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	int alive;
};

struct unpacker {
	int root;
	struct reader in;
	uint64_t offset;    /* archive bytes consumed so far, for messages */
	uint64_t remaining; /* data bytes of the current entry not read yet */
	struct dirstack stack;
	struct pathparts entry_parts, link_parts;
	char *rel;          /* the current entry's normalised path */
	size_t relcap;
	struct dirrec *dirs;
	size_t ndirs, dircap;
	size_t *slots;      /* open-addressing index over dirs by path: index + 1, 0 empty */
	size_t nslots;
	int status;
	char message[8192];
};

/* ---- messages ---- */

/* Control characters in names would break the line protocol on stderr. */
static void print_escaped(const char *prefix, const char *text)
{
	fputs(prefix, stderr);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

static int set_message(struct unpacker *u, int status, int with_errno, const char *fmt, va_list ap)
{
	int err = errno;
	if (u->status)
		return -1; /* the first failure is the one worth reporting */
	vsnprintf(u->message, sizeof u->message, fmt, ap);
	if (with_errno) {
		size_t n = strlen(u->message);
		snprintf(u->message + n, sizeof u->message - n, ": %s", strerror(err));
	}
	u->status = status;
	return -1;
}

__attribute__((format(printf, 2, 3))) static int refuse(struct unpacker *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(u, EXIT_REFUSED, 0, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 2, 3))) static int fail(struct unpacker *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(u, 1, 0, fmt, ap);
	va_end(ap);
	return -1;
}

/* Like fail, with strerror(errno) appended. */
__attribute__((format(printf, 2, 3))) static int fail_sys(struct unpacker *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(u, 1, 1, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 1, 2))) static void warn(const char *fmt, ...)
{
	char text[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	print_escaped("stack-shim unpack: warning: ", text);
}

/* ---- reading the archive ---- */

/* Makes at least `want` (<= cap) bytes available: 1 done, 0 end of input first, -1 error. */
static int reader_fill(struct reader *r, size_t want)
{
	if (r->len - r->pos >= want)
		return 1;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len < want) {
		if (r->eof)
			return 0;
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			r->eof = 1;
		r->len += (size_t)n;
	}
	return 1;
}

/* Makes some bytes available, up to `want`; returns how many (0 at end of input), or -1. */
static ssize_t reader_some(struct reader *r, uint64_t want)
{
	if (r->len == r->pos) {
		size_t ask = want < r->cap ? (size_t)want : r->cap;
		if (reader_fill(r, ask) < 0)
			return -1;
	}
	size_t avail = r->len - r->pos;
	return (ssize_t)(avail < want ? avail : want);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Passes over `n` bytes of the current entry's data and padding. */
static int skip_bytes(struct unpacker *u, uint64_t n, const char *name)
{
	while (n > 0) {
		ssize_t got = reader_some(&u->in, n);
		if (got < 0)
			return fail_sys(u, "cannot read the archive");
		if (got == 0)
			return fail(u, "unexpected end of archive in \"%s\"", name);
		u->in.pos += (size_t)got;
		u->offset += (uint64_t)got;
		n -= (uint64_t)got;
	}
	return 0;
}

static uint64_t padding(uint64_t size)
{
	return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
}

/* Copies the current entry's data to fd (or discards it when fd < 0). */
static int copy_data(struct unpacker *u, int fd, const char *name)
{
	while (u->remaining > 0) {
		ssize_t got = reader_some(&u->in, u->remaining);
		if (got < 0)
			return fail_sys(u, "cannot read the archive");
		if (got == 0)
			return fail(u, "unexpected end of archive in \"%s\"", name);
		if (fd >= 0 && write_all(fd, u->in.buf + u->in.pos, (size_t)got) != 0)
			return fail_sys(u, "cannot write \"%s\"", name);
		u->in.pos += (size_t)got;
		u->offset += (uint64_t)got;
		u->remaining -= (uint64_t)got;
	}
	return 0;
}

/* ---- paths ---- */

/* Splits an archive path into components, refusing absolute paths and "..". */
static int split_path(struct unpacker *u, const char *name, struct pathparts *pp)
{
	if (name[0] == '/')
		return refuse(u, "refusing absolute path \"%s\"", name);
	size_t len = strlen(name);
	if (len + 1 > pp->bufcap) {
		char *grown = realloc(pp->buf, len + 1);
		if (!grown)
			return fail_sys(u, "out of memory");
		pp->buf = grown;
		pp->bufcap = len + 1;
	}
	memcpy(pp->buf, name, len + 1);
	pp->n = 0;
	for (char *p = pp->buf, *next; p; p = next) {
		char *slash = strchr(p, '/');
		next = slash ? slash + 1 : NULL;
		if (slash)
			*slash = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0)
			return refuse(u, "refusing path with \"..\": \"%s\"", name);
		if (pp->n == pp->partscap) {
			size_t cap = pp->partscap ? pp->partscap * 2 : 32;
			char **grown = realloc(pp->parts, cap * sizeof *grown);
			if (!grown)
				return fail_sys(u, "out of memory");
			pp->parts = grown;
			pp->partscap = cap;
		}
		pp->parts[pp->n++] = p;
	}
	if (pp->n > MAX_DEPTH)
		return refuse(u, "refusing \"%s\": more than %d directories deep", name, MAX_DEPTH);
	return 0;
}

/* Joins components into u->rel, with `last` in place of the final one when given. */
static const char *join_rel(struct unpacker *u, char **parts, size_t n, const char *last)
{
	size_t need = 1;
	for (size_t i = 0; i < n; i++)
		need += strlen(i + 1 == n && last ? last : parts[i]) + 1;
	if (need > u->relcap) {
		char *grown = realloc(u->rel, need);
		if (!grown)
			return NULL;
		u->rel = grown;
		u->relcap = need;
	}
	char *p = u->rel;
	for (size_t i = 0; i < n; i++) {
		const char *part = i + 1 == n && last ? last : parts[i];
		size_t l = strlen(part);
		if (i > 0)
			*p++ = '/';
		memcpy(p, part, l);
		p += l;
	}
	*p = '\0';
	return u->rel;
}

/* ---- directory walking ---- */

static void stack_truncate(struct dirstack *s, size_t depth)
{
	while (s->depth > depth) {
		s->depth--;
		close(s->fds[s->depth]);
		free(s->names[s->depth]);
	}
}

/* Opens directory `comp` under `parent` without following a symlink, making it (0755) when
 * `create` and it is missing. `entry` names the archive entry for messages. */
static int open_component(struct unpacker *u, int parent, const char *comp, const char *entry, int create)
{
	int fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, comp, 0755) != 0 && errno != EEXIST)
			return fail_sys(u, "cannot make directory \"%s\" for \"%s\"", comp, entry);
		fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
	int err = errno;
	struct stat st;
	if (fstatat(parent, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return refuse(u, "refusing \"%s\": it would be written through the symlink \"%s\"", entry, comp);
		if (!S_ISDIR(st.st_mode))
			return refuse(u, "refusing \"%s\": \"%s\" is not a directory", entry, comp);
	}
	errno = err;
	return fail_sys(u, "cannot open directory \"%s\" for \"%s\"", comp, entry);
}

/* The fd of the directory parts[0..n), reusing what the last walk left open. The fd belongs
 * to the stack: valid until the next walk. */
static int walk(struct unpacker *u, char **parts, size_t n, const char *entry, int create)
{
	struct dirstack *s = &u->stack;
	size_t common = 0;
	while (common < s->depth && common < n && strcmp(s->names[common], parts[common]) == 0)
		common++;
	stack_truncate(s, common);
	for (size_t i = common; i < n; i++) {
		int parent = i ? s->fds[i - 1] : u->root;
		int fd = open_component(u, parent, parts[i], entry, create);
		if (fd < 0)
			return -1;
		char *name = strdup(parts[i]);
		if (!name) {
			close(fd);
			return fail_sys(u, "out of memory");
		}
		s->fds[s->depth] = fd;
		s->names[s->depth] = name;
		s->depth++;
	}
	return n ? s->fds[n - 1] : u->root;
}

/* ---- directory metadata, applied at the end ---- */

static size_t hash_path(const char *s)
{
	size_t h = 14695981039346656037ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct dirrec *dir_find(struct unpacker *u, const char *path)
{
	if (!u->nslots)
		return NULL;
	for (size_t i = hash_path(path) & (u->nslots - 1);; i = (i + 1) & (u->nslots - 1)) {
		if (!u->slots[i])
			return NULL;
		struct dirrec *d = &u->dirs[u->slots[i] - 1];
		if (strcmp(d->path, path) == 0)
			return d;
	}
}

static void dir_index(struct unpacker *u, size_t index)
{
	size_t i = hash_path(u->dirs[index].path) & (u->nslots - 1);
	while (u->slots[i])
		i = (i + 1) & (u->nslots - 1);
	u->slots[i] = index + 1;
}

static int dir_remember(struct unpacker *u, const char *path, const struct tar_entry *e)
{
	struct dirrec *d = dir_find(u, path);
	if (!d) {
		if (u->ndirs == u->dircap) {
			size_t cap = u->dircap ? u->dircap * 2 : 256;
			struct dirrec *grown = realloc(u->dirs, cap * sizeof *grown);
			if (!grown)
				return fail_sys(u, "out of memory");
			u->dirs = grown;
			u->dircap = cap;
		}
		if ((u->ndirs + 1) * 2 > u->nslots) {
			size_t nslots = u->nslots ? u->nslots * 2 : 512;
			size_t *slots = calloc(nslots, sizeof *slots);
			if (!slots)
				return fail_sys(u, "out of memory");
			free(u->slots);
			u->slots = slots;
			u->nslots = nslots;
			for (size_t i = 0; i < u->ndirs; i++)
				dir_index(u, i);
		}
		d = &u->dirs[u->ndirs];
		d->path = strdup(path);
		if (!d->path)
			return fail_sys(u, "out of memory");
		dir_index(u, u->ndirs++);
	}
	d->mode = e->mode;
	d->uid = e->uid;
	d->gid = e->gid;
	d->mtime = e->mtime;
	d->alive = 1;
	return 0;
}

/* A directory at `path` was removed: its metadata and its subdirectories' must not apply. */
static void dir_forget_tree(struct unpacker *u, const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < u->ndirs; i++) {
		struct dirrec *d = &u->dirs[i];
		if (strncmp(d->path, path, len) == 0 && (d->path[len] == '\0' || d->path[len] == '/'))
			d->alive = 0;
	}
}

static int apply_dir_meta(struct unpacker *u, int fd, const struct dirrec *d)
{
	struct timespec times[2] = {d->mtime, d->mtime};
	const char *shown = d->path[0] ? d->path : ".";
	/* chown before chmod: chown clears setuid/setgid. */
	if (fchown(fd, d->uid, d->gid) != 0)
		return fail_sys(u, "cannot chown directory \"%s\"", shown);
	if (fchmod(fd, d->mode) != 0)
		return fail_sys(u, "cannot chmod directory \"%s\"", shown);
	if (futimens(fd, times) != 0)
		return fail_sys(u, "cannot set the times of directory \"%s\"", shown);
	return 0;
}

static int compare_paths_descending(const void *a, const void *b)
{
	return strcmp((*(struct dirrec *const *)b)->path, (*(struct dirrec *const *)a)->path);
}

/* Descending byte order puts every directory before its parent (a path sorts after its
 * prefixes) and keeps siblings together, so the walks mostly reuse open fds. */
static int finish_directories(struct unpacker *u)
{
	struct dirrec **order = malloc((u->ndirs ? u->ndirs : 1) * sizeof *order);
	if (!order)
		return fail_sys(u, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < u->ndirs; i++)
		if (u->dirs[i].alive)
			order[n++] = &u->dirs[i];
	qsort(order, n, sizeof *order, compare_paths_descending);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct dirrec *d = order[i];
		if (d->path[0] == '\0') {
			rc = apply_dir_meta(u, u->root, d);
			continue;
		}
		if (split_path(u, d->path, &u->entry_parts) != 0)
			rc = -1;
		struct pathparts *pp = &u->entry_parts;
		int parent = rc ? -1 : walk(u, pp->parts, pp->n - 1, d->path, 0);
		if (parent < 0) {
			rc = -1;
			break;
		}
		int fd = openat(parent, pp->parts[pp->n - 1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = fail_sys(u, "cannot open directory \"%s\"", d->path);
			break;
		}
		rc = apply_dir_meta(u, fd, d);
		close(fd);
	}
	free(order);
	return rc;
}

/* ---- replacing and creating entries ---- */

static int remove_tree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR)
			rc = remove_tree(fd, de->d_name);
		else if (unlinkat(fd, de->d_name, 0) != 0)
			rc = errno == EISDIR ? remove_tree(fd, de->d_name) : -1;
	}
	closedir(dir);
	if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) != 0)
		rc = -1;
	return rc;
}

/* Removes what an earlier entry left at parent/leaf (`rel` in the layer) so `entry` can take
 * its place. Never follows a symlink there: unlinkat removes the link itself. */
static int remove_existing(struct unpacker *u, int parent, const char *leaf, const char *rel, const char *entry)
{
	if (unlinkat(parent, leaf, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return fail_sys(u, "cannot replace \"%s\" with \"%s\"", rel, entry);
	if (remove_tree(parent, leaf) != 0)
		return fail_sys(u, "cannot remove directory \"%s\" to replace it with \"%s\"", rel, entry);
	dir_forget_tree(u, rel);
	return 0;
}

static int set_xattrs(struct unpacker *u, int fd, int parent, const char *leaf, const struct tar_entry *e)
{
	/* Without an fd of the entry itself, its verified parent's fd names it: the leaf of the
	 * /proc path is not followed by lsetxattr. */
	char via[64 + 256];
	if (fd < 0)
		snprintf(via, sizeof via, "/proc/self/fd/%d/%s", parent, leaf);
	for (size_t i = 0; i < e->nxattrs; i++) {
		const struct tar_xattr *x = &e->xattrs[i];
		int rc = fd >= 0 ? fsetxattr(fd, x->name, x->value, x->len, 0) : lsetxattr(via, x->name, x->value, x->len, 0);
		if (rc != 0)
			return fail_sys(u, "cannot set xattr \"%s\" on \"%s\"", x->name, e->name);
	}
	return 0;
}

static int make_file(struct unpacker *u, int parent, const char *leaf, const char *rel, const struct tar_entry *e)
{
	/* O_EXCL|O_NOFOLLOW: never write through anything already there. */
	int fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		if (remove_existing(u, parent, leaf, rel, e->name) != 0)
			return -1;
		fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return fail_sys(u, "cannot create \"%s\"", e->name);
	struct timespec times[2] = {e->mtime, e->mtime};
	int rc = copy_data(u, fd, e->name);
	/* chown before chmod (chown clears setuid), xattrs after chown (it clears
	 * security.capability), times last. */
	if (rc == 0 && fchown(fd, e->uid, e->gid) != 0)
		rc = fail_sys(u, "cannot chown \"%s\"", e->name);
	if (rc == 0 && fchmod(fd, e->mode) != 0)
		rc = fail_sys(u, "cannot chmod \"%s\"", e->name);
	if (rc == 0)
		rc = set_xattrs(u, fd, parent, leaf, e);
	if (rc == 0 && futimens(fd, times) != 0)
		rc = fail_sys(u, "cannot set the times of \"%s\"", e->name);
	if (close(fd) != 0 && rc == 0)
		rc = fail_sys(u, "cannot write \"%s\"", e->name);
	return rc;
}

static int make_directory(struct unpacker *u, int parent, const char *leaf, const char *rel, const struct tar_entry *e)
{
	if (mkdirat(parent, leaf, 0700) != 0) {
		if (errno != EEXIST)
			return fail_sys(u, "cannot make directory \"%s\"", e->name);
		struct stat st;
		if (fstatat(parent, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return fail_sys(u, "cannot make directory \"%s\"", e->name);
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(parent, leaf, 0) != 0 || mkdirat(parent, leaf, 0700) != 0)
				return fail_sys(u, "cannot replace \"%s\" with a directory", e->name);
		}
	}
	if (dir_remember(u, rel, e) != 0)
		return -1;
	return set_xattrs(u, -1, parent, leaf, e);
}

static int make_symlink(struct unpacker *u, int parent, const char *leaf, const char *rel, const struct tar_entry *e)
{
	if (symlinkat(e->linkname, parent, leaf) != 0) {
		if (errno != EEXIST || remove_existing(u, parent, leaf, rel, e->name) != 0 || symlinkat(e->linkname, parent, leaf) != 0)
			return u->status ? -1 : fail_sys(u, "cannot make symlink \"%s\"", e->name);
	}
	struct timespec times[2] = {e->mtime, e->mtime};
	if (fchownat(parent, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return fail_sys(u, "cannot chown \"%s\"", e->name);
	if (set_xattrs(u, -1, parent, leaf, e) != 0)
		return -1;
	if (utimensat(parent, leaf, times, AT_SYMLINK_NOFOLLOW) != 0)
		return fail_sys(u, "cannot set the times of \"%s\"", e->name);
	return 0;
}

/* The directory holding a hardlink's target, walked without creating anything and without
 * the stack (the new name's parent is on it). The caller closes it unless it is the root. */
static int open_link_parent(struct unpacker *u, char **parts, size_t n, const struct tar_entry *e)
{
	int fd = u->root;
	for (size_t i = 0; i < n; i++) {
		int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		struct stat st;
		int is_link = next < 0 && fstatat(fd, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
		if (fd != u->root)
			close(fd);
		if (is_link)
			return refuse(u, "refusing hardlink to \"%s\": it goes through the symlink \"%s\"", e->linkname, parts[i]);
		if (next < 0 && (err == ENOENT || err == ENOTDIR))
			return refuse(u, "refusing hardlink \"%s\": target \"%s\" is not in this layer", e->name, e->linkname);
		if (next < 0) {
			errno = err;
			return fail_sys(u, "cannot open the directory of \"%s\"", e->linkname);
		}
		fd = next;
	}
	return fd;
}

/* A hardlink may only alias a non-directory entry already in this layer, reached without
 * a symlink; linkat without AT_SYMLINK_FOLLOW links a symlink target itself, never what it
 * points to. */
static int make_hardlink(struct unpacker *u, int parent, const char *leaf, const char *rel, const struct tar_entry *e)
{
	struct pathparts *tp = &u->link_parts;
	if (split_path(u, e->linkname, tp) != 0)
		return -1;
	if (tp->n == 0)
		return refuse(u, "refusing hardlink \"%s\" to the layer root", e->name);
	int tparent = open_link_parent(u, tp->parts, tp->n - 1, e);
	if (tparent < 0)
		return -1;
	const char *tleaf = tp->parts[tp->n - 1];
	int rc = 0;
	struct stat target;
	if (fstatat(tparent, tleaf, &target, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = refuse(u, "refusing hardlink \"%s\": target \"%s\" is not in this layer", e->name, e->linkname);
		else
			rc = fail_sys(u, "cannot stat \"%s\"", e->linkname);
	} else if (S_ISDIR(target.st_mode)) {
		rc = refuse(u, "refusing hardlink \"%s\" to directory \"%s\"", e->name, e->linkname);
	} else if (linkat(tparent, tleaf, parent, leaf, 0) != 0) {
		struct stat existing;
		if (errno != EEXIST) {
			rc = fail_sys(u, "cannot link \"%s\" to \"%s\"", e->name, e->linkname);
		} else if (fstatat(parent, leaf, &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
			   existing.st_dev == target.st_dev && existing.st_ino == target.st_ino) {
			rc = 0; /* already that inode, e.g. a link to itself */
		} else if (remove_existing(u, parent, leaf, rel, e->name) != 0) {
			rc = -1;
		} else if (linkat(tparent, tleaf, parent, leaf, 0) != 0) {
			rc = fail_sys(u, "cannot link \"%s\" to \"%s\"", e->name, e->linkname);
		}
	}
	if (tparent != u->root)
		close(tparent);
	if (rc == 0)
		rc = set_xattrs(u, -1, parent, leaf, e);
	return rc;
}

static int make_fifo(struct unpacker *u, int parent, const char *leaf, const char *rel, const struct tar_entry *e)
{
	if (mknodat(parent, leaf, S_IFIFO | 0600, 0) != 0) {
		if (errno != EEXIST || remove_existing(u, parent, leaf, rel, e->name) != 0 || mknodat(parent, leaf, S_IFIFO | 0600, 0) != 0)
			return u->status ? -1 : fail_sys(u, "cannot make fifo \"%s\"", e->name);
	}
	struct timespec times[2] = {e->mtime, e->mtime};
	/* fchmodat cannot refuse to follow a symlink, but leaf is the fifo just made in a
	 * directory nothing else writes to. */
	if (fchownat(parent, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) != 0 || fchmodat(parent, leaf, e->mode, 0) != 0)
		return fail_sys(u, "cannot set the owner and mode of fifo \"%s\"", e->name);
	if (set_xattrs(u, -1, parent, leaf, e) != 0)
		return -1;
	if (utimensat(parent, leaf, times, AT_SYMLINK_NOFOLLOW) != 0)
		return fail_sys(u, "cannot set the times of \"%s\"", e->name);
	return 0;
}

/* overlayfs' whiteout: a 0:0 character device owned by root. */
static int make_whiteout(struct unpacker *u, int parent, const char *leaf, const char *rel, const char *entry)
{
	if (mknodat(parent, leaf, S_IFCHR | 0, makedev(0, 0)) != 0) {
		if (errno != EEXIST || remove_existing(u, parent, leaf, rel, entry) != 0 || mknodat(parent, leaf, S_IFCHR | 0, makedev(0, 0)) != 0)
			return u->status ? -1 : fail_sys(u, "cannot make whiteout for \"%s\"", entry);
	}
	if (fchownat(parent, leaf, 0, 0, AT_SYMLINK_NOFOLLOW) != 0)
		return fail_sys(u, "cannot chown whiteout \"%s\"", entry);
	return 0;
}

/* ---- one entry ---- */

static int apply_entry(struct unpacker *u, const struct tar_entry *e)
{
	if (e->has_nul)
		return refuse(u, "refusing a name containing NUL");
	struct pathparts *pp = &u->entry_parts;
	if (split_path(u, e->name, pp) != 0)
		return -1;
	if (pp->n == 0) {
		/* The layer root itself ("./"): only its metadata means anything. */
		return e->type == '5' ? dir_remember(u, "", e) : 0;
	}
	int parent = walk(u, pp->parts, pp->n - 1, e->name, 1);
	if (parent < 0)
		return -1;
	const char *leaf = pp->parts[pp->n - 1];

	if (strcmp(leaf, OPAQUE_MARKER) == 0) {
		if (pp->n > 1 && fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) != 0)
			return fail_sys(u, "cannot mark the directory of \"%s\" opaque", e->name);
		return 0;
	}
	if (strncmp(leaf, WHITEOUT_PREFIX, sizeof WHITEOUT_PREFIX - 1) == 0) {
		const char *hidden = leaf + sizeof WHITEOUT_PREFIX - 1;
		if (hidden[0] == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0)
			return refuse(u, "refusing whiteout \"%s\"", e->name);
		const char *rel = join_rel(u, pp->parts, pp->n, hidden);
		return rel ? make_whiteout(u, parent, hidden, rel, e->name) : fail_sys(u, "out of memory");
	}
	const char *rel = join_rel(u, pp->parts, pp->n, NULL);
	if (!rel)
		return fail_sys(u, "out of memory");
	if (e->sparse) {
		warn("skipping sparse file \"%s\" (not supported)", e->name);
		return 0;
	}
	switch (e->type) {
	case '0':
		return make_file(u, parent, leaf, rel, e);
	case '5':
		return make_directory(u, parent, leaf, rel, e);
	case '2':
		return make_symlink(u, parent, leaf, rel, e);
	case '1':
		return make_hardlink(u, parent, leaf, rel, e);
	case '6':
		return make_fifo(u, parent, leaf, rel, e);
	case '3':
	case '4':
		if (e->type == '3' && e->devmajor == 0 && e->devminor == 0)
			return make_whiteout(u, parent, leaf, rel, e->name);
		warn("skipping device node \"%s\" (the runtime provides /dev)", e->name);
		return 0;
	default:
		warn("skipping \"%s\" of unsupported type '%c'", e->name, e->type);
		return 0;
	}
}

/* Reads a pax header's or GNU long name's body (the current entry's data) into memory. */
static char *read_meta_body(struct unpacker *u, const struct tar_entry *e, const char *what)
{
	if (e->size > MAX_META_SIZE) {
		refuse(u, "refusing %s of %llu bytes (the limit is %u)", what, (unsigned long long)e->size, MAX_META_SIZE);
		return NULL;
	}
	char *body = malloc((size_t)e->size + 1);
	if (!body) {
		fail_sys(u, "out of memory");
		return NULL;
	}
	size_t got = 0;
	while (u->remaining > 0) {
		ssize_t n = reader_some(&u->in, u->remaining);
		if (n <= 0) {
			if (n < 0)
				fail_sys(u, "cannot read the archive");
			else
				fail(u, "unexpected end of archive in a %s", what);
			free(body);
			return NULL;
		}
		memcpy(body + got, u->in.buf + u->in.pos, (size_t)n);
		got += (size_t)n;
		u->in.pos += (size_t)n;
		u->offset += (uint64_t)n;
		u->remaining -= (uint64_t)n;
	}
	body[got] = '\0';
	return body;
}

/* Takes a pax 'x' header or a GNU long name into `pending` for the entry that follows. */
static int read_meta(struct unpacker *u, const struct tar_entry *e, struct tar_overrides *pending)
{
	if (e->type == 'g') {
		/* Global pax headers carry comments in practice (git archive); nothing to apply. */
		return 0;
	}
	const char *what = e->type == 'x' ? "pax header" : "GNU long name";
	char *body = read_meta_body(u, e, what);
	if (!body)
		return -1;
	int rc = 0;
	if (e->type == 'x') {
		if (tar_parse_pax(body, (size_t)e->size, pending) != 0)
			rc = fail(u, "malformed pax header at byte %llu", (unsigned long long)(u->offset - e->size - TAR_BLOCK));
	} else {
		char **slot = e->type == 'L' ? &pending->path : &pending->linkpath;
		free(*slot);
		*slot = tar_gnu_long_name(body, (size_t)e->size, &pending->has_nul);
		if (!*slot)
			rc = fail_sys(u, "out of memory");
	}
	free(body);
	return rc;
}

/* Reads stdin to its end after the end-of-archive blocks: the caller digests every byte. */
static int drain(struct unpacker *u)
{
	u->in.pos = u->in.len = 0;
	while (!u->in.eof) {
		u->in.len = 0;
		if (reader_fill(&u->in, u->in.cap) < 0)
			return fail_sys(u, "cannot read the archive");
	}
	return 0;
}

static int unpack_stream(struct unpacker *u)
{
	struct tar_overrides pending;
	memset(&pending, 0, sizeof pending);
	int rc = 0;
	while (rc == 0) {
		int got = reader_fill(&u->in, TAR_BLOCK);
		if (got < 0) {
			rc = fail_sys(u, "cannot read the archive");
			break;
		}
		if (got == 0) {
			/* Some writers omit the end-of-archive blocks; ending between entries is fine. */
			if (u->in.len != u->in.pos)
				rc = fail(u, "unexpected end of archive in a header at byte %llu", (unsigned long long)u->offset);
			break;
		}
		const unsigned char *block = u->in.buf + u->in.pos;
		struct tar_entry e;
		enum tar_header_kind kind = tar_decode_header(block, &pending, &e);
		if (kind == TAR_HEADER_END) {
			rc = drain(u);
			break;
		}
		if (kind != TAR_HEADER_ENTRY) {
			rc = fail(u, "invalid tar header at byte %llu (%s): the archive is corrupt or still compressed",
				  (unsigned long long)u->offset, kind == TAR_HEADER_BAD_CHECKSUM ? "bad checksum" : "bad number field");
			tar_entry_free(&e);
			break;
		}
		u->in.pos += TAR_BLOCK;
		u->offset += TAR_BLOCK;
		u->remaining = e.size;
		if (e.type == 'x' || e.type == 'g' || e.type == 'L' || e.type == 'K')
			rc = read_meta(u, &e, &pending);
		else
			rc = apply_entry(u, &e);
		if (rc == 0)
			rc = skip_bytes(u, u->remaining + padding(e.size), e.name ? e.name : "header");
		tar_entry_free(&e);
	}
	tar_overrides_free(&pending);
	if (rc == 0)
		rc = finish_directories(u);
	return rc;
}

int command_unpack(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: stack-shim unpack DIR < uncompressed-tar\n");
		return 2;
	}
	/* Modes come from the archive; implicit parents are exactly 0755. */
	umask(0);
	/* A larger pipe means fewer, larger reads (best effort: stdin may be a file). */
	fcntl(STDIN_FILENO, F_SETPIPE_SZ, 1 << 20);
	static struct unpacker u;
	u.in.fd = STDIN_FILENO;
	u.in.cap = READ_BUFFER;
	u.in.buf = malloc(READ_BUFFER);
	u.stack.fds = malloc(MAX_DEPTH * sizeof *u.stack.fds);
	u.stack.names = malloc(MAX_DEPTH * sizeof *u.stack.names);
	if (!u.in.buf || !u.stack.fds || !u.stack.names) {
		perror("stack-shim unpack");
		return 1;
	}
	u.root = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.root < 0)
		fail_sys(&u, "cannot open \"%s\"", argv[2]);
	else
		unpack_stream(&u);
	if (u.status)
		print_escaped("stack-shim unpack: ", u.message);
	/* Everything else is released by exit. */
	return u.status;
}
