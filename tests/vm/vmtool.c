/* vmtool: the VM tier's helper inside the guest (tests/vm.rs builds it with
 * `gcc -static` and packs it into the initramfs). Two jobs:
 *
 *   vmtool init [--drop-bound CAPS] [--before ARGV] [--relay SIGS] PROG [ARG]...
 *       Run as the kernel's first process (rdinit=/vmtool): print the rlimits
 *       the kernel gave init, mount /proc and /dev, drop CAPS (comma-separated
 *       names or numbers) from the bounding set, then execv PROG in this same
 *       process, so PROG (lockdrop) is PID 1 and its capabilities are
 *       recomputed from the shrunken bounding set. Options end at PROG (the
 *       kernel never passes "--" to init).
 *       --before runs ARGV (comma-separated) as a child first and waits for
 *       it (lockdrop --check under the same conditions).
 *       --relay starts the "second process" of the signal scenario before the
 *       exec: PROG's stdout becomes a pipe to it; it copies every line to the
 *       console and, on "ready", sends the first of SIGS to PID 1, then each
 *       next one once the previous came back as "sig N"; "all:N" sends N to
 *       every process but PID 1 and itself.
 *
 *   vmtool zombies
 *       Count zombie processes in /proc until none is left (10 s deadline):
 *       prints "zombies=N".
 *
 * Console writes end with tcdrain(): when PID 1 exits the kernel panics at
 * once, and output still in the tty's transmit buffer would be lost.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *CAPS[] = {
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
    "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
    "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
    "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
    "sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
    "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
    "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
};

static void say(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
    tcdrain(fd); /* fails harmlessly (ENOTTY) when fd is not a tty */
}

static void die(const char *what) {
    char buf[256];
    snprintf(buf, sizeof buf, "vmtool: %s: %s\n", what, strerror(errno));
    say(2, buf);
    exit(99);
}

static int cap_number(const char *name) {
    if (isdigit((unsigned char)name[0])) return atoi(name);
    if (strncasecmp(name, "cap_", 4) == 0) name += 4;
    for (size_t i = 0; i < sizeof CAPS / sizeof CAPS[0]; i++)
        if (strcasecmp(name, CAPS[i]) == 0) return (int)i;
    return -1;
}

static int split(char *list, char **out, int max) {
    int n = 0;
    for (char *t = strtok(list, ","); t && n < max; t = strtok(NULL, ",")) out[n++] = t;
    return n;
}

/* The second process of the signal scenario; never returns. SIGS entries
 * are "N" (kill(1, N), then wait for the probe's "sig N") or "all:N"
 * (kill(-1, N): every process but PID 1 and the relay, i.e. the probe). */
static void relay(int rfd, char **sigs, int nsigs) {
    FILE *in = fdopen(rfd, "r");
    char line[512], note[64];
    int next = 0, waiting = -1;
    if (!in) die("fdopen");
    while (fgets(line, sizeof line, in)) {
        say(1, line);
        line[strcspn(line, "\n")] = 0;
        int got = -1;
        int go = (strcmp(line, "ready") == 0 && next == 0) ||
                 (sscanf(line, "sig %d", &got) == 1 && got == waiting);
        while (go && next < nsigs) {
            int all = strncmp(sigs[next], "all:", 4) == 0;
            int sig = atoi(sigs[next] + (all ? 4 : 0));
            snprintf(note, sizeof note, "vmtool: relay sends %d to %s\n", sig, all ? "all" : "pid 1");
            say(1, note);
            if (kill(all ? -1 : 1, sig) != 0) die("kill");
            next++;
            waiting = all ? -1 : sig;
            go = all; /* nothing comes back from kill(-1): go on */
        }
    }
    _exit(0);
}

/* Runs ARGV (comma-separated) as a child and waits: the --check of a
 * scenario, under the same capabilities as the lockdrop that follows. */
