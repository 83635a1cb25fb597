package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The project's own kernel for {@code x W^T} of a few rows, each variant this CPU has, against double sums. */
class SkinnyProductTests {

    private final SplittableRandom random = new SplittableRandom(11);

    /** Where gcc built it (always under CI, whose .ci/run installs gcc), on any x86-64 with AVX2 or AVX-512. */
    @Test
    void theKernelIsLoadedWhereGccBuiltIt() {
        assumeTrue(Files.exists(Path.of("/usr/bin/gcc")) || "true".equals(System.getenv("CI")),
                "built without gcc: the engine uses OpenBLAS alone");

        assertThat(SkinnyProduct.available()).as(SkinnyProduct.description()).isTrue();
    }

    @Test
    void everyVariantMatchesTheDoubleReferenceAcrossTileAndChunkEdges() {
        // rows across the 4-row tile; outputs across the 3- and 6-wide tiles; in across the vector
        // width (8, 16) and the 1024-wide chunk of k.
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {4, 16, 4}, {5, 17, 9}, {8, 33, 12}, {9, 100, 13},
                {64, 64, 70}, {2, 1024, 5}, {7, 1025, 11}, {6, 4111, 6}};
        for (int variant : variants()) {
            for (int[] shape : shapes) {
                int rows = shape[0];
                int in = shape[1];
                int out = shape[2];
                float[] x = Fixtures.gaussian(rows * in, 1, random);
                float[] w = Fixtures.gaussian(out * in, 1, random);
                float[] y = product(variant, x, w, rows, in, out, 1);
                // The worst-case rounding of this summation order: in / 8 terms per lane, then the lanes.
                assertSums(y, rows, out, in, in / 8 + 24, (r, o, k) -> (double) x[r * in + k] * w[o * in + k],
                        "variant " + variant + ", " + Arrays.toString(shape));
            }
        }
    }

    @Test
    void theLowRankTermIsAddedToEveryOutput() {
        for (int variant : variants()) {
            for (int[] shape : new int[][] {{3, 2049, 130, 16}, {64, 40, 9, 3}, {1, 17, 4, 1}}) {
                int rows = shape[0];
                int in = shape[1];
                int out = shape[2];
                int rank = shape[3];
                float[] x = Fixtures.gaussian(rows * in, 1, random);
                float[] w = Fixtures.gaussian(out * in, 1, random);
                float[] h = Fixtures.gaussian(rows * rank, 1, random);
                float[] f = Fixtures.gaussian(out * rank, 1, random);
                float[] y;
                try (NativeMatrix nx = NativeMatrix.of(x, rows, in); NativeMatrix nw = NativeMatrix.of(w, out, in);
                        NativeMatrix ny = NativeMatrix.zeros(rows, out); NativeMatrix nh = NativeMatrix.of(h, rows, rank);
                        NativeMatrix nf = NativeMatrix.of(f, out, rank)) {
                    SkinnyProduct.multiply(variant, nx, nw, ny, 1f, false, nh, nf, 0.75f, 2);
                    y = ny.toArray();
                }
                // Terms q < in from x W^T, the rest from the low-rank term.
                assertSums(y, rows, out, in + rank, in / 8 + rank + 24, (r, o, q) -> q < in
                        ? (double) x[r * in + q] * w[o * in + q]
                        : 0.75 * h[r * rank + q - in] * f[o * rank + q - in], "variant " + variant + ", " + Arrays.toString(shape));
            }
        }
    }

    @Test
    void accumulatingAddsTheScaledProductToWhatIsThere() {
        for (int variant : variants()) {
            int rows = 5;
            int in = 16;
            int out = 300;
            float[] x = Fixtures.gaussian(rows * in, 1, random);
            float[] w = Fixtures.gaussian(out * in, 1, random);
            float[] base = Fixtures.gaussian(rows * out, 1, random);
            float[] y;
            try (NativeMatrix nx = NativeMatrix.of(x, rows, in); NativeMatrix nw = NativeMatrix.of(w, out, in);
                    NativeMatrix ny = NativeMatrix.of(base, rows, out)) {
                SkinnyProduct.multiply(variant, nx, nw, ny, 0.5f, true, null, null, 0f, 2);
                y = ny.toArray();
            }
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double sum = 0;
                    for (int k = 0; k < in; k++) {
                        sum += (double) x[r * in + k] * w[o * in + k];
                    }
                    assertThat((double) y[r * out + o]).isCloseTo(base[r * out + o] + 0.5 * sum, within(1e-5));
                }
            }
        }
    }

    /** The backward's products: gB = s dy^T h and dA = dh^T x (a^T b), dh = s dy B (a b). */
    @Test
    void theBroadcastProductsMatchTheDoubleReference() {
        for (int variant : variants()) {
            for (int[] shape : new int[][] {{1, 1, 1}, {5, 7, 3}, {32, 16, 4096}, {33, 70, 9}, {64, 130, 17}}) {
                int k = shape[0];
                int m = shape[1];
                int n = shape[2];
                float[] a = Fixtures.gaussian(k * m, 1, random);
                float[] b = Fixtures.gaussian(k * n, 1, random);
                float[] bt = Fixtures.gaussian(m * n, 1, random);
                float[] transposed;
                float[] plain;
                try (NativeMatrix na = NativeMatrix.of(a, k, m); NativeMatrix nb = NativeMatrix.of(b, k, n);
                        NativeMatrix c = NativeMatrix.zeros(m, n); NativeMatrix nbt = NativeMatrix.of(bt, m, n);
                        NativeMatrix c2 = NativeMatrix.zeros(k, n)) {
                    SkinnyProduct.transposedTimes(variant, na, nb, c, 0.5f);
                    transposed = c.toArray();
                    // The same a, as the left factor of a b: [k, m] times bt [m, n].
                    SkinnyProduct.times(variant, na, nbt, c2, 2f);
                    plain = c2.toArray();
                }
                String what = "variant " + variant + ", " + Arrays.toString(shape);
                assertSums(transposed, m, n, k, k + 2, (i, j, q) -> 0.5 * a[q * m + i] * b[q * n + j], "a^T b, " + what);
                assertSums(plain, k, n, m, m + 2, (r, j, q) -> 2.0 * a[r * m + q] * bt[q * n + j], "a b, " + what);
            }
        }
    }

    @Test
    void threadsShareTheOutputsWithoutChangingABit() {
        for (int variant : variants()) {
            int rows = 5;
            int in = 300;
            int out = 515;
            float[] x = Fixtures.gaussian(rows * in, 1, random);
            float[] w = Fixtures.gaussian(out * in, 1, random);

            assertThat(product(variant, x, w, rows, in, out, 2)).isEqualTo(product(variant, x, w, rows, in, out, 1));
            assertThat(product(variant, x, w, rows, in, out, 3)).isEqualTo(product(variant, x, w, rows, in, out, 1));
        }
    }

    @Test
    void wrongShapesAndTooManyRowsAreRefused() {
        assumeTrue(SkinnyProduct.available(), SkinnyProduct.description());
        try (NativeMatrix x = NativeMatrix.zeros(2, 8); NativeMatrix w = NativeMatrix.zeros(3, 9);
                NativeMatrix y = NativeMatrix.zeros(2, 3); NativeMatrix tall = NativeMatrix.zeros(65, 8);
                NativeMatrix w8 = NativeMatrix.zeros(3, 8); NativeMatrix tallY = NativeMatrix.zeros(65, 3)) {
            assertThatThrownBy(() -> SkinnyProduct.multiply(x, w, y, 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("[2x8] x [3x9]^T");
            assertThatThrownBy(() -> SkinnyProduct.multiply(tall, w8, tallY, 1))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @FunctionalInterface
    private interface Term {
        double of(int row, int col, int q);
    }

    /**
     * Each {@code actual[row][col]} against the double sum over {@code q < terms} of {@code term},
     * within {@code roundings} float roundings of the sum of the terms' magnitudes.
     */
    private static void assertSums(float[] actual, int rows, int cols, int terms, int roundings, Term term, String what) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double sum = 0;
                double magnitude = 0;
                for (int q = 0; q < terms; q++) {
                    double t = term.of(r, c, q);
                    sum += t;
                    magnitude += Math.abs(t);
                }
                assertThat((double) actual[r * cols + c]).as("%s, [%d][%d]", what, r, c)
                        .isCloseTo(sum, within(1.2e-7 * roundings * magnitude));
            }
        }
    }

    private static List<Integer> variants() {
        List<Integer> variants = new ArrayList<>();
        for (int v : new int[] {SkinnyProduct.AVX2, SkinnyProduct.AVX512}) {
            if (SkinnyProduct.available() && v <= variantOfThisCpu()) {
                variants.add(v);
            }
        }
        assumeTrue(!variants.isEmpty(), "no kernel: " + SkinnyProduct.description());
        return variants;
    }

    private static int variantOfThisCpu() {
        return SkinnyProduct.description().equals("AVX-512") ? SkinnyProduct.AVX512 : SkinnyProduct.AVX2;
    }

    /** The product into rows 1..rows of a matrix whose first and last rows guard against stray writes. */
    private static float[] product(int variant, float[] x, float[] w, int rows, int in, int out, int threads) {
        float[] guarded = new float[(rows + 2) * out];
        Arrays.fill(guarded, 7f);
        try (NativeMatrix nx = NativeMatrix.of(x, rows, in); NativeMatrix nw = NativeMatrix.of(w, out, in);
                NativeMatrix ny = NativeMatrix.of(guarded, rows + 2, out)) {
            SkinnyProduct.multiply(variant, nx, nw, ny.rows(1, rows), 1f, false, null, null, 0f, threads);
            float[] all = ny.toArray();
            assertThat(Arrays.copyOfRange(all, 0, out)).as("the row before").containsOnly(7f);
            assertThat(Arrays.copyOfRange(all, (rows + 1) * out, (rows + 2) * out)).as("the row after").containsOnly(7f);
            return Arrays.copyOfRange(all, out, (rows + 1) * out);
        }
    }
}
