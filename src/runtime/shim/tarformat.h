/* Decoding the tar formats image layers come in: POSIX ustar, pax extended headers ('x';
 * global 'g' headers are read and ignored) and GNU long names ('L', 'K'). Only decoding
 * lives here; what an entry does to the filesystem is unpack.c's business. */
#ifndef STACK_TARFORMAT_H
#define STACK_TARFORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define TAR_BLOCK 512

struct tar_xattr {
	char *name;
	char *value;
	size_t len;
};

/* What a pax 'x' header or GNU 'L'/'K' entry says about the entry that follows. */
struct tar_overrides {
	char *path, *linkpath; /* NULL when not given */
	int has_size, has_uid, has_gid, has_mtime, sparse, has_nul;
	uint64_t size;
	uint64_t uid, gid;
	struct timespec mtime;
	struct tar_xattr *xattrs;
	size_t nxattrs;
};

struct tar_entry {
	char *name, *linkname; /* owned; linkname is "" when there is none */
	char type;             /* the typeflag; '0' also for '\0', '7' and old-style "dir/" entries are '5' */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint64_t size;         /* bytes of data that follow the header (0 for header-only types) */
	struct timespec mtime;
	unsigned int devmajor, devminor;
	int sparse;            /* GNU sparse file: its data is a map, not the file */
	int has_nul;           /* a name from an extended header held a NUL byte */
	struct tar_xattr *xattrs;
	size_t nxattrs;
};

enum tar_header_kind { TAR_HEADER_ENTRY, TAR_HEADER_END, TAR_HEADER_BAD_CHECKSUM, TAR_HEADER_BAD_NUMBER };

/* Decodes one 512-byte header into *e, taking over (and clearing) *pending. */
enum tar_header_kind tar_decode_header(const unsigned char *block, struct tar_overrides *pending, struct tar_entry *e);

/* Reads the records of a pax extended header into *o; -1 when they are malformed. */
int tar_parse_pax(const char *data, size_t len, struct tar_overrides *o);

/* A GNU 'L'/'K' body: the name up to its NUL. *has_nul is set when bytes follow that NUL. */
char *tar_gnu_long_name(const char *data, size_t len, int *has_nul);

void tar_entry_free(struct tar_entry *e);
void tar_overrides_free(struct tar_overrides *o);

#endif
