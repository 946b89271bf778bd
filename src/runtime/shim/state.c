/* State file and json-file log writing. */
#include "fdio.h"
#include "state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void timestamp_now(char out[TIMESTAMP_MAX])
{
	struct timespec ts;
	struct tm tm;
	char seconds[24];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(out, TIMESTAMP_MAX, "%s.%09dZ", seconds, (int)(ts.tv_nsec % 1000000000));
	(void)n;
}

static void add_time(cJSON *obj, const char *key, const char *value)
{
	if (value[0])
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}


int write_state(const char *path, const struct shim_state *st)
{
	char tmp[PATH_MAX];
	cJSON *doc = cJSON_CreateObject(), *cgroups;
	char *text;
	int fd, rc = -1;

	if (!doc)
		return fail("write state", path, ENOMEM);
	cJSON_AddStringToObject(doc, "ociVersion", "1.0.2");
	cJSON_AddStringToObject(doc, "id", st->id);
	cJSON_AddStringToObject(doc, "status", st->status);
	cJSON_AddNumberToObject(doc, "pid", st->pid);
	cJSON_AddNumberToObject(doc, "shimPid", st->shim_pid);
	cJSON_AddStringToObject(doc, "bundle", st->bundle);
	cJSON_AddStringToObject(doc, "log", st->log_path);
	if (st->exited) {
		cJSON_AddNumberToObject(doc, "exitCode", st->exit_code);
		if (st->signal)
			cJSON_AddNumberToObject(doc, "signal", st->signal);
		else
			cJSON_AddNullToObject(doc, "signal");
	} else {
		cJSON_AddNullToObject(doc, "exitCode");
		cJSON_AddNullToObject(doc, "signal");
	}
	cJSON_AddBoolToObject(doc, "oomKilled", st->oom_killed);
	add_time(doc, "createdAt", st->created_at);
	add_time(doc, "startedAt", st->started_at);
	add_time(doc, "finishedAt", st->finished_at);
	if (st->error[0])
		cJSON_AddStringToObject(doc, "error", st->error);
	else
		cJSON_AddNullToObject(doc, "error");
	cgroups = cJSON_AddArrayToObject(doc, "cgroups");
	if (st->cgroups)
		for (int c = 0; c < CGROUP_CONTROLLERS; c++)
			if (st->cgroups->created[c]) {
				cJSON *entry = cJSON_CreateObject();

				cJSON_AddStringToObject(entry, "controller", cgroup_controller_names[c]);
				cJSON_AddNumberToObject(entry, "version", st->cgroups->version[c]);
				cJSON_AddStringToObject(entry, "path", st->cgroups->dir[c]);
				cJSON_AddItemToArray(cgroups, entry);
			}
	text = cJSON_Print(doc);
	cJSON_Delete(doc);
	if (!text)
		return fail("write state", path, ENOMEM);

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		fail("write state", path, ENAMETOOLONG);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail("write state", tmp, errno);
		goto out;
	}
	if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		fail("write state", tmp, errno);
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		fail("write state", tmp, errno);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		failf("write state", errno, "rename %s to %s", tmp, path);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* Length of the valid UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *p, size_t avail)
{
	size_t need;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		need = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		need = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		need = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (avail < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode are not valid UTF-8. */
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static int write_entry(int log_fd, const char *stream, const char *data, size_t len)
{
	/* Worst case every byte becomes \ufffd (6 bytes). */
	static char line[16 * 1024 * 6 + 256];
	char when[TIMESTAMP_MAX];
	size_t out = 0;

	timestamp_now(when);
	out += (size_t)snprintf(line, sizeof line, "{\"log\":\"");
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)data[i];
		size_t n;

		switch (c) {
		case '"': memcpy(line + out, "\\\"", 2); out += 2; i++; continue;
		case '\\': memcpy(line + out, "\\\\", 2); out += 2; i++; continue;
		case '\n': memcpy(line + out, "\\n", 2); out += 2; i++; continue;
		case '\r': memcpy(line + out, "\\r", 2); out += 2; i++; continue;
		case '\t': memcpy(line + out, "\\t", 2); out += 2; i++; continue;
		}
		if (c < 0x20) {
			out += (size_t)snprintf(line + out, 7, "\\u%04x", c);
			i++;
			continue;
		}
		n = utf8_sequence((const unsigned char *)data + i, len - i);
		if (n == 0) {
			memcpy(line + out, "\\ufffd", 6);
			out += 6;
			i++;
			continue;
		}
		memcpy(line + out, data + i, n);
		out += n;
		i += n;
	}
	out += (size_t)snprintf(line + out, sizeof line - out, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, when);
	if (write_all(log_fd, line, out) < 0)
		return fail("write log", stream, errno);
	return 0;
}

int log_bytes(int log_fd, struct log_stream *ls, const char *data, size_t len)
{
	while (len) {
		const char *newline = memchr(data, '\n', len);
		size_t take = newline ? (size_t)(newline - data) + 1 : len;
		size_t room = sizeof ls->pending - ls->used;

		if (take > room)
			take = room;
		memcpy(ls->pending + ls->used, data, take);
		ls->used += take;
		data += take;
		len -= take;
		if (ls->pending[ls->used - 1] == '\n' || ls->used == sizeof ls->pending) {
			if (write_entry(log_fd, ls->name, ls->pending, ls->used) < 0)
				return -1;
			ls->used = 0;
		}
	}
	return 0;
}

int log_flush(int log_fd, struct log_stream *ls)
{
	int rc = 0;

	if (ls->used)
		rc = write_entry(log_fd, ls->name, ls->pending, ls->used);
	ls->used = 0;
	return rc;
}
