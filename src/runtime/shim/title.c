/* Process title: overwrite the original argv strings in place, the only way that
 * needs no privilege (PR_SET_MM would need CAP_SYS_RESOURCE). */
#include "title.h"

#include <string.h>
#include <sys/prctl.h>

static char *area;
static size_t area_len;

void title_init(int argc, char **argv)
{
	if (argc < 1)
		return;
	area = argv[0];
	/* The strings are laid out back to back; the area runs to the end of the last one. */
	area_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]);
}

void title_set(const char *title)
{
	if (area) {
		size_t n = strlen(title);

		if (n >= area_len)
			n = area_len - 1;
		memset(area, 0, area_len);
		memcpy(area, title, n);
		/* A non-NUL last byte tells the kernel the title was rewritten, so
		 * /proc/<pid>/cmdline stops at the first NUL instead of showing padding. */
		area[area_len] = ' ';
	}
	prctl(PR_SET_NAME, title, 0, 0, 0);
}
