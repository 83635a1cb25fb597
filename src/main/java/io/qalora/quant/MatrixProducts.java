package io.qalora.quant;

import java.util.stream.IntStream;

/**
 * {@code C += alpha A B} on row-major {@code double} blocks: the one kernel behind GPTQ's Hessian,
 * its Cholesky work and its lazy error updates. Cache tiles of {@link #ROWS} x {@link #COLS} of
 * {@code C} and depth {@link #DEPTH}, with a register kernel of two rows by four depths: on Java 17
 * the JIT vectorizes that form, measured at about 6 GFMA/s a core against 1.6 for a plain axpy loop.
 * Tiles of {@code C} are independent, so they spread over the common fork-join pool.
 */
final class MatrixProducts {

    static final int ROWS = 64;
    static final int COLS = 256;
    static final int DEPTH = 128;
    /** Below this many multiply-adds a product stays on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 20;

    /** A row-major view: element (r, c) is {@code data[offset + r * stride + c]}. */
    record Block(double[] data, int offset, int stride) {

        Block at(int row, int col) {
            return new Block(data, offset + row * stride + col, stride);
        }
    }

    /**
     * Which tiles of a square {@code C} are needed. Tiles that straddle the diagonal are computed
     * whole, so the other triangle near the diagonal receives values too; callers never read it.
     */
    enum Part { ALL, UPPER, LOWER }

    private MatrixProducts() {
    }

    /**
     * {@code C[m x n] += alpha * A[m x k] * B[k x n]}.
     *
     * @param bLower {@code B[t][j] == 0} for {@code j > t} (a lower-triangular {@code B} whose upper
     *     triangle is stored as zeros), so depth rows above a column tile are skipped
     */
    static void multiplyAdd(double alpha, Block a, Block b, Block c, int m, int n, int k, Part part,
            boolean bLower, boolean parallel) {
        if (m <= 0 || n <= 0 || k <= 0) {
            return;
        }
        int rowTiles = (m + ROWS - 1) / ROWS;
        int colTiles = (n + COLS - 1) / COLS;
        int tiles = rowTiles * colTiles;
        IntStream ids = IntStream.range(0, tiles);
        if (parallel && tiles > 1 && (long) m * n * k >= PARALLEL_WORK) {
            ids = ids.parallel();
        }
        ids.forEach(id -> {
            int i0 = (id / colTiles) * ROWS;
            int j0 = (id % colTiles) * COLS;
            int i1 = Math.min(i0 + ROWS, m);
            int j1 = Math.min(j0 + COLS, n);
            if ((part == Part.UPPER && j1 <= i0) || (part == Part.LOWER && j0 >= i1)) {
                return;
            }
            tile(alpha, a, b, c, i0, i1, j0, j1, bLower ? Math.min(j0, k) : 0, k);
        });
    }

    private static void tile(double alpha, Block a, Block b, Block c, int i0, int i1, int j0, int j1,
            int t0, int k) {
        int len = j1 - j0;
        for (int d0 = t0; d0 < k; d0 += DEPTH) {
            int d1 = Math.min(d0 + DEPTH, k);
            int i = i0;
            for (; i + 1 < i1; i += 2) {
                int a0 = a.offset() + i * a.stride();
                int c0 = c.offset() + i * c.stride() + j0;
                int t = d0;
                for (; t + 3 < d1; t += 4) {
                    twoByFour(alpha, a.data(), a0 + t, a.stride(), b.data(), b.offset() + t * b.stride() + j0,
                            b.stride(), c.data(), c0, c.stride(), len);
                }
                for (; t < d1; t++) {
                    int bt = b.offset() + t * b.stride() + j0;
                    axpy(alpha * a.data()[a0 + t], b.data(), bt, c.data(), c0, len);
                    axpy(alpha * a.data()[a0 + a.stride() + t], b.data(), bt, c.data(), c0 + c.stride(), len);
                }
            }
            if (i < i1) {
                int a0 = a.offset() + i * a.stride();
                int c0 = c.offset() + i * c.stride() + j0;
                for (int t = d0; t < d1; t++) {
                    axpy(alpha * a.data()[a0 + t], b.data(), b.offset() + t * b.stride() + j0, c.data(), c0, len);
                }
            }
        }
    }

    /** Rows {@code c0} and {@code c0 + ldc} of C gain four depth steps at once. */
    private static void twoByFour(double alpha, double[] a, int a0, int lda, double[] b, int b0, int ldb,
            double[] c, int c0, int ldc, int len) {
        double p00 = alpha * a[a0];
        double p01 = alpha * a[a0 + 1];
        double p02 = alpha * a[a0 + 2];
        double p03 = alpha * a[a0 + 3];
        int a1 = a0 + lda;
        double p10 = alpha * a[a1];
        double p11 = alpha * a[a1 + 1];
        double p12 = alpha * a[a1 + 2];
        double p13 = alpha * a[a1 + 3];
        int b1 = b0 + ldb;
        int b2 = b1 + ldb;
        int b3 = b2 + ldb;
        int c1 = c0 + ldc;
        for (int j = 0; j < len; j++) {
            double x0 = b[b0 + j];
            double x1 = b[b1 + j];
            double x2 = b[b2 + j];
            double x3 = b[b3 + j];
            c[c0 + j] += p00 * x0 + p01 * x1 + p02 * x2 + p03 * x3;
            c[c1 + j] += p10 * x0 + p11 * x1 + p12 * x2 + p13 * x3;
        }
    }

    /** {@code y[yo..yo+len) += s * x[xo..xo+len)}. */
    static void axpy(double s, double[] x, int xo, double[] y, int yo, int len) {
        for (int j = 0; j < len; j++) {
            y[yo + j] += s * x[xo + j];
        }
    }
}
