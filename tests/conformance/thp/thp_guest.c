/*
 * thp_guest [--fork] [--nohuge] SPEC: a process whose memory is backed by transparent huge pages,
 * for the THP experiments (run.ts). Like a QEMU guest, it maps a 2 MiB-aligned private anonymous
 * region, madvises it MADV_HUGEPAGE and MADV_MERGEABLE, then touches it (each 2 MiB range is
 * faulted in as one huge page, zero-filled) and writes the contents SPEC asks for. It says
 * "ready ADDR BYTES CHILD" on stdout (CHILD is 0 without --fork) and waits until stdin closes,
 * then checks that its memory still holds what it wrote (exit 0) or not (exit 3).
 *
 * SPEC is a comma-separated list of runs KIND COUNT, one 4 KiB page per count, in address order,
 * padded with zero pages to a multiple of 512 pages (2 MiB) unless --nohuge:
 *   z   a zero-filled page (never written: the huge page fault zeroed it)
 *   u   a unique page (random bytes that differ between pages and processes)
 *   a-t a page of content class a..t (the same bytes in every page of that class, in every process)
 * e.g. "a2,u10,z500": two identical pages, ten unique ones and 500 zero ones, in one huge page.
 *
 * --fork: after writing, fork; parent and child then hold the same huge pages, PMD-mapped in
 * both. --nohuge: MADV_NOHUGEPAGE instead (the 4 KiB baseline). The process dies with its parent
 * (PR_SET_PDEATHSIG). Errors: "error ..." on stdout, exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define HUGE (2UL << 20)
#define MAX_PAGES (512UL * 1024)

static int fail(const char *what) {
	printf("error %s: %s\n", what, strerror(errno));
	fflush(stdout);
	return 1;
}

/* One byte per page: 'z', 'u' or a class letter. */
static char kinds[MAX_PAGES];

static long parse_spec(const char *spec, int pad) {
	long n = 0;
	for (const char *p = spec; *p;) {
		char kind = *p++;
		if (!(kind == 'z' || kind == 'u' || (kind >= 'a' && kind <= 't')))
			return -1;
		char *end;
		long count = strtol(p, &end, 10);
		if (end == p || count <= 0 || n + count > (long)MAX_PAGES)
			return -1;
		memset(kinds + n, kind, (size_t)count);
		n += count;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	long padded = pad ? (n + 511) / 512 * 512 : n;
	memset(kinds + n, 'z', (size_t)(padded - n));
	return padded;
}

/* Fills a page: a class's bytes depend only on the class; a unique page's on its seed. */
static void fill(uint64_t *page, uint64_t seed) {
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = 0; i < PAGE / 8; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		page[i] = x;
	}
}

static uint64_t seed_of(long i, char kind, uint64_t salt) {
	return kind == 'u' ? salt + (uint64_t)i : (uint64_t)(kind - 'a' + 1);
}

static int check(const char *mem, long pages, uint64_t salt) {
	static uint64_t want[PAGE / 8];
	for (long i = 0; i < pages; i++) {
		if (kinds[i] == 'z')
			memset(want, 0, PAGE);
		else
			fill(want, seed_of(i, kinds[i], salt));
		if (memcmp(want, mem + i * PAGE, PAGE))
			return 3;
	}
	return 0;
}

int main(int argc, char **argv) {
	pid_t parent = getppid();
	int do_fork = 0, nohuge = 0;
	const char *spec = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--fork")) do_fork = 1;
		else if (!strcmp(argv[i], "--nohuge")) nohuge = 1;
		else spec = argv[i];
	}
	long pages = spec ? parse_spec(spec, !nohuge) : -1;
	if (pages <= 0) {
		fprintf(stderr, "usage: thp_guest [--fork] [--nohuge] SPEC (runs like a2,u10,z500)\n");
		return 2;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		return fail("prctl(PR_SET_PDEATHSIG)");
	size_t size = (size_t)pages * PAGE;
	char *raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return fail("mmap");
	char *mem = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	/* Trim the slack so the region is one VMA of its own. */
	if (mem > raw) munmap(raw, (size_t)(mem - raw));
	if (mem + size < raw + size + HUGE) munmap(mem + size, (size_t)(raw + size + HUGE - (mem + size)));
	if (madvise(mem, size, nohuge ? MADV_NOHUGEPAGE : MADV_HUGEPAGE))
		return fail("madvise(MADV_HUGEPAGE)");
	if (madvise(mem, size, MADV_MERGEABLE))
		return fail("madvise(MADV_MERGEABLE)");
	uint64_t salt = (uint64_t)getpid() << 32;
	for (long i = 0; i < pages; i += 512)
		mem[i * PAGE] = 0; /* the fault that allocates the huge page */
	for (long i = 0; i < pages; i++) {
		if (kinds[i] == 'z') {
			if (nohuge) mem[i * PAGE] = 0; /* present, written, zero */
			continue;
		}
		fill((uint64_t *)(mem + i * PAGE), seed_of(i, kinds[i], salt));
	}
	pid_t child = 0;
	if (do_fork) {
		fflush(stdout);
		child = fork();
		if (child < 0)
			return fail("fork");
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			char c;
			while (read(0, &c, 1) > 0) {}
			return check(mem, pages, salt);
		}
	}
	printf("ready %lx %zu %d\n", (unsigned long)(uintptr_t)mem, size, (int)child);
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0) {}
	int code = check(mem, pages, salt);
	if (child > 0) {
		int status = 0;
		waitpid(child, &status, 0);
		if (!code && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) code = 3;
	}
	return code;
}
