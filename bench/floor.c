/* floor: the least an entrypoint can do, exec its argument. Built static
 * (musl-gcc when present) so its start-up cost is the physical floor that
 * lockdrop's is compared with. */
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 125;
	execv(argv[1], argv + 1);
	return 127;
}
