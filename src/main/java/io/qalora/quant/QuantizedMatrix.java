package io.qalora.quant;

import java.util.Arrays;

/**
 * A quantized {@code rows x cols} matrix: integer codes (row-major, unsigned, stored in a
 * {@code char[]} because codes reach 16 bits), one scale and zero point per group
 * ({@code [rows, groupsPerRow]}), and the dequantized values {@code (q - zero) * scale}. The
 * quantizers make integer zero points in {@code [0, maxq]}; a POOLED_ZERO_POINT merge moves them to
 * float values ({@link #withIntegerZeros()} rounds them back).
 */
public record QuantizedMatrix(QuantSpec spec, int rows, int cols, char[] codes, float[] scales,
        float[] zeros, float[] dequantized) {

    public QuantizedMatrix {
        int groups = spec.groupsPerRow(cols);
        if (codes.length != rows * cols || dequantized.length != rows * cols
                || scales.length != rows * groups || zeros.length != rows * groups) {
            throw new IllegalArgumentException("array lengths do not match " + rows + "x" + cols
                    + " with " + groups + " groups per row");
        }
    }

    public int groupsPerRow() {
        return spec.groupsPerRow(cols);
    }

    public long numGroups() {
        return spec.numGroups(rows, cols);
    }

    /** The code at row {@code r}, column {@code c}. */
    public int code(int r, int c) {
        return codes[r * cols + c];
    }

    /** The codes widened to {@code int}. */
    public int[] codesAsInts() {
        int[] out = new int[codes.length];
        for (int i = 0; i < codes.length; i++) {
            out[i] = codes[i];
        }
        return out;
    }

    /** Recomputes {@code (q - zero) * scale} from codes, scales and zeros alone. */
    public float[] dequantize() {
        float[] out = new float[rows * cols];
        int groups = groupsPerRow();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int gi = r * groups + c / spec.groupSize();
                out[r * cols + c] = (codes[r * cols + c] - zeros[gi]) * scales[gi];
            }
        }
        return out;
    }

    /** Whether every zero point is an integer in {@code [0, maxq]}, as an integer-only format stores it. */
    public boolean hasIntegerZeros() {
        int maxq = spec.maxq();
        for (float z : zeros) {
            if (z != Math.rint(z) || z < 0 || z > maxq) {
                return false;
            }
        }
        return true;
    }

    /**
     * This matrix with integer zero points, for formats that store them as {@code bits}-bit integers
     * like the codes (AutoGPTQ's {@code qzeros}): each zero {@code rint} (half to even) and clamped
     * to {@code [0, maxq]}; codes and scales unchanged, the dequantized values recomputed as
     * {@code (q - zero) * scale} in float32. This matrix itself when its zeros already are such integers.
     */
    public QuantizedMatrix withIntegerZeros() {
        if (hasIntegerZeros()) {
            return this;
        }
        float maxq = spec.maxq();
        float[] rounded = new float[zeros.length];
        for (int k = 0; k < zeros.length; k++) {
            float z = GroupQuantizer.rint(zeros[k]);
            rounded[k] = z < 0f ? 0f : (z > maxq ? maxq : z);
        }
        float[] deq = new float[rows * cols];
        int groups = groupsPerRow();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int gi = r * groups + c / spec.groupSize();
                deq[r * cols + c] = (codes[r * cols + c] - rounded[gi]) * scales[gi];
            }
        }
        return new QuantizedMatrix(spec, rows, cols, codes.clone(), scales.clone(), rounded, deq);
    }

    /** The error this quantization left in {@code original}. */
    public QuantStats stats(float[] original) {
        return QuantStats.of(original, dequantized, numGroups());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedMatrix q && spec.equals(q.spec) && rows == q.rows && cols == q.cols
                && Arrays.equals(codes, q.codes) && Arrays.equals(scales, q.scales)
                && Arrays.equals(zeros, q.zeros) && Arrays.equals(dequantized, q.dequantized);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(codes) + Arrays.hashCode(scales);
    }

    @Override
    public String toString() {
        return "QuantizedMatrix[" + rows + "x" + cols + ", " + spec + "]";
    }
}
