/* getppid(2) in a loop: the reference for nestbench's exit.syscall (scripts/bench-reference).
 * syscall(SYS_getppid) as the agent issues it, so no libc cache can answer. Half a
 * budget of warm-up, then SAMPLES samples of SECONDS each, reading the clock once per
 * 10000 calls; prints one line per sample: ns per call.
 * Build: gcc -O2 -static (static glibc, like the agent). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3 || atoi(argv[1]) < 1 || atof(argv[2]) <= 0) {
        fprintf(stderr, "usage: %s SAMPLES SECONDS\n", argv[0]);
        return 2;
    }
    int samples = atoi(argv[1]);
    double budget = atof(argv[2]);
    for (int s = -1; s < samples; s++) { /* s = -1: warm-up */
        double dur = s < 0 ? budget / 2 : budget, t0 = now(), t;
        long calls = 0;
        do {
            for (int i = 0; i < 10000; i++)
                syscall(SYS_getppid);
            calls += 10000;
        } while ((t = now() - t0) < dur);
        if (s >= 0)
            printf("%.3f\n", t * 1e9 / calls);
    }
    return 0;
}
