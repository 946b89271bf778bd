/* stack-shim fs-apply DIR: the filesystem steps Node cannot do while unpacking an image
 * layer (mknod, setxattr), read as a batch from stdin so a layer costs one process.
 *
 * Each operation is NUL-terminated fields:
 *   whiteout PATH                 0:0 character device, overlayfs' whiteout
 *   opaque PATH                   trusted.overlay.opaque=y on a directory
 *   fifo PATH MODE(octal) UID GID
 *   xattr PATH NAME HEXVALUE
 * PATH is relative to DIR. Every parent component is opened with O_NOFOLLOW|O_DIRECTORY
 * from DIR's fd, so a symlink or `..` can never lead an operation outside DIR. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "stack-shim fs-apply: %s \"%s\": %s\n", what, path, strerror(errno));
	return 1;
}

/* Opens the directory holding PATH's last component; *leaf points at that component. */
static int open_parent(int root, char *path, const char **leaf)
{
	int fd = dup(root);
	char *p = path;
	if (fd < 0)
		return -1;
	for (;;) {
		char *slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			close(fd);
			errno = EPERM;
			return -1;
		}
		int next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		close(fd);
		if (next < 0)
			return -1;
		fd = next;
		p = slash + 1;
	}
	if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	*leaf = p;
	return fd;
}

static int hex_value(const char *hex, char **out, size_t *len)
{
	size_t n = strlen(hex);
	if (n % 2)
		return -1;
	*out = malloc(n / 2 + 1);
	if (!*out)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int byte;
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
			free(*out);
			return -1;
		}
		(*out)[i] = (char)byte;
	}
	*len = n / 2;
	return 0;
}

/* Reads one NUL-terminated field; returns NULL at end of input. */
static char *read_field(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&line, &cap, '\0', stdin);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	return line;
}

static int apply(int root, const char *op, char **args, int nargs)
{
	char *path = args[0];
	char shown[4096];
	snprintf(shown, sizeof shown, "%s", path);
	const char *leaf;
	int dir = open_parent(root, path, &leaf);
	if (dir < 0)
		return fail("cannot reach the parent of", shown);
	int rc = 0;
	/* lsetxattr through the verified parent fd does not follow a symlink leaf. */
	char via[64 + 4096];
	snprintf(via, sizeof via, "/proc/self/fd/%d/%s", dir, leaf);
	if (strcmp(op, "whiteout") == 0 && nargs == 1) {
		if (mknodat(dir, leaf, S_IFCHR | 0, makedev(0, 0)) != 0 || fchownat(dir, leaf, 0, 0, AT_SYMLINK_NOFOLLOW) != 0)
			rc = fail("cannot make whiteout", shown);
	} else if (strcmp(op, "opaque") == 0 && nargs == 1) {
		if (lsetxattr(via, "trusted.overlay.opaque", "y", 1, 0) != 0)
			rc = fail("cannot mark opaque", shown);
	} else if (strcmp(op, "fifo") == 0 && nargs == 4) {
		mode_t mode = (mode_t)strtoul(args[1], NULL, 8) & 07777;
		if (mknodat(dir, leaf, S_IFIFO | mode, 0) != 0 ||
		    fchownat(dir, leaf, (uid_t)strtoul(args[2], NULL, 10), (gid_t)strtoul(args[3], NULL, 10), AT_SYMLINK_NOFOLLOW) != 0 ||
		    fchmodat(dir, leaf, mode, 0) != 0)
			rc = fail("cannot make fifo", shown);
	} else if (strcmp(op, "xattr") == 0 && nargs == 3) {
		char *value;
		size_t len;
		if (hex_value(args[2], &value, &len) != 0) {
			errno = EINVAL;
			rc = fail("bad xattr value for", shown);
		} else {
			if (lsetxattr(via, args[1], value, len, 0) != 0)
				rc = fail("cannot set xattr on", shown);
			free(value);
		}
	} else {
		fprintf(stderr, "stack-shim fs-apply: unknown operation \"%s\" with %d arguments\n", op, nargs);
		rc = 1;
	}
	close(dir);
	return rc;
}

int command_fs_apply(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: stack-shim fs-apply DIR < operations\n");
		return 2;
	}
	int root = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fail("cannot open", argv[2]);
	int rc = 0;
	char *op;
	while ((op = read_field()) != NULL) {
		int want = strcmp(op, "fifo") == 0 ? 4 : strcmp(op, "xattr") == 0 ? 3 : 1;
		char *args[4] = {0};
		int got = 0;
		while (got < want && (args[got] = read_field()) != NULL)
			got++;
		if (got != want) {
			fprintf(stderr, "stack-shim fs-apply: truncated \"%s\" operation\n", op);
			rc = 1;
		} else if (apply(root, op, args, got) != 0) {
			rc = 1;
		}
		for (int i = 0; i < got; i++)
			free(args[i]);
		free(op);
		if (rc)
			break;
	}
	close(root);
	return rc;
}