static void run_before(char *list) {
    char *args[64];
    int n = split(list, args, 63), status = 0;
    char note[128];
    args[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        execv(args[0], args);
        die("execv before");
    }
    if (waitpid(pid, &status, 0) < 0) die("waitpid");
    snprintf(note, sizeof note, "vmtool: before exited %d\n",
             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    say(2, note);
}

static int cmd_init(int argc, char **argv) {
    char *drop = NULL, *relay_sigs = NULL, *before = NULL;
    int i = 2;
    for (; i < argc; i++) {
        if (argv[i][0] != '-') break; /* PROG: the kernel cannot pass "--" to init */
        if (strcmp(argv[i], "--drop-bound") == 0 && i + 1 < argc) drop = argv[++i];
        else if (strcmp(argv[i], "--relay") == 0 && i + 1 < argc) relay_sigs = argv[++i];
        else if (strcmp(argv[i], "--before") == 0 && i + 1 < argc) before = argv[++i];
        else { fprintf(stderr, "vmtool: unknown init option %s\n", argv[i]); return 98; }
    }
    if (i >= argc) { say(2, "vmtool: init needs PROG\n"); return 98; }

    /* The limits the kernel gave init, for the tests to compare against. */
    static const struct { const char *name; int res; } LIMITS[] = {
        {"memlock", RLIMIT_MEMLOCK}, {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},
    };
    for (size_t k = 0; k < sizeof LIMITS / sizeof LIMITS[0]; k++) {
        struct rlimit rl;
        char line[128], s[32], h[32];
        getrlimit(LIMITS[k].res, &rl);
        if (rl.rlim_cur == RLIM_INFINITY) strcpy(s, "unlimited");
        else snprintf(s, sizeof s, "%llu", (unsigned long long)rl.rlim_cur);
        if (rl.rlim_max == RLIM_INFINITY) strcpy(h, "unlimited");
        else snprintf(h, sizeof h, "%llu", (unsigned long long)rl.rlim_max);
        snprintf(line, sizeof line, "vmtool: boot rlimit.%s=%s:%s\n", LIMITS[k].name, s, h);
        say(2, line);
    }

    mkdir("/proc", 0555);
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) die("mount /proc");
    mkdir("/dev", 0755);
    if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL) != 0) die("mount /dev");

    if (drop) {
        char *names[64];
        int n = split(drop, names, 64);
        for (int k = 0; k < n; k++) {
            int cap = cap_number(names[k]);
            if (cap < 0) { fprintf(stderr, "vmtool: unknown capability %s\n", names[k]); return 98; }
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) die("PR_CAPBSET_DROP");
        }
    }

    if (before) run_before(before);

    if (relay_sigs) {
        char *sigs[64];
        int n = split(relay_sigs, sigs, 64), p[2];
        if (pipe(p) != 0) die("pipe");
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            close(p[1]);
            relay(p[0], sigs, n);
        }
        close(p[0]);
        if (dup2(p[1], 1) < 0) die("dup2");
        close(p[1]);
    }

    char note[512];
    snprintf(note, sizeof note, "vmtool: pid %d execs %s\n", (int)getpid(), argv[i]);
    say(2, note);
    execv(argv[i], argv + i);
    die("execv");
    return 99;
}

static int count_zombies(void) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d) die("opendir /proc");
    while ((e = readdir(d))) {
        char path[300], buf[512];
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t r = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (r <= 0) continue;
        buf[r] = 0;
        char *rp = strrchr(buf, ')'); /* comm may contain spaces */
        if (rp && rp[1] == ' ' && rp[2] == 'Z') n++;
    }
    closedir(d);
    return n;
}

/* Polls for the condition "no zombie left", bounded by a deadline: the reaper
 * (PID 1) works asynchronously and offers nothing to wait on. */
static int cmd_zombies(void) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int n, first = -1, scans = 0;
    for (;;) {
        n = count_zombies();
        scans++;
        if (first < 0) first = n;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (n == 0 || t.tv_sec - t0.tv_sec >= 10) break;
        sched_yield();
    }
    printf("zombies=%d first_scan=%d scans=%d\n", n, first, scans);
    fflush(stdout);
    tcdrain(1);
    return n == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "init") == 0) return cmd_init(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "zombies") == 0) return cmd_zombies();
    say(2, "usage: vmtool init [--drop-bound CAPS] [--before ARGV] [--relay SIGS] PROG [ARG]... | vmtool zombies\n");
    return 98;
}
