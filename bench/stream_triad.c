/* STREAM-style triad, a[i] = b[i] + q*c[i], on OpenMP threads: the reference that
 * scripts/bench-reference sets nestbench's mem.stream triad against.
 *
 * Same shape as the agent's kernel: three arrays of TOTAL_MIB/3 MiB of doubles each,
 * first-touched before timing, half a budget of untimed warm-up, then SAMPLES samples.
 * In a sample every thread repeats triad passes over its own static share until
 * SECONDS have elapsed, and the sample is all bytes over the span of the parallel
 * region: a rate over a time budget, as the agent measures. (STREAM's fork-join per
 * pass makes every thread wait at a barrier for the slowest, which on a shared
 * 2-vCPU host measures preemption as much as memory.)
 * Prints one line per sample: GB/s (10^9 B/s), counting 24 B per element as STREAM.
 * Build: gcc -O3 -march=native -fopenmp; threads from OMP_NUM_THREADS. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s TOTAL_MIB SAMPLES SECONDS\n", argv[0]);
        return 2;
    }
    size_t n = (size_t)atol(argv[1]) * 1048576 / 3 / 8, bytes = (n * 8 + 63) / 64 * 64;
    int samples = atoi(argv[2]);
    double budget = atof(argv[3]);
    double *a = aligned_alloc(64, bytes), *b = aligned_alloc(64, bytes),
           *c = aligned_alloc(64, bytes);
    if (n == 0 || samples < 1 || budget <= 0 || !a || !b || !c) {
        fprintf(stderr, "stream_triad: bad arguments or out of memory\n");
        return 1;
    }
    const double q = 0.5;
    for (int s = -1; s < samples; s++) { /* s = -1: warm-up (and first touch) */
        double dur = s < 0 ? budget / 2 : budget, elems = 0, t0 = now();
#pragma omp parallel reduction(+ : elems)
        {
            size_t per = (n + omp_get_num_threads() - 1) / omp_get_num_threads();
            size_t lo = per * omp_get_thread_num(), hi = lo + per < n ? lo + per : n;
            if (s < 0)
                for (size_t i = lo; i < hi; i++)
                    a[i] = 1.0, b[i] = 2.0, c[i] = 0.0;
            double start = now();
            do {
                for (size_t i = lo; i < hi; i++)
                    a[i] = b[i] + q * c[i];
                elems += hi > lo ? hi - lo : 0;
            } while (now() - start < dur);
        }
        double t = now() - t0;
        if (s >= 0)
            printf("%.4f\n", 24.0 * elems / t / 1e9);
    }
    fprintf(stderr, "stream_triad: check %g\n", a[n / 2]); /* keeps the stores live */
    return 0;
}
