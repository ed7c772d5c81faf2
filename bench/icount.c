/* icount: count the user-space instructions executed by a whole process tree.
 *
 * usage: icount [-v] COMMAND [ARG]...
 *
 * Hardware counters are not available on these machines and valgrind stops
 * counting at execve, so this single-steps every thread of the tree with ptrace
 * (PTRACE_O_TRACEFORK/VFORK/CLONE/EXEC follow it across fork and exec) and
 * counts the steps. Slow (a few microseconds per instruction) but exact:
 * repeated runs agree to a few dozen instructions (address-space layout and the
 * environment make the rest).
 *
 * A "step" is one instruction, except that each iteration of a REP string
 * instruction traps separately (Intel SDM vol. 3, 17.3.1.4), so memset/memcpy
 * implemented with `rep movs/stos` count per iteration. Every tool is counted
 * the same way, so the comparison stays fair.
 *
 * Counting starts at the first instruction of COMMAND's image (the SIGTRAP
 * that PTRACE_TRACEME raises after execve), so icount's own fork/exec is not
 * included. Prints the total on stdout; with -v, also a line per (process,
 * image) on stderr: pid, steps, executable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TRAP_BRKPT
#define TRAP_BRKPT 1
#endif
#ifndef TRAP_TRACE
#define TRAP_TRACE 2
#endif

struct task {
	pid_t pid;
	int seen;           /* first stop (the SIGSTOP of a new task) consumed */
	uint64_t steps;     /* steps in the current image */
	char exe[256];      /* current image */
};

static struct task *tasks;
static size_t ntasks, cap;
static int verbose;

static struct task *find(pid_t pid, int create)
{
	for (size_t i = 0; i < ntasks; i++)
		if (tasks[i].pid == pid)
			return &tasks[i];
	if (!create)
		return NULL;
	if (ntasks == cap) {
		cap = cap ? cap * 2 : 64;
		tasks = realloc(tasks, cap * sizeof *tasks);
		if (!tasks) {
			perror("icount: realloc");
			exit(125);
		}
	}
	struct task *t = &tasks[ntasks++];
	memset(t, 0, sizeof *t);
	t->pid = pid;
	return t;
}

static void read_exe(struct task *t)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/exe", t->pid);
	ssize_t n = readlink(path, t->exe, sizeof t->exe - 1);
	if (n < 0)
		n = 0;
	t->exe[n] = 0;
}

static uint64_t total;

static void flush(struct task *t)
{
	if (verbose && t->steps)
		fprintf(stderr, "icount: pid %d %llu %s\n", t->pid,
			(unsigned long long)t->steps, t->exe[0] ? t->exe : "?");
	total += t->steps;
	t->steps = 0;
}

static void forget(pid_t pid)
{
	struct task *t = find(pid, 0);
	if (!t)
		return;
	flush(t);
	*t = tasks[--ntasks];
}

int main(int argc, char **argv)
{
	int a = 1;
	if (a < argc && strcmp(argv[a], "-v") == 0) {
		verbose = 1;
		a++;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: icount [-v] COMMAND [ARG]...\n");
		return 125;
	}
	pid_t root = fork();
	if (root < 0) {
		perror("icount: fork");
		return 125;
	}
	if (root == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) {
			perror("icount: PTRACE_TRACEME");
			_exit(125);
		}
		execvp(argv[a], argv + a);
		perror("icount: exec");
		_exit(127);
	}

	int status;
	/* The child stops with SIGTRAP right after its execve. */
	if (waitpid(root, &status, 0) < 0 || !WIFSTOPPED(status)) {
		fprintf(stderr, "icount: %s did not start\n", argv[a]);
		return 125;
	}
	long opts = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
		    PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SETOPTIONS, root, 0, opts) < 0) {
		perror("icount: PTRACE_SETOPTIONS");
		return 125;
	}
	struct task *t = find(root, 1);
	t->seen = 1;
	read_exe(t);
	ptrace(PTRACE_SINGLESTEP, root, 0, 0);

	int root_status = 0;
	for (;;) {
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break;
			perror("icount: waitpid");
			return 125;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (pid == root)
				root_status = status;
			forget(pid);
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		t = find(pid, 1);
		int sig = WSTOPSIG(status);
		int event = (unsigned)status >> 16;
		int inject = 0;
		if (event) {
			/* fork/vfork/clone: the new task is found on its own first stop.
			 * exec: attribute what follows to the new image. */
			if (event == PTRACE_EVENT_EXEC) {
				flush(t);
				read_exe(t);
			}
		} else if (!t->seen) {
			/* A new task's first stop is the SIGSTOP of auto-attach. */
			t->seen = 1;
			read_exe(t);
			if (sig != SIGSTOP)
				inject = sig;
		} else if (sig == SIGTRAP) {
			siginfo_t si;
			/* The debug exception gives TRAP_TRACE; the step over a
			 * `syscall` instruction is reported by the kernel's
			 * syscall-exit path as TRAP_BRKPT. A SIGTRAP from kill()
			 * or int3 has another code and is delivered. */
			if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 &&
			    (si.si_code == TRAP_TRACE || si.si_code == TRAP_BRKPT))
				t->steps++;
			else
				inject = sig;
		} else {
			inject = sig; /* a real signal: deliver it */
		}
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)(long)inject) < 0 &&
		    errno != ESRCH)
			perror("icount: PTRACE_SINGLESTEP");
	}
	for (size_t i = 0; i < ntasks; i++)
		flush(&tasks[i]);
	printf("%llu\n", (unsigned long long)total);
	if (WIFEXITED(root_status) && WEXITSTATUS(root_status) != 0)
		fprintf(stderr, "icount: %s exited %d\n", argv[a], WEXITSTATUS(root_status));
	if (WIFSIGNALED(root_status))
		fprintf(stderr, "icount: %s killed by signal %d\n", argv[a], WTERMSIG(root_status));
	return 0;
}
