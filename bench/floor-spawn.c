/* floor-spawn: the least a supervising entrypoint can do: start its argument
 * with vfork+exec (what posix_spawn does), wait for it, exit with its status.
 * Built static like floor.c; the reference for supervise mode, which cannot
 * avoid creating a process. */
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 125;
	pid_t pid = vfork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return 125;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
