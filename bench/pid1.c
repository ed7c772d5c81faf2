/* pid1: drive an init (or any wrapper) as PID 1 of a fresh PID namespace and
 * measure it from outside. One binary plays both sides: the driver, and the
 * child the tool supervises.
 *
 *   pid1 rss  -- TOOL [ARG]... SELF idle        VmRSS (KiB) of TOOL while its
 *                                               child idles
 *   pid1 fwd  [-n N] -- TOOL [ARG]... SELF sig  SIGTERM to TOOL -> child's
 *                                               handler, median/p10/p90 (us)
 *   pid1 fwd  [-n N] -d -- SELF sig             the same sent straight to the
 *                                               child: the floor
 *   pid1 reap [-n N] -- TOOL [ARG]... SELF storm N [own]
 *                                               TOOL's CPU (us, schedstat) per
 *                                               double-forked orphan reaped,
 *                                               the storm's wall time (s) and
 *                                               TOOL's wake-ups per orphan
 *
 * TOOL runs as PID 1 of a new PID namespace with its own /proc (what
 * `unshare --pid --fork --mount-proc` does). Its stdin and stdout are pipes to
 * the driver; the child talks over them (tools pass stdio through): it writes
 * 'R' once ready, and exits when its stdin reaches EOF, so the tool exits
 * normally without being signalled. Synchronisation is through these pipes,
 * never sleeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(125);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("pid1: write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Returns 0 on EOF before n bytes. */
static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("pid1: read");
		}
		if (r == 0)
			return 0;
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

/* ---- the child side ---------------------------------------------------- */

static void wait_eof(void)
{
	char c;
	while (read(0, &c, 1) > 0 || errno == EINTR)
		;
}

static int child_idle(void)
{
	write_all(1, "R", 1);
	wait_eof();
	return 0;
}

/* Timestamps each SIGTERM on receipt: signalfd wakes the same way a handler
 * would, and lets stdin's EOF end the loop. */
static int child_sig(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("pid1 sig: sigprocmask");
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		die("pid1 sig: signalfd");
	write_all(1, "R", 1);
	struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("pid1 sig: poll");
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si) {
				uint64_t t = now_ns();
				write_all(1, &t, sizeof t);
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			char c;
			if (read(0, &c, 1) <= 0)
				return 0;
		}
	}
}

/* N double forks: each intermediate child forks a grandchild and exits at
 * once, so the grandchild is re-parented to PID 1, which must reap it.
 *
 * A worker process makes the orphans, in a new session when `own` is set.
 * Why it matters: with sched_autogroup_enabled (the kernel default), each
 * session is its own scheduling group, and when the orphan-maker is in a
 * group other than the init's, the init can be woken once per 3-5 orphans
 * instead of once per orphan, at about a third of the CPU per orphan (seen
 * on a quiet machine; with the other core busy it is near once per orphan
 * again).
 * dumb-init runs its child in a new session, tini and catatonit make it a
 * group leader (so it could not setsid itself): measuring "as the tool
 * arranges it" mixes that scheduling effect into the figure, measuring with
 * `own` gives every tool the same arrangement. */
static int child_storm(long n, int own)
{
	write_all(1, "R", 1);
	char go;
	if (!read_all(0, &go, 1))
		return 1;
	pid_t w = fork();
	if (w < 0)
		die("pid1 storm: fork");
	if (w == 0) {
		if (own && setsid() < 0)
			die("pid1 storm: setsid");
		for (long i = 0; i < n; i++) {
			pid_t p = fork();
			if (p < 0) {
				if (errno == EAGAIN) { /* pid pressure: let the reaper catch up */
					i--;
					sched_yield();
					continue;
				}
				die("pid1 storm: fork");
			}
			if (p == 0) {
				if (fork() < 0)
					_exit(1);
				_exit(0);
			}
			while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
				;
		}
		_exit(0);
	}
	int st;
	while (waitpid(w, &st, 0) < 0)
		if (errno != EINTR)
			die("pid1 storm: waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 1;
	write_all(1, "D", 1);
	wait_eof();
	return 0;
}

/* ---- the driver side --------------------------------------------------- */

static int nchildren(pid_t pid);

struct tool {
	pid_t pid;   /* host pid of the tool, PID 1 inside */
	int to;      /* its stdin */
	int from;    /* its stdout */
};

static struct tool spawn_pid1(char **argv, int direct)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die("pid1: pipe");
	/* Only children created after this are in the new namespace. */
	if (unshare(CLONE_NEWPID) < 0)
		die("pid1: unshare(CLONE_NEWPID)");
	pid_t pid = fork();
	if (pid < 0)
		die("pid1: fork");
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0)
			die("pid1: unshare(CLONE_NEWNS)");
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			die("pid1: make / private");
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			die("pid1: mount /proc");
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			die("pid1: dup2");
		execvp(argv[0], argv);
		perror("pid1: exec");
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	struct tool t = {.pid = pid, .to = in[1], .from = out[0]};
	char r;
	if (!read_all(t.from, &r, 1) || r != 'R') {
		fprintf(stderr, "pid1: %s: child never became ready\n", argv[0]);
		exit(125);
	}
	/* A tool that exec'd the command instead of supervising it measures
	 * nothing here. */
	if (!direct && nchildren(t.pid) < 1) {
		fprintf(stderr, "pid1: %s has no child: it did not stay as a supervisor\n",
			argv[0]);
		kill(t.pid, SIGKILL);
		exit(125);
	}
	return t;
}

