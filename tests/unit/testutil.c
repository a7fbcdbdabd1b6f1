/*
 * testutil.c - guard pages and string helpers for the unit tests.
 *
 * Layer: tests.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testutil.h"

struct guard_map {
	void *base;
	size_t size;
};

static struct guard_map maps[1024];
static size_t nmaps;

struct corsd_str
guard_copy(const char *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + page - 1) / page;
	size_t size;
	char *base, *dst;
	struct corsd_str s;

	if (data_pages == 0)
		data_pages = 1;
	size = (data_pages + 1) * page;
	base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		abort();
	if (mprotect(base + data_pages * page, page, PROT_NONE) != 0)
		abort();
	if (nmaps == sizeof(maps) / sizeof(maps[0]))
		guard_release_all();
	maps[nmaps].base = base;
	maps[nmaps].size = size;
	nmaps++;
	dst = base + data_pages * page - len;
	if (len)
		memcpy(dst, p, len);
	s.p = dst;
	s.len = len;
	return s;
}

struct corsd_str
guard_str(const char *s)
{
	return guard_copy(s, strlen(s));
}

void
guard_release_all(void)
{
	for (size_t i = 0; i < nmaps; i++)
		munmap(maps[i].base, maps[i].size);
	nmaps = 0;
}

struct corsd_str
S(const char *s) {
	struct corsd_str r = {s, s ? strlen(s) : 0};

	return r;
}
