/*
 * ksm_script_guest SOCKET PAGES: one guest of the live replay harness (tests/conformance/replay.ts).
 * It maps PAGES private anonymous pages (transparent huge pages off, nothing touched yet), connects
 * to the harness's AF_UNIX stream socket, says "hello PID ADDR", and then serves commands, one
 * text line each (a write's page bytes follow its line), one reply line each:
 *
 *   W P            + 4096 bytes: memcpy them to page P           -> "ok"
 *   B P OFF VAL    one byte                                      -> "ok"
 *   M ADV P N      madvise(ADV) of pages P..P+N-1                -> "ok" or "err ERRNO"
 *   U P N          munmap of those pages                         -> "ok" or "err ERRNO"
 *   H P            FNV-1a 64 of page P                           -> "ok HEX"
 *   F              fork; the child connects anew ("hello ...")   -> "ok CHILDPID"
 *   X              _exit(0)                                      (no reply)
 *
 * SIGCHLD is ignored, so forked guests are reaped by the kernel. A first-level guest dies with the
 * harness (PR_SET_PDEATHSIG); every guest exits when its socket closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif
#define PAGE 4096

static const char *sock_path;
static int sock = -1;
static char *mem;
static size_t pages;

static int connect_harness(void) {
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strncpy(addr.sun_path, sock_path, sizeof addr.sun_path - 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr))
		return -1;
	return fd;
}

static int send_all(const char *buf, size_t len) {
	while (len) {
		ssize_t n = write(sock, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int reply(const char *fmt, ...) {
	char line[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	return send_all(line, (size_t)n);
}

/* Buffered reads from the socket. */
static char in[2 * PAGE];
static size_t in_len;

static int fill(void) {
	ssize_t n;
	do n = read(sock, in + in_len, sizeof in - in_len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	in_len += (size_t)n;
	return 0;
}

static int read_line(char *out, size_t cap) {
	for (;;) {
		char *nl = memchr(in, '\n', in_len);
		if (nl) {
			size_t len = (size_t)(nl - in);
			if (len >= cap)
				return -1;
			memcpy(out, in, len);
			out[len] = 0;
			memmove(in, nl + 1, in_len - len - 1);
			in_len -= len + 1;
			return 0;
		}
		if (in_len == sizeof in || fill())
			return -1;
	}
}

static int read_bytes(char *out, size_t len) {
	while (in_len < len)
		if (fill())
			return -1;
	memcpy(out, in, len);
	memmove(in, in + len, in_len - len);
	in_len -= len;
	return 0;
}

static int hello(void) {
	return reply("hello %d %lx", (int)getpid(), (unsigned long)mem);
}



int main(int argc, char **argv) {
	pid_t parent = getppid();
	if (argc != 3) {
		fprintf(stderr, "usage: ksm_script_guest SOCKET PAGES\n");
		return 2;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		return 1;
	signal(SIGCHLD, SIG_IGN);
	sock_path = argv[1];
	pages = strtoul(argv[2], NULL, 10);
	mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || madvise(mem, pages * PAGE, MADV_NOHUGEPAGE))
		return 1;
	sock = connect_harness();
	if (sock < 0 || hello())
		return 1;
	static char page[PAGE];
	char line[128];
	while (read_line(line, sizeof line) == 0) {
		unsigned long p = 0, a = 0, b = 0;
		int ok;
		switch (line[0]) {
		case 'W':
			if (sscanf(line + 1, "%lu", &p) != 1 || p >= pages || read_bytes(page, PAGE))
				return 1;
			memcpy(mem + p * PAGE, page, PAGE);
			ok = reply("ok");
			break;
		case 'B':
			if (sscanf(line + 1, "%lu %lu %lu", &p, &a, &b) != 3 || p >= pages || a >= PAGE)
				return 1;
			((volatile char *)mem)[p * PAGE + a] = (char)b;
			ok = reply("ok");
			break;
		case 'M': {
			unsigned long adv;
			if (sscanf(line + 1, "%lu %lu %lu", &adv, &p, &a) != 3)
				return 1;
			ok = madvise(mem + p * PAGE, a * PAGE, (int)adv) ? reply("err %d", errno) : reply("ok");
			break;
		}
		case 'U':
			if (sscanf(line + 1, "%lu %lu", &p, &a) != 2)
				return 1;
			ok = munmap(mem + p * PAGE, a * PAGE) ? reply("err %d", errno) : reply("ok");
			break;
		case 'H': {
			if (sscanf(line + 1, "%lu", &p) != 1 || p >= pages)
				return 1;
			uint64_t h = 0xcbf29ce484222325ULL;
			const volatile unsigned char *q = (const unsigned char *)mem + p * PAGE;
			for (size_t i = 0; i < PAGE; i++)
				h = (h ^ q[i]) * 0x100000001b3ULL;
			ok = reply("ok %016llx", (unsigned long long)h);
			break;
		}
		case 'F': {
			pid_t child = fork();
			if (child < 0) {
				ok = reply("err %d", errno);
			} else if (child == 0) {
				close(sock);
				in_len = 0;
				sock = connect_harness();
				if (sock < 0 || hello())
					_exit(1);
				continue;
			} else {
				ok = reply("ok %d", (int)child);
			}
			break;
		}
		case 'X':
			_exit(0);
		default:
			return 1;
		}
		if (ok)
			return 1;
	}
	return 0;
}
