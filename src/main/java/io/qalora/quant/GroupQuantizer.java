package io.qalora.quant;

/**
 * The GPTQ min-max group quantizer of {@code QUANTIZATION.md}, in IEEE float32 with the exact
 * operations the spec names (a division by the scale, never a multiplication by its reciprocal,
 * and {@code rint}, round half to even), so codes and scales match NumPy, PyTorch and AutoGPTQ
 * bit for bit:
 *
 * <pre>
 * lo = min(0, min(v))   hi = max(0, max(v))
 * symmetric: a = max(-lo, hi); lo = -a; hi = a
 * lo == hi:  lo = -1; hi = 1
 * scale = (hi - lo) / maxq
 * zero  = symmetric ? (maxq + 1) / 2 : rint(-lo / scale)
 * q     = clamp(rint(v / scale) + zero, 0, maxq)
 * deq   = (q - zero) * scale
 * </pre>
 *
 * <p>A {@code rows x cols} row-major matrix is cut into groups of {@code groupSize} consecutive
 * elements along each row; a row that does not divide evenly ends with one shorter group.
 */
public final class GroupQuantizer {

    private GroupQuantizer() {
    }

    /** Codes, scales, zeros and the dequantized matrix of {@code m [rows, cols]}. */
    public static QuantizedMatrix quantize(float[] m, int rows, int cols, QuantSpec spec) {
        checkShape(m, 0, rows, cols);
        int groups = spec.groupsPerRow(cols);
        char[] codes = new char[rows * cols];
        float[] scales = new float[rows * groups];
        float[] zeros = new float[rows * groups];
        float[] deq = new float[rows * cols];
        float maxq = spec.maxq();
        GroupParams p = new GroupParams();
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int start = r * cols + g * spec.groupSize();
                int end = Math.min(start + spec.groupSize(), (r + 1) * cols);
                fit(m, start, end, spec, p);
                scales[r * groups + g] = p.scale;
                zeros[r * groups + g] = p.zero;
                for (int i = start; i < end; i++) {
                    float q = code(m[i], p.scale, p.zero, maxq);
                    codes[i] = (char) q;
                    deq[i] = (q - p.zero) * p.scale;
                }
            }
        }
        return new QuantizedMatrix(spec, rows, cols, codes, scales, zeros, deq);
    }

    /**
     * Fake quantization {@code fq}: writes the dequantized value of every element of the
     * {@code rows x cols} block at {@code src[srcOffset..]} to {@code dst[dstOffset..]}. The
     * arrays may be the same (in place).
     */
    public static void fakeQuantize(float[] src, int srcOffset, float[] dst, int dstOffset,
            int rows, int cols, QuantSpec spec) {
        checkShape(src, srcOffset, rows, cols);
        checkShape(dst, dstOffset, rows, cols);
        float maxq = spec.maxq();
        int g = spec.groupSize();
        GroupParams p = new GroupParams();
        for (int r = 0; r < rows; r++) {
            int rowStart = srcOffset + r * cols;
            int shift = dstOffset - srcOffset;
            for (int start = rowStart; start < rowStart + cols; start += g) {
                int end = Math.min(start + g, rowStart + cols);
                fit(src, start, end, spec, p);
                float scale = p.scale;
                float zero = p.zero;
                for (int i = start; i < end; i++) {
                    dst[i + shift] = (code(src[i], scale, zero, maxq) - zero) * scale;
                }
            }
        }
    }

    /** Fake quantization of a whole matrix into a new array. */
    public static float[] fakeQuantize(float[] m, int rows, int cols, QuantSpec spec) {
        float[] out = new float[rows * cols];
        fakeQuantize(m, 0, out, 0, rows, cols, spec);
        return out;
    }

    /** Error statistics of quantizing {@code m [rows, cols]}. */
    public static QuantStats stats(float[] m, int rows, int cols, QuantSpec spec) {
        return QuantStats.of(m, fakeQuantize(m, rows, cols, spec), spec.numGroups(rows, cols));
    }

    /**
     * Fits the group {@code v[start..end)}: sets {@code p.scale} and {@code p.zero}. A holder, not a
     * returned record, because this runs once per group in the training hot path.
     */
    static void fit(float[] v, int start, int end, QuantSpec spec, GroupParams p) {
        float lo = 0f;
        float hi = 0f;
        for (int i = start; i < end; i++) {
            float x = v[i];
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        if (spec.symmetric()) {
            float a = Math.max(-lo, hi);
            lo = -a;
            hi = a;
        }
        if (lo == hi) {
            lo = -1f;
            hi = 1f;
        }
        float maxq = spec.maxq();
        p.scale = (hi - lo) / maxq;
        // 0f - lo rather than -lo: the same number, but never a negative zero point.
        p.zero = spec.symmetric() ? (maxq + 1f) / 2f : rint((0f - lo) / p.scale);
    }

    /** The integer code of {@code v}: {@code clamp(rint(v / scale) + zero, 0, maxq)}. */
    static float code(float v, float scale, float zero, float maxq) {
        float q = rint(v / scale) + zero;
        return q < 0f ? 0f : (q > maxq ? maxq : q);
    }

    static float rint(float x) {
        return (float) Math.rint(x);
    }

    private static void checkShape(float[] m, int offset, int rows, int cols) {
        if (rows < 0 || cols < 0 || offset < 0 || (long) offset + (long) rows * cols > m.length) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " block at " + offset
                    + " does not fit an array of " + m.length);
        }
    }
}
