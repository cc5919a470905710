// bench-time: runs one command and reports, as one JSON line on stderr, its wall time from
// spawn to exit and the CPU time and peak resident memory of it and the children it waited
// for (wait4's rusage). The harness runs it inside the container, so that the time measured
// is the tool's own and not that of entering the container's namespaces.
//
//   bench-time OUTFILE CMD [ARG...]     the command's stdout goes to OUTFILE (checked by the harness)
//
// Built by scripts/bench: cc -O2 -o bench-time bench-time.c
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double ms(struct timeval tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench-time OUTFILE CMD [ARG...]\n");
        return 2;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct timespec start, end;
    pid_t pid;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc = posix_spawnp(&pid, argv[2], &actions, NULL, argv + 2, environ);
    if (rc != 0) {
        fprintf(stderr, "bench-time: cannot run %s: error %d\n", argv[2], rc);
        return 127;
    }
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("bench-time: wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double wall = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6;
    int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // start_mono_ms: CLOCK_MONOTONIC at spawn (not namespaced), for observers that timestamp
    // what the command caused (the conversion's watcher on the bus).
    fprintf(stderr, "{\"wall_ms\": %.3f, \"user_ms\": %.3f, \"sys_ms\": %.3f, \"maxrss_kb\": %ld, \"exit\": %d, "
            "\"start_mono_ms\": %.3f}\n",
            wall, ms(usage.ru_utime), ms(usage.ru_stime), usage.ru_maxrss, exit_code,
            start.tv_sec * 1e3 + start.tv_nsec / 1e6);
    return exit_code;
}
