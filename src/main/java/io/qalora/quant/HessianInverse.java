package io.qalora.quant;

import io.qalora.quant.MatrixProducts.Block;
import io.qalora.quant.MatrixProducts.Part;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The factor GPTQ propagates errors with: the upper-triangular {@code U} with {@code U^T U = H^-1},
 * which gptq.py computes as {@code cholesky(cholesky_inverse(cholesky(H)), upper=True)}.
 *
 * <p>Here it takes one factorization and one triangular inverse instead of two factorizations, an
 * inverse and a product: with {@code J} the order reversal, {@code J H J = L L^T} (lower {@code L})
 * gives {@code H = V V^T} with {@code V = J L J} upper, and {@code U = V^-1 = J L^-1 J}. A Cholesky
 * factor with a positive diagonal is unique, so this is the same {@code U}, up to rounding.
 * Reversing both axes of a row-major square matrix is reversing its flat array.
 */
final class HessianInverse {

    /** Width of the diagonal blocks of the blocked factorization and inverse. */
    private static final int PANEL = 128;
    private static final long PARALLEL_WORK = 1L << 20;
    /**
     * A pivot below this share of its diagonal entry counts as a failed factorization: the matrix
     * is singular to rounding. A damped Hessian keeps its pivots above {@code damp / n} of the
     * diagonal (1e-2 / n), far from this.
     */
    static final double MIN_RELATIVE_PIVOT = 1e-10;

    private HessianInverse() {
    }

    /**
     * {@code U} (row-major {@code [n, n]}, zeros below the diagonal) for a symmetric {@code h}, or
     * {@code null} when {@code h} is not numerically positive definite. {@code h} is overwritten.
     */
    static double[] upperCholeskyOfInverse(double[] h, int n) {
        reverse(h);
        if (!choleskyLower(h, n)) {
            return null;
        }
        invertLower(h, n);
        for (double v : h) {
            if (!Double.isFinite(v)) {
                return null;
            }
        }
        reverse(h);
        return h;
    }

    /**
     * In place, right-looking and blocked: {@code a = L L^T}, {@code L} in the lower triangle, the
     * upper triangle zeroed. Reads only the lower triangle. False on a pivot that is not positive,
     * or below {@link #MIN_RELATIVE_PIVOT} of its diagonal entry.
     */
    static boolean choleskyLower(double[] a, int n) {
        double[] diagonal = new double[n];
        for (int i = 0; i < n; i++) {
            diagonal[i] = a[i * n + i];
        }
        for (int start = 0; start < n; start += PANEL) {
            int k0 = start;
            int k1 = Math.min(k0 + PANEL, n);
            if (!factorDiagonalBlock(a, n, k0, k1, diagonal)) {
                return false;
            }
            int below = n - k1;
            if (below == 0) {
                break;
            }
            IntStream rows = IntStream.range(k1, n);
            if ((long) below * PANEL * PANEL >= PARALLEL_WORK) {
                rows = rows.parallel();
            }
            rows.forEach(i -> solvePanelRow(a, n, k0, k1, i));
            int w = k1 - k0;
            double[] panelT = new double[w * below];
            for (int i = 0; i < below; i++) {
                for (int t = 0; t < w; t++) {
                    panelT[t * below + i] = a[(k1 + i) * n + k0 + t];
                }
            }
            MatrixProducts.multiplyAdd(-1, new Block(a, k1 * n + k0, n), new Block(panelT, 0, below),
                    new Block(a, k1 * n + k1, n), below, below, w, Part.LOWER, false, true);
        }
        for (int i = 0; i < n; i++) {
            Arrays.fill(a, i * n + i + 1, (i + 1) * n, 0.0);
        }
        return true;
    }

    private static boolean factorDiagonalBlock(double[] a, int n, int k0, int k1, double[] diagonal) {
        for (int j = k0; j < k1; j++) {
            int rj = j * n;
            double d = a[rj + j];
            for (int t = k0; t < j; t++) {
                d -= a[rj + t] * a[rj + t];
            }
            if (!(d > MIN_RELATIVE_PIVOT * diagonal[j]) || !(d > 0) || !Double.isFinite(d)) {
                return false;
            }
            d = Math.sqrt(d);
            a[rj + j] = d;
            for (int i = j + 1; i < k1; i++) {
                int ri = i * n;
                double s = a[ri + j];
                for (int t = k0; t < j; t++) {
                    s -= a[ri + t] * a[rj + t];
                }
                a[ri + j] = s / d;
            }
        }
        return true;
    }

    /** Row {@code i} of the panel below the diagonal block: solves {@code x L11^T = a}. */
    private static void solvePanelRow(double[] a, int n, int k0, int k1, int i) {
        int ri = i * n;
        for (int j = k0; j < k1; j++) {
            int rj = j * n;
            double s = a[ri + j];
            for (int t = k0; t < j; t++) {
                s -= a[ri + t] * a[rj + t];
            }
            a[ri + j] = s / a[rj + j];
        }
    }

    /**
     * In place {@code L -> L^-1} for a lower-triangular {@code L} whose upper triangle is zero, by
     * block rows: {@code X[I,I] = L[I,I]^-1} and {@code X[I, :I] = -X[I,I] (L[I, :I] X[:I, :I])}.
     */
    static void invertLower(double[] a, int n) {
        for (int k0 = 0; k0 < n; k0 += PANEL) {
            int k1 = Math.min(k0 + PANEL, n);
            int w = k1 - k0;
            double[] diagInv = invertDiagonalBlock(a, n, k0, w);
            if (k0 > 0) {
                double[] t = new double[w * k0];
                MatrixProducts.multiplyAdd(1, new Block(a, k0 * n, n), new Block(a, 0, n), new Block(t, 0, k0),
                        w, k0, k0, Part.ALL, true, true);
                for (int i = 0; i < w; i++) {
                    Arrays.fill(a, (k0 + i) * n, (k0 + i) * n + k0, 0.0);
                }
                MatrixProducts.multiplyAdd(-1, new Block(diagInv, 0, w), new Block(t, 0, k0), new Block(a, k0 * n, n),
                        w, k0, w, Part.ALL, false, true);
            }
            for (int i = 0; i < w; i++) {
                System.arraycopy(diagInv, i * w, a, (k0 + i) * n + k0, w);
            }
        }
    }

    private static double[] invertDiagonalBlock(double[] a, int n, int k0, int w) {
        double[] inv = new double[w * w];
        for (int j = 0; j < w; j++) {
            inv[j * w + j] = 1.0 / a[(k0 + j) * n + k0 + j];
            for (int i = j + 1; i < w; i++) {
                int ri = (k0 + i) * n + k0;
                double s = 0;
                for (int t = j; t < i; t++) {
                    s += a[ri + t] * inv[t * w + j];
                }
                inv[i * w + j] = -s / a[ri + i];
            }
        }
        return inv;
    }

    private static void reverse(double[] v) {
        for (int i = 0, j = v.length - 1; i < j; i++, j--) {
            double tmp = v[i];
            v[i] = v[j];
            v[j] = tmp;
        }
    }
}
