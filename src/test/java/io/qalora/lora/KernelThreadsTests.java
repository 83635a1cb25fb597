package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class KernelThreadsTests {

    @Test
    void everyPartRunsExactlyOnceWhateverTheThreadCount() {
        for (int threads : new int[] {1, 2, 5}) {
            for (int parts : new int[] {1, 2, 3, 97}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(parts);

                KernelThreads.run(threads, parts, runs::incrementAndGet);

                for (int p = 0; p < parts; p++) {
                    assertThat(runs.get(p)).as("%d threads, part %d of %d", threads, p, parts).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void oneThreadKeepsEveryPartOnTheCaller() {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();

        KernelThreads.run(1, 50, p -> threads.add(Thread.currentThread()));

        assertThat(threads).containsExactly(Thread.currentThread());
    }

    @Test
    void aFailingPartFailsTheRunAfterTheOthersHaveFinished() {
        AtomicIntegerArray runs = new AtomicIntegerArray(40);

        assertThatThrownBy(() -> KernelThreads.run(2, 40, p -> {
            if (p == 7) {
                throw new IllegalStateException("part 7");
            }
            runs.incrementAndGet(p);
        })).hasMessage("part 7");

        // The participant that failed stops; the other, or the caller, finishes what is left, once.
        for (int p = 0; p < 40; p++) {
            assertThat(runs.get(p)).as("part %d", p).isEqualTo(p == 7 ? 0 : 1);
        }
    }
}
