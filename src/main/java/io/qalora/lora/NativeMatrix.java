package io.qalora.lora;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A row-major float32 matrix in ND4J's off-heap memory, for the one thing ND4J does better than a
 * Java loop: BLAS matrix products. Element-wise work copies rows in and out through a direct
 * {@link FloatBuffer} view in bulk, which costs a memcpy instead of a JNI call per operation.
 * Closing frees the memory at once rather than whenever the garbage collector runs.
 */
final class NativeMatrix implements AutoCloseable {

    static {
        BlasKernels.chooseBeforeLoading();
    }

    final int rows;
    final int cols;
    private final INDArray array;
    private final FloatBuffer view;
    private final FloatPointer pointer;

    private NativeMatrix(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        this.array = Nd4j.create(DataType.FLOAT, new long[] {rows, cols}, 'c');
        this.view = array.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.pointer = new FloatPointer(array.data().addressPointer());
    }

    /** Rows {@code [first, first + count)} of {@code whole}, sharing its memory. */
    private NativeMatrix(NativeMatrix whole, int first, int count) {
        this.rows = count;
        this.cols = whole.cols;
        this.array = null;
        this.view = whole.view.slice(first * cols, count * cols);
        this.pointer = new FloatPointer(whole.pointer).position((long) first * cols);
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
        if (array != null) {
            array.close();
        }
    }
}
