/* Failure messages: one per process, naming the step, the path or value, and errno. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char error_text[SHIM_ERROR_MAX];

/* Appends text at *used, cutting at the end of the buffer: a long message still
 * names the step and most of the path. */
static void append(size_t *used, const char *text)
{
	size_t room = sizeof error_text - 1 - *used, len = strlen(text);

	if (len > room)
		len = room;
	memcpy(error_text + *used, text, len);
	*used += len;
	error_text[*used] = '\0';
}

int fail(const char *step, const char *detail, int errnum)
{
	size_t used = 0;

	error_text[0] = '\0';
	append(&used, step);
	append(&used, ": ");
	append(&used, detail);
	if (errnum) {
		append(&used, ": ");
		append(&used, strerror(errnum));
	}
	return -1;
}

int failf(const char *step, int errnum, const char *fmt, ...)
{
	char detail[SHIM_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return fail(step, detail, errnum);
}

const char *last_error(void)
{
	return error_text;
}

void restore_error(const char *message)
{
	size_t used = 0;

	error_text[0] = '\0';
	append(&used, message);
}

int join_path(char *out, size_t size, const char *a, const char *b, const char *step)
{
	size_t alen = strlen(a);
	int a_slash = alen > 0 && a[alen - 1] == '/', n;

	if (a_slash && b[0] == '/')
		b++;
	n = snprintf(out, size, "%s%s%s", a, (a_slash || b[0] == '/' || b[0] == '\0') ? "" : "/", b);
	if (n < 0 || (size_t)n >= size)
		return failf(step, 0, "path too long: %s/%s", a, b);
	return 0;
}
