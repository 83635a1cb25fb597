package io.qalora.lora;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The products of a training step on a batch of at most {@link #MAX_ROWS} rows, by the project's own
 * kernel ({@code src/main/c/qalora_kernels.c}, built by Maven with gcc): {@code y = x W^T} with the
 * LoRA term added as each output is made, and the backward's rank-wide products ({@link #times},
 * {@link #transposedTimes}). OpenBLAS repacks all of W on every call, which for so few rows costs
 * about as much as the arithmetic; the kernel reads W in place. On a 2-core AMD EPYC (AVX-512) at
 * 32 x 4096 x 4096 on 2 threads it took 4.4-6.6 ms (the host's speed varied) against OpenBLAS
 * 0.3.19's 9.3 ms (SkylakeX kernels) and 11.2 ms (Haswell); from 128 rows on OpenBLAS was faster.
 * Where the library cannot be loaded, or the CPU has neither AVX-512 nor AVX2 with FMA, {@link
 * #available()} is false and callers use OpenBLAS.
 */
final class SkinnyProduct {

    static final int MAX_ROWS = 64;
    /** Outputs per part shared among threads: 16 parts at 4096 outputs, one for a rank-wide product. */
    private static final int PART_OUTPUTS = 256;
    static final int NONE = 0;
    static final int AVX2 = 1;
    static final int AVX512 = 2;
    private static final String LIBRARY = "libqalora_kernels.so";

    private static final String LOAD_FAILURE;
    private static final int VARIANT;

    static {
        String failure = null;
        int variant = NONE;
        try {
            load();
            variant = bestVariant();
        } catch (IOException | RuntimeException | LinkageError e) {
            failure = e.toString();
        }
        LOAD_FAILURE = failure;
        VARIANT = variant;
    }

    private SkinnyProduct() {
    }

    static boolean available() {
        return VARIANT != NONE;
    }

    /** The kernel in use, or why there is none. */
    static String description() {
        if (LOAD_FAILURE != null) {
            return "none (" + LOAD_FAILURE + ")";
        }
        return switch (VARIANT) {
            case AVX512 -> "AVX-512";
            case AVX2 -> "AVX2";
            default -> "none (the CPU has neither AVX-512 nor AVX2 with FMA)";
        };
    }

    /** {@code y = x w^T} with the best variant on up to {@code threads} threads; {@code x.rows <= MAX_ROWS}. */
    static void multiply(NativeMatrix x, NativeMatrix w, NativeMatrix y, int threads) {
        multiply(VARIANT, x, w, y, 1f, false, null, null, 0f, threads);
    }

    /**
     * {@code y = x w^T + scale h f^T}, the low-rank term added to each output as it is made
     * ({@code h [rows, rank]}, {@code f [outputs, rank]}).
     */
    static void multiply(NativeMatrix x, NativeMatrix w, NativeMatrix y, NativeMatrix h, NativeMatrix f, float scale,
            int threads) {
        multiply(VARIANT, x, w, y, 1f, false, h, f, scale, threads);
    }

    /** {@code y += alpha x w^T}. */
    static void accumulate(NativeMatrix x, NativeMatrix w, float alpha, NativeMatrix y, int threads) {
        multiply(VARIANT, x, w, y, alpha, true, null, null, 0f, threads);
    }

    /**
     * {@code y = alpha x w^T + scale h f^T}, plus {@code y} when {@code accumulate}, with a chosen
     * variant (tests run each); {@code h == null} leaves the low-rank term out.
     */
    static void multiply(int variant, NativeMatrix x, NativeMatrix w, NativeMatrix y, float alpha, boolean accumulate,
            NativeMatrix h, NativeMatrix f, float scale, int threads) {
        requireVariant(variant);
        if (x.cols != w.cols || y.rows != x.rows || y.cols != w.rows || x.rows > MAX_ROWS) {
            throw new IllegalArgumentException("skinny product shapes: [" + x.rows + "x" + x.cols + "] x ["
                    + w.rows + "x" + w.cols + "]^T into [" + y.rows + "x" + y.cols + "]");
        }
        if ((h == null) != (f == null) || h != null && (h.rows != x.rows || f.rows != w.rows || f.cols != h.cols)) {
            throw new IllegalArgumentException("low-rank term shapes: " + shape(h) + " x " + shape(f) + "^T for "
                    + shape(y));
        }
        int out = w.rows;
        // Parts of about 256 outputs in whole 6-output tiles, shared out as the threads come for them;
        // each output is one dot product, so the split changes no bit.
        int per = Math.max(1, (Math.min(out, PART_OUTPUTS) + 5) / 6 * 6);
        int parts = (out + per - 1) / per;
        long xa = x.address();
        long wa = w.address();
        long ya = y.address();
        long ha = h == null ? 0 : h.address();
        long fa = h == null ? 0 : f.address();
        int rank = h == null ? 0 : h.cols;
        KernelThreads.run(threads, parts, p -> multiply(variant, xa, wa, ya, x.rows, x.cols, out, p * per,
                Math.min(out, (p + 1) * per), alpha, accumulate, ha, fa, rank, scale));
        // Only addresses reach the kernel: the matrices must outlive the call.
        Reference.reachabilityFence(x);
        Reference.reachabilityFence(w);
        Reference.reachabilityFence(y);
        Reference.reachabilityFence(h);
        Reference.reachabilityFence(f);
    }

    /** {@code c = alpha a b}: {@code a [m, k]}, {@code b [k, n]}, on one thread; for a rank-wide {@code n}. */
    static void times(NativeMatrix a, NativeMatrix b, NativeMatrix c, float alpha) {
        times(VARIANT, a, b, c, alpha);
    }

    static void times(int variant, NativeMatrix a, NativeMatrix b, NativeMatrix c, float alpha) {
        requireVariant(variant);
        requireShapes("a b", a.rows, a.cols, b.rows, b.cols, c);
        broadcast(variant, a.address(), a.cols, 1, b.address(), c.address(), c.rows, c.cols, a.cols, alpha);
        fence(a, b, c);
    }

    /** {@code c = alpha a^T b}: {@code a [k, m]}, {@code b [k, n]}, on one thread; for a batch-long {@code k}. */
    static void transposedTimes(NativeMatrix a, NativeMatrix b, NativeMatrix c, float alpha) {
        transposedTimes(VARIANT, a, b, c, alpha);
    }

    static void transposedTimes(int variant, NativeMatrix a, NativeMatrix b, NativeMatrix c, float alpha) {
        requireVariant(variant);
        requireShapes("a^T b", a.cols, a.rows, b.rows, b.cols, c);
        broadcast(variant, a.address(), 1, a.cols, b.address(), c.address(), c.rows, c.cols, a.rows, alpha);
        fence(a, b, c);
    }

    /** Only addresses reach the kernel: the matrices must outlive the call. */
    private static void fence(NativeMatrix a, NativeMatrix b, NativeMatrix c) {
        Reference.reachabilityFence(a);
        Reference.reachabilityFence(b);
        Reference.reachabilityFence(c);
    }

    private static String shape(NativeMatrix m) {
        return m == null ? "none" : "[" + m.rows + "x" + m.cols + "]";
    }

    private static void requireVariant(int variant) {
        if (variant < AVX2 || variant > VARIANT) {
            throw new IllegalStateException("kernel variant " + variant + " is not available: " + description());
        }
    }

    private static void requireShapes(String product, int m, int k, int kb, int n, NativeMatrix c) {
        if (k != kb || c.rows != m || c.cols != n) {
            throw new IllegalArgumentException(product + " shapes: [" + m + "x" + k + "] x [" + kb + "x" + n
                    + "] into [" + c.rows + "x" + c.cols + "]");
        }
    }

    private static void load() throws IOException {
        try (InputStream in = SkinnyProduct.class.getResourceAsStream(LIBRARY)) {
            if (in == null) {
                throw new IOException(LIBRARY + " is not on the class path (built without gcc?)");
            }
            Path file = Files.createTempFile("qalora_kernels", ".so");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                System.load(file.toAbsolutePath().toString());
            } finally {
                // Linux keeps a loaded library mapped after its file is gone.
                Files.deleteIfExists(file);
            }
        }
    }

    /** {@link #AVX512}, {@link #AVX2} or {@link #NONE}, from the CPU. */
    private static native int bestVariant();

    /**
     * Outputs {@code [from, to)} of {@code y [rows, ldy] = alpha x [rows, in] w^T + scale h [rows, rank] f^T}
     * (plus {@code y} when accumulating), at raw addresses; {@code h == 0} leaves the low-rank term out.
     */
    private static native void multiply(int variant, long x, long w, long y, int rows, int in, int ldy, int from, int to,
            float alpha, boolean accumulate, long h, long f, int rank, float scale);

    /** {@code c [m, n] = alpha sum_kk a[i * ai + kk * ak] b[kk * n + j]}. */
    private static native void broadcast(int variant, long a, long ai, long ak, long b, long c, int m, int n, int k,
            float alpha);
}