static int finish(struct tool *t)
{
	close(t->to);
	int st;
	while (waitpid(t->pid, &st, 0) < 0)
		if (errno != EINTR)
			die("pid1: waitpid");
	close(t->from);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pid1: tool ended with status 0x%x\n", st);
		return 1;
	}
	return 0;
}

static long status_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		die("pid1: open status");
	long v = -1;
	size_t len = strlen(field);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/* On-CPU time of the thread-group leader in ns (first field of schedstat). */
static uint64_t cpu_ns(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/schedstat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		die("pid1: open schedstat");
	unsigned long long v = 0;
	if (fscanf(f, "%llu", &v) != 1)
		die("pid1: read schedstat");
	fclose(f);
	return v;
}

/* Number of children of pid, zombies included (they stay on the parent's
 * list until reaped). */
static int nchildren(pid_t pid)
{
	char path[64], buf[1 << 16];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("pid1: open children");
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		die("pid1: read children");
	int count = 0;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == ' ')
			count++;
	return count;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	/* `su -s SELF nobody SELF idle` hands the shell its arguments after the
	 * user: skip a leading path so the child modes read the same. */
	if (argc >= 3 && strchr(argv[1], '/') && strchr(argv[1], '/') == argv[1]) {
		argv++;
		argc--;
	}
	if (argc >= 2 && strcmp(argv[1], "idle") == 0)
		return child_idle();
	if (argc >= 2 && strcmp(argv[1], "sig") == 0)
		return child_sig();
	if (argc >= 3 && strcmp(argv[1], "storm") == 0)
		return child_storm(strtol(argv[2], NULL, 10), argc >= 4 && strcmp(argv[3], "own") == 0);

	if (argc < 4)
		goto usage;
	const char *mode = argv[1];
	long n = 0;
	int a = 2, direct = 0;
	for (;;) {
		if (a + 1 < argc && strcmp(argv[a], "-n") == 0) {
			n = strtol(argv[a + 1], NULL, 10);
			a += 2;
		} else if (a < argc && strcmp(argv[a], "-d") == 0) {
			direct = 1; /* no tool: the command is the child itself */
			a++;
		} else {
			break;
		}
	}
	if (a >= argc || strcmp(argv[a], "--") != 0 || a + 1 >= argc)
		goto usage;
	char **tool_argv = argv + a + 1;
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(mode, "rss") == 0) {
		struct tool t = spawn_pid1(tool_argv, direct);
		long rss = status_kib(t.pid, "VmRSS");
		int bad = finish(&t);
		printf("%ld\n", rss);
		return bad;
	}
	if (strcmp(mode, "fwd") == 0) {
		if (n <= 0)
			n = 300;
		uint64_t *lat = calloc((size_t)n, sizeof *lat);
		struct tool t = spawn_pid1(tool_argv, direct);
		for (long i = 0; i < n; i++) {
			uint64_t t0 = now_ns(), t1;
			if (kill(t.pid, SIGTERM) < 0)
				die("pid1 fwd: kill");
			if (!read_all(t.from, &t1, sizeof t1)) {
				fprintf(stderr, "pid1 fwd: child gone after %ld signals\n", i);
				return 1;
			}
			lat[i] = t1 - t0;
		}
		int bad = finish(&t);
		qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
		printf("%.1f %.1f %.1f\n", lat[n / 2] / 1e3, lat[n / 10] / 1e3,
		       lat[n * 9 / 10] / 1e3);
		return bad;
	}
	if (strcmp(mode, "reap") == 0) {
		struct tool t = spawn_pid1(tool_argv, direct);
		uint64_t c0 = cpu_ns(t.pid), w0 = now_ns();
		long v0 = status_kib(t.pid, "voluntary_ctxt_switches");
		write_all(t.to, "G", 1);
		char d;
		if (!read_all(t.from, &d, 1) || d != 'D') {
			fprintf(stderr, "pid1 reap: storm did not finish\n");
			return 1;
		}
		/* Wait until only the storm child is left: every orphan reaped. */
		uint64_t deadline = now_ns() + 60ull * 1000000000u;
		while (nchildren(t.pid) > 1) {
			if (now_ns() > deadline) {
				fprintf(stderr, "pid1 reap: %d children still unreaped after 60 s\n",
					nchildren(t.pid) - 1);
				return 1;
			}
			usleep(1000);
		}
		uint64_t c1 = cpu_ns(t.pid), w1 = now_ns();
		long v1 = status_kib(t.pid, "voluntary_ctxt_switches");
		int bad = finish(&t);
		long orphans = n > 0 ? n : 1;
		/* per-orphan CPU (us), wall of the storm (s), and wake-ups per
		 * orphan (how many SIGCHLDs were coalesced into one reaping pass) */
		printf("%.2f %.3f %.3f\n", (double)(c1 - c0) / orphans / 1e3, (w1 - w0) / 1e9,
		       (double)(v1 - v0) / orphans);
		return bad;
	}
usage:
	fprintf(stderr,
		"usage: pid1 rss|fwd|reap [-n N] [-d] -- TOOL [ARG]...\n"
		"       pid1 idle | sig | storm N [own]   (the child side)\n");
	return 125;
}
