/* Decoding of tar headers: ustar fields (octal, or GNU base-256 for large numbers), the
 * checksum, pax extended header records and GNU long names. See tarformat.h. */
#include "tarformat.h"

#include <stdlib.h>
#include <string.h>

/* Byte offsets and widths of the ustar header fields. */
enum {
	F_NAME = 0, F_MODE = 100, F_UID = 108, F_GID = 116, F_SIZE = 124, F_MTIME = 136,
	F_CHKSUM = 148, F_TYPE = 156, F_LINKNAME = 157, F_MAGIC = 257, F_DEVMAJOR = 329,
	F_DEVMINOR = 337, F_PREFIX = 345,
};

static char *copy_bytes(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if (out) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

static char *copy_field(const unsigned char *block, size_t off, size_t width)
{
	const char *s = (const char *)block + off;
	return copy_bytes(s, strnlen(s, width));
}

/* A numeric field: octal digits padded with spaces or NULs, or (GNU) base-256 when the
 * first byte has its top bit set, as two's complement so mtimes before 1970 fit. */
static int decode_number(const unsigned char *f, size_t width, int64_t *out)
{
	if (f[0] & 0x80) {
		uint64_t v = (f[0] & 0x40) ? ~(uint64_t)0x7f : 0;
		v |= f[0] & 0x7f;
		for (size_t i = 1; i < width; i++) {
			/* More significant bytes than an int64 holds (other than sign extension). */
			if (i + 8 < width && f[i] != ((f[0] & 0x40) ? 0xff : 0))
				return -1;
			v = (v << 8) | f[i];
		}
		*out = (int64_t)v;
		return 0;
	}
	size_t i = 0;
	while (i < width && (f[i] == ' ' || f[i] == '\0'))
		i++;
	uint64_t v = 0;
	for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	if (i < width && f[i] != ' ' && f[i] != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int is_zero_block(const unsigned char *block)
{
	for (size_t i = 0; i < TAR_BLOCK; i++)
		if (block[i])
			return 0;
	return 1;
}

/* The stored checksum is the sum of all header bytes with the checksum field read as
 * spaces; some old tars summed signed chars, so either sum is accepted. */
static int checksum_ok(const unsigned char *block)
{
	int64_t stored;
	if (decode_number(block + F_CHKSUM, 8, &stored) != 0)
		return 0;
	int64_t sum_unsigned = 0, sum_signed = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		int in_field = i >= F_CHKSUM && i < F_CHKSUM + 8;
		sum_unsigned += in_field ? ' ' : block[i];
		sum_signed += in_field ? ' ' : (signed char)block[i];
	}
	return stored == sum_unsigned || stored == sum_signed;
}

static int is_meta_type(char type)
{
	return type == 'x' || type == 'g' || type == 'L' || type == 'K';
}

/* Types whose size field does not count data blocks that follow (as Go's archive/tar reads
 * them, which writes most image layers). */
static int is_header_only_type(char type)
{
	return type == '1' || type == '2' || type == '3' || type == '4' || type == '5' || type == '6';
}

enum tar_header_kind tar_decode_header(const unsigned char *block, struct tar_overrides *pending, struct tar_entry *e)
{
	memset(e, 0, sizeof *e);
	if (is_zero_block(block))
		return TAR_HEADER_END;
	if (!checksum_ok(block))
		return TAR_HEADER_BAD_CHECKSUM;
	int64_t mode, uid, gid, size, mtime, devmajor, devminor;
	if (decode_number(block + F_MODE, 8, &mode) || decode_number(block + F_UID, 8, &uid) ||
	    decode_number(block + F_GID, 8, &gid) || decode_number(block + F_SIZE, 12, &size) ||
	    decode_number(block + F_MTIME, 12, &mtime) || decode_number(block + F_DEVMAJOR, 8, &devmajor) ||
	    decode_number(block + F_DEVMINOR, 8, &devminor) || size < 0)
		return TAR_HEADER_BAD_NUMBER;
	char type = (char)block[F_TYPE];
	if (type == '\0' || type == '7')
		type = '0';
	e->type = type;
	e->mode = (mode_t)(mode & 07777);
	e->uid = (uid_t)uid;
	e->gid = (gid_t)gid;
	e->size = (uint64_t)size;
	e->mtime.tv_sec = (time_t)mtime;
	e->devmajor = (unsigned int)devmajor;
	e->devminor = (unsigned int)devminor;
	if (is_meta_type(type))
		return TAR_HEADER_ENTRY; /* its body is read by the caller; pending stays pending */

	/* ustar splits long names into prefix/name; GNU's magic ("ustar ") reuses that space. */
	if (memcmp(block + F_MAGIC, "ustar\0", 6) == 0 && block[F_PREFIX]) {
		char *prefix = copy_field(block, F_PREFIX, 155);
		char *name = copy_field(block, F_NAME, 100);
		if (prefix && name) {
			size_t lp = strlen(prefix), ln = strlen(name);
			e->name = malloc(lp + ln + 2);
			if (e->name) {
				memcpy(e->name, prefix, lp);
				e->name[lp] = '/';
				memcpy(e->name + lp + 1, name, ln + 1);
			}
		}
		free(prefix);
		free(name);
	} else {
		e->name = copy_field(block, F_NAME, 100);
	}
	e->linkname = copy_field(block, F_LINKNAME, 100);
	if (pending->path) {
		free(e->name);
		e->name = pending->path;
		pending->path = NULL;
	}
	if (pending->linkpath) {
		free(e->linkname);
		e->linkname = pending->linkpath;
		pending->linkpath = NULL;
	}
	if (pending->has_size)
		e->size = pending->size;
	if (pending->has_uid)
		e->uid = (uid_t)pending->uid;
	if (pending->has_gid)
		e->gid = (gid_t)pending->gid;
	if (pending->has_mtime)
		e->mtime = pending->mtime;
	e->sparse = pending->sparse || type == 'S';
	e->has_nul = pending->has_nul;
	e->xattrs = pending->xattrs;
	e->nxattrs = pending->nxattrs;
	pending->xattrs = NULL;
	pending->nxattrs = 0;
	tar_overrides_free(pending);
	if (!e->name || !e->linkname)
		return TAR_HEADER_BAD_NUMBER; /* out of memory; reported as a bad header */
	/* Old tars mark directories only by a trailing slash on a regular entry. */
	size_t n = strlen(e->name);
	if (e->type == '0' && n > 0 && e->name[n - 1] == '/')
		e->type = '5';
	if (is_header_only_type(e->type))
		e->size = 0;
	return TAR_HEADER_ENTRY;
}

static int parse_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* A pax time: [-]seconds[.fraction]. */
static int parse_time(const char *s, size_t n, struct timespec *out)
{
	int negative = n > 0 && s[0] == '-';
	size_t i = negative ? 1 : 0;
	const char *dot = memchr(s, '.', n);
	size_t whole_end = dot ? (size_t)(dot - s) : n;
	uint64_t sec;
	if (parse_decimal(s + i, whole_end - i, &sec) != 0 || sec > INT64_MAX / 2)
		return -1;
	long nsec = 0;
	if (dot) {
		long scale = 100000000;
		for (size_t j = whole_end + 1; j < n; j++) {
			if (s[j] < '0' || s[j] > '9')
				return -1;
			nsec += (s[j] - '0') * scale;
			scale /= 10;
		}
	}
	if (negative) {
		out->tv_sec = -(time_t)sec - (nsec ? 1 : 0);
		out->tv_nsec = nsec ? 1000000000L - nsec : 0;
	} else {
		out->tv_sec = (time_t)sec;
		out->tv_nsec = nsec;
	}
	return 0;
}

static int set_name(char **slot, const char *value, size_t len, int *has_nul)
{
	free(*slot);
	*slot = NULL;
	if (len == 0)
		return 0; /* an empty value withdraws the override */
	if (memchr(value, '\0', len))
		*has_nul = 1;
	*slot = copy_bytes(value, len);
	return *slot ? 0 : -1;
}

static int add_xattr(struct tar_overrides *o, const char *name, size_t name_len, const char *value, size_t len)
{
	struct tar_xattr *grown = realloc(o->xattrs, (o->nxattrs + 1) * sizeof *grown);
	if (!grown)
		return -1;
	o->xattrs = grown;
	if (name_len == 0 || memchr(name, '\0', name_len))
		o->has_nul = 1;
	struct tar_xattr *x = &o->xattrs[o->nxattrs];
	x->name = copy_bytes(name, name_len);
	x->value = copy_bytes(value, len);
	x->len = len;
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return -1;
	}
	o->nxattrs++;
	return 0;
}

/* Records are "LEN KEY=VALUE\n" where LEN counts the whole record, itself included. */
int tar_parse_pax(const char *data, size_t len, struct tar_overrides *o)
{
	static const char xattr_prefix[] = "SCHILY.xattr.";
	size_t pos = 0;
	while (pos < len) {
		if (data[pos] == '\0')
			break; /* padding some writers leave after the last record */
		const char *space = memchr(data + pos, ' ', len - pos);
		uint64_t reclen;
		if (!space || parse_decimal(data + pos, (size_t)(space - (data + pos)), &reclen) != 0 ||
		    reclen > len - pos || reclen < 5 || data[pos + reclen - 1] != '\n')
			return -1;
		const char *key = space + 1;
		const char *end = data + pos + reclen - 1;
		const char *eq = memchr(key, '=', (size_t)(end - key));
		if (!eq)
			return -1;
		size_t klen = (size_t)(eq - key);
		const char *value = eq + 1;
		size_t vlen = (size_t)(end - value);
		int rc = 0;
		if (klen == 4 && memcmp(key, "path", 4) == 0) {
			rc = set_name(&o->path, value, vlen, &o->has_nul);
		} else if (klen == 8 && memcmp(key, "linkpath", 8) == 0) {
			rc = set_name(&o->linkpath, value, vlen, &o->has_nul);
		} else if (klen == 4 && memcmp(key, "size", 4) == 0) {
			rc = parse_decimal(value, vlen, &o->size);
			o->has_size = rc == 0;
		} else if (klen == 3 && memcmp(key, "uid", 3) == 0) {
			rc = parse_decimal(value, vlen, &o->uid);
			o->has_uid = rc == 0;
		} else if (klen == 3 && memcmp(key, "gid", 3) == 0) {
			rc = parse_decimal(value, vlen, &o->gid);
			o->has_gid = rc == 0;
		} else if (klen == 5 && memcmp(key, "mtime", 5) == 0) {
			rc = parse_time(value, vlen, &o->mtime);
			o->has_mtime = rc == 0;
		} else if (klen > sizeof xattr_prefix - 1 && memcmp(key, xattr_prefix, sizeof xattr_prefix - 1) == 0) {
			rc = add_xattr(o, key + sizeof xattr_prefix - 1, klen - (sizeof xattr_prefix - 1), value, vlen);
		} else if (klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0) {
			o->sparse = 1;
		}
		if (rc != 0)
			return -1;
		pos += reclen;
	}
	return 0;
}

char *tar_gnu_long_name(const char *data, size_t len, int *has_nul)
{
	size_t n = strnlen(data, len);
	for (size_t i = n; i < len; i++)
		if (data[i])
			*has_nul = 1;
	return copy_bytes(data, n);
}

static void free_xattrs(struct tar_xattr *xattrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(xattrs[i].name);
		free(xattrs[i].value);
	}
	free(xattrs);
}

void tar_entry_free(struct tar_entry *e)
{
	free(e->name);
	free(e->linkname);
	free_xattrs(e->xattrs, e->nxattrs);
	memset(e, 0, sizeof *e);
}

void tar_overrides_free(struct tar_overrides *o)
{
	free(o->path);
	free(o->linkpath);
	free_xattrs(o->xattrs, o->nxattrs);
	memset(o, 0, sizeof *o);
}
