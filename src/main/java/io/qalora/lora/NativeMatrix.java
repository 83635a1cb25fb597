package io.qalora.lora;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * A row-major float32 matrix in off-heap memory (JavaCPP's, which ND4J uses and counts), for the
 * one thing native code does better than a Java loop: matrix products, by the OpenBLAS that ND4J
 * ships. Element-wise work copies rows in and out through a direct {@link FloatBuffer} view in
 * bulk, which costs a memcpy instead of a JNI call per operation. Closing frees the memory at once
 * rather than whenever the garbage collector runs.
 */
final class NativeMatrix implements AutoCloseable {

    static {
        // ND4J loads OpenBLAS (after BlasKernels has chosen its kernels) and sizes its thread pool.
        NativeBlas.threads();
    }

    /**
     * From this size on, a matrix asks Linux for transparent huge pages (madvise). On the benchmark VM
     * a fresh 64 MiB matrix took about 200 ms to allocate and zero in 4 KiB pages (about 16,000 page
     * faults) and 8-9 ms with huge pages; glibc's hugetlb tunable, which the image sets, does the
     * same for every large allocation but must be set before the process starts.
     */
    static final long HUGE_PAGES_FROM_BYTES = 4L << 20;
    private static final long HUGE_PAGE = 2L << 20;

    final int rows;
    final int cols;
    /**
     * Whether madvise accepted the advice for this matrix (a view reports its whole's). That is also
     * so where transparent huge pages are off, or where the memory was already touched.
     */
    final boolean hugePages;
    /** Whether this matrix owns its memory (a view of rows does not). */
    private final boolean owner;
    private final FloatBuffer view;
    private final FloatPointer pointer;

    private NativeMatrix(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        long bytes = (long) rows * cols * Float.BYTES;
        // Not ND4J's arrays: ND4J writes a new array's memory as it allocates it, before it could be advised.
        this.pointer = new FloatPointer((long) rows * cols);
        this.owner = true;
        this.view = pointer.asBuffer();
        // Advised before the first touch, so the zeroing faults in 2 MiB pages, not 4 KiB ones.
        this.hugePages = bytes >= HUGE_PAGES_FROM_BYTES && adviseHugePages(address(), bytes);
        Pointer.memset(pointer, 0, bytes);
    }

    /** Rows {@code [first, first + count)} of {@code whole}, sharing its memory. */
    private NativeMatrix(NativeMatrix whole, int first, int count) {
        this.rows = count;
        this.cols = whole.cols;
        this.owner = false;
        this.hugePages = whole.hugePages;
        this.view = whole.view.slice(first * cols, count * cols);
        this.pointer = new FloatPointer(whole.pointer).position(whole.pointer.position() + (long) first * cols);
    }

    /** madvise(MADV_HUGEPAGE) on the whole 2 MiB pages inside {@code [address, address + bytes)}. */
    private static boolean adviseHugePages(long address, long bytes) {
        long first = (address + HUGE_PAGE - 1) & -HUGE_PAGE;
        long end = (address + bytes) & -HUGE_PAGE;
        if (end <= first) {
            return false;
        }
        try {
            return LibC.INSTANCE.madvise(new com.sun.jna.Pointer(first), end - first, LibC.MADV_HUGEPAGE) == 0;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** A zero-filled {@code rows x cols} matrix. */
    static NativeMatrix zeros(int rows, int cols) {
        return new NativeMatrix(rows, cols);
    }

    /** A copy of the row-major {@code data}. */
    static NativeMatrix of(float[] data, int rows, int cols) {
        NativeMatrix m = new NativeMatrix(rows, cols);
        m.load(data);
        return m;
    }

    /**
     * Rows {@code [first, first + count)} as a matrix of their own that shares this one's memory: a
     * product can write into part of a matrix. Closing it frees nothing; it must not outlive this.
     */
    NativeMatrix rows(int first, int count) {
        if (first < 0 || count < 1 || first + count > rows) {
            throw new IllegalArgumentException("rows [" + first + ", " + (first + count) + ") of " + rows);
        }
        return new NativeMatrix(this, first, count);
    }

    void load(float[] src) {
        load(src, 0);
    }

    /** Fills the matrix from {@code src[srcOffset ..]}, row-major. */
    void load(float[] src, int srcOffset) {
        view.put(0, src, srcOffset, rows * cols);
    }

    /** Copies {@code src[srcRow * cols ..]} (one row of width {@code cols}) into row {@code row}. */
    void loadRow(int row, float[] src, int srcOffset) {
        view.put(row * cols, src, srcOffset, cols);
    }

    void store(float[] dst) {
        store(dst, 0);
    }

    void store(float[] dst, int dstOffset) {
        view.get(0, dst, dstOffset, rows * cols);
    }

    /**
     * This matrix transposed into {@code dst [cols, rows]} row-major, through {@code scratch} (at least
     * {@code rows * cols} long): one bulk copy out of native memory, then the transposition in Java.
     */
    void storeTransposed(float[] dst, float[] scratch) {
        store(scratch);
        for (int c = 0; c < cols; c++) {
            int to = c * rows;
            for (int r = 0, from = c; r < rows; r++, from += cols) {
                dst[to + r] = scratch[from];
            }
        }
    }

    /** The address of element (0, 0), for the project's own native kernels. */
    long address() {
        if (pointer.isNull()) {
            throw new IllegalStateException("matrix is closed");
        }
        return pointer.address() + pointer.position() * Float.BYTES;
    }

    float[] toArray() {
        float[] out = new float[rows * cols];
        store(out);
        return out;
    }

    /**
     * {@code this = alpha * op(a) * op(b) + beta * this}, where {@code op} transposes when asked.
     * With {@code beta = 0} the old contents are ignored.
     */
    void gemm(NativeMatrix a, boolean transposeA, NativeMatrix b, boolean transposeB, float alpha, float beta) {
        int m = transposeA ? a.cols : a.rows;
        int k = transposeA ? a.rows : a.cols;
        int kb = transposeB ? b.cols : b.rows;
        int n = transposeB ? b.rows : b.cols;
        if (k != kb || m != rows || n != cols) {
            throw new IllegalArgumentException("gemm shapes: [" + m + "x" + k + "] x [" + kb + "x" + n
                    + "] into [" + rows + "x" + cols + "]");
        }
        // OpenBLAS directly, as ND4J's own CpuLevel3 does: Nd4j.gemm's op dispatch cost 10-50 us a call.
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
                transposeA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transposeB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                m, n, k, alpha, a.pointer, a.cols, b.pointer, b.cols, beta, pointer, cols);
    }

    @Override
    public void close() {
        if (owner) {
            pointer.close();
        }
    }
}
