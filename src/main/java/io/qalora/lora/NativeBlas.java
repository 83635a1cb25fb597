package io.qalora.lora;

import org.nd4j.linalg.cpu.nativecpu.blas.CpuBlas;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The BLAS thread count. OpenBLAS keeps one pool for the whole process, so this is a deployment
 * setting, chosen together with the number of worker threads. Two things were measured and
 * rejected: switching the count per call (after a call on one thread, the next two-thread product
 * of a 4096-wide layer ran at one-thread speed), and rank-sized products in plain Java loops (on
 * Java 17 the JIT did not vectorise them, and they ran 2-3x slower than one-thread BLAS).
 */
public final class NativeBlas {

    private NativeBlas() {
    }

    public static void setThreads(int threads) {
        if (threads < 1) {
            throw new io.qalora.InvalidParameterException("blasThreads", "must be at least 1, was " + threads);
        }
        ((CpuBlas) Nd4j.factory().blas()).setMaxThreads(threads);
    }

    public static int threads() {
        return ((CpuBlas) Nd4j.factory().blas()).getMaxThreads();
    }

    /** Off-heap bytes ND4J holds now (javacpp's count of physical allocations). */
    public static long offHeapBytes() {
        return org.bytedeco.javacpp.Pointer.totalBytes();
    }
}
