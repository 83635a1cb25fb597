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

    static {
        BlasKernels.chooseBeforeLoading();
    }

    private NativeBlas() {
    }

    /**
     * Chooses OpenBLAS's kernels (see {@code BlasKernels}) without loading ND4J. Any first use of the
     * engine does this too; an application calls it first, while it has one thread, since the choice
     * may set a variable in the C library's environment.
     */
    public static void chooseKernels() {
        // The class initialiser has done the work.
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

    /** The OpenBLAS kernels in use and how they were chosen, e.g. {@code SkylakeX (OPENBLAS_CORETYPE=...)}. */
    public static String kernels() {
        threads();
        return BlasKernels.loadedCore() + " (" + BlasKernels.choice() + ")";
    }

    /** The project's own kernel for products of a few rows ({@code AVX-512}, {@code AVX2}, or none and why). */
    public static String skinnyKernel() {
        return SkinnyProduct.description();
    }

    /** Off-heap bytes ND4J holds now (javacpp's count of physical allocations). */
    public static long offHeapBytes() {
        return org.bytedeco.javacpp.Pointer.totalBytes();
    }
}
