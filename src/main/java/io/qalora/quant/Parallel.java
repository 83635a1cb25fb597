package io.qalora.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinTask;

/**
 * Splits a range of matrix rows into contiguous parts run at once: one on the calling thread, the
 * others in the common fork-join pool (a part the pool has not started yet is run by the caller
 * when it waits, so a busy pool delays nothing). Rows are independent in every caller, so the
 * split never changes a result.
 */
final class Parallel {

    @FunctionalInterface
    interface RowRange {
        void run(int from, int to);
    }

    private Parallel() {
    }

    /**
     * Runs {@code body} over rows {@code [from, to)} of width {@code cols}, in up to {@code threads}
     * parts; on the calling thread alone when the rows hold fewer than
     * {@link GroupQuantizer#PARALLEL_THRESHOLD} elements.
     */
    static void forRows(int from, int to, int cols, int threads, RowRange body) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, was " + threads);
        }
        int rows = to - from;
        int parts = (long) rows * cols < GroupQuantizer.PARALLEL_THRESHOLD ? 1 : Math.min(threads, rows);
        if (parts <= 1) {
            body.run(from, to);
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(parts);
        for (int p = 0; p < parts; p++) {
            int a = from + (int) ((long) rows * p / parts);
            int b = from + (int) ((long) rows * (p + 1) / parts);
            tasks.add(ForkJoinTask.adapt(() -> body.run(a, b)));
        }
        // Forks all but the first, runs the first here, then waits for the rest (rethrowing a failure).
        ForkJoinTask.invokeAll(tasks);
    }
}
