package io.qalora.lora;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Helper threads for the parts of one native product. A parked thread took about 0.5 ms to wake on
 * the benchmark VM, as long as half of a 64-row product, so the fork-join pool ran such parts
 * one after the other. A helper here stays awake for {@link #SPIN_NANOS} after its last part,
 * yielding the core as OpenBLAS's own workers do, so the next step's product finds it awake. The
 * caller works too, and a helper that has not started by the time the parts run out is not waited for.
 */
final class KernelThreads {

    /** How long an idle helper waits awake for the next part: a few training steps. */
    static final long SPIN_NANOS = 20_000_000L;

    private static final Helper[] HELPERS = startHelpers(Math.max(1, Runtime.getRuntime().availableProcessors() - 1));

    private KernelThreads() {
    }

    /**
     * Runs {@code part.accept(p)} for every {@code p} in {@code [0, parts)} on the caller and up to
     * {@code threads - 1} idle helpers, each taking the next part until none is left: a participant
     * slowed by another process on its core takes fewer parts. Returns when all are done.
     */
    static void run(int threads, int parts, IntConsumer part) {
        AtomicInteger next = new AtomicInteger();
        Runnable share = () -> {
            for (int p = next.getAndIncrement(); p < parts; p = next.getAndIncrement()) {
                part.accept(p);
            }
        };
        int helpers = Math.min(threads - 1, parts - 1);
        Task[] offered = new Task[Math.max(0, helpers)];
        for (int i = 0, h = 0; i < offered.length && h < HELPERS.length; h++) {
            Task task = new Task(share);
            if (HELPERS[h].offer(task)) {
                offered[i++] = task;
            }
        }
        Throwable failure = null;
        try {
            share.run();
        } catch (Throwable e) {
            failure = e;
        }
        // Also after a failure here: a helper may still be writing into the caller's memory.
        for (Task task : offered) {
            if (task != null) {
                task.runIfUnclaimed();
                Throwable helperFailure = task.awaitDone();
                if (failure == null) {
                    failure = helperFailure;
                } else if (helperFailure != null) {
                    failure.addSuppressed(helperFailure);
                }
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException("a kernel part failed", failure);
        }
    }

    private static Helper[] startHelpers(int count) {
        Helper[] helpers = new Helper[count];
        for (int i = 0; i < count; i++) {
            helpers[i] = new Helper("qalora-kernel-" + (i + 1));
            helpers[i].start();
        }
        return helpers;
    }

    private static final class Task {
        private static final int OFFERED = 0;
        private static final int CLAIMED = 1;
        private static final int DONE = 2;

        private final Runnable body;
        private final AtomicInteger state = new AtomicInteger(OFFERED);
        private volatile Throwable failure;

        Task(Runnable body) {
            this.body = body;
        }

        /** Runs the body here unless another thread has claimed it. */
        void runIfUnclaimed() {
            if (state.compareAndSet(OFFERED, CLAIMED)) {
                try {
                    body.run();
                } catch (Throwable e) {
                    failure = e;
                }
                state.set(DONE);
            }
        }

        /** Waits until the body has run and returns what it threw, if anything. */
        Throwable awaitDone() {
            for (int spins = 0; state.get() != DONE; spins++) {
                // A part takes well under a millisecond. Waiting longer means the helper lost its core
                // (several callers on 2 cores): then let it have ours. Yielding after 1,000 spins measured 1-6% slower.
                if (spins < 100_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            return failure;
        }
    }

    private static final class Helper extends Thread {
        private final AtomicReference<Task> slot = new AtomicReference<>();

        Helper(String name) {
            super(name);
            setDaemon(true);
        }

        /** Hands {@code task} to this helper if it holds none. */
        boolean offer(Task task) {
            if (!slot.compareAndSet(null, task)) {
                return false;
            }
            LockSupport.unpark(this);
            return true;
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                Task task = slot.get();
                if (task != null) {
                    task.runIfUnclaimed();
                    slot.set(null);
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.yield();
                } else {
                    LockSupport.park(this);
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
