/*
 * ksm_guest IMAGE: one guest of the kernel conformance harness (one process per image, as one
 * QEMU process per VM). It maps private anonymous memory of the image's size, turns transparent
 * huge pages off for it before the first touch, copies the image in (so every page is present,
 * anonymous and written, zero pages included), marks it MADV_MERGEABLE, says "ready ADDR BYTES" on
 * stdout, and waits until stdin closes. It then checks that its memory still holds the image
 * (exit 0) or not (exit 3). It dies with its parent (PR_SET_PDEATHSIG), so it never outlives the
 * harness. Errors: "error ..." on stdout, exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif

static int fail(const char *what) {
	printf("error %s: %s\n", what, strerror(errno));
	fflush(stdout);
	return 1;
}

/* Reads exactly len bytes at offset into buf; 0 on success. */
static int read_all(int fd, char *buf, size_t len, off_t offset) {
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, offset + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Compares memory with the file, a page at a time; 0 if equal. */
static int check_contents(int fd, const char *mem, size_t size) {
	static char page[4096];
	for (size_t at = 0; at < size; at += sizeof page) {
		if (read_all(fd, page, sizeof page, (off_t)at) || memcmp(page, mem + at, sizeof page))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv) {
	pid_t parent = getppid();
	if (argc != 2) {
		fprintf(stderr, "usage: ksm_guest IMAGE\n");
		return 2;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		return fail("prctl(PR_SET_PDEATHSIG)");
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		return fail(argv[1]);
	size_t size = (size_t)st.st_size;
	if (size == 0 || size % 4096)
		return errno = EINVAL, fail("image size");
	char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	if (madvise(mem, size, MADV_NOHUGEPAGE))
		return fail("madvise(MADV_NOHUGEPAGE)");
	if (read_all(fd, mem, size, 0))
		return fail("read image");
	if (madvise(mem, size, MADV_MERGEABLE))
		return fail("madvise(MADV_MERGEABLE)");
	printf("ready %lx %zu\n", (unsigned long)mem, size);
	fflush(stdout);
	for (;;) {
		char c;
		ssize_t n = read(0, &c, 1);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		break;
	}
	return check_contents(fd, mem, size) ? 3 : 0;
}
