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

    /**
     * Matrices smaller than this many elements are quantized on the calling thread alone: below it
     * handing rows to another thread costs more than it saves.
     */
    static final int PARALLEL_THRESHOLD = 1 << 16;

    /** Codes, scales, zeros and the dequantized matrix of {@code m [rows, cols]}, on the calling thread. */
    public static QuantizedMatrix quantize(float[] m, int rows, int cols, QuantSpec spec) {
        return quantize(m, rows, cols, spec, 1);
    }

    /**
     * {@link #quantize(float[], int, int, QuantSpec)} with the rows shared among up to
     * {@code threads} threads (the caller and the common fork-join pool). Groups never cross rows,
     * so every thread's result is exactly the one-thread result for its rows.
     */
    public static QuantizedMatrix quantize(float[] m, int rows, int cols, QuantSpec spec, int threads) {
        checkShape(m, 0, rows, cols);
        Result r = new Result(spec, rows, cols);
        Parallel.forRows(0, rows, cols, threads, (from, to) -> r.quantizeRows(m, null, from, to));
        return r.matrix();
    }

    /**
     * Rows of a matrix produced a block at a time, for example a product computed by native code into a
     * small buffer, so that the whole matrix never exists twice.
     */
    @FunctionalInterface
    public interface RowBlocks {
        /** Writes rows {@code [firstRow, firstRow + rowCount)}, row-major, to {@code dst} from {@code dstOffset}. */
        void copyRows(int firstRow, int rowCount, float[] dst, int dstOffset);
    }

    /**
     * Quantizes {@code base + delta} ({@code [rows, cols]}, added in float32 element by element,
     * {@code base[i] + delta[i]}), the LoRA merge {@code W + s B A}: {@code delta} delivers
     * {@code blockRows} rows at a time straight into the array that becomes the dequantized
     * matrix, each block is then added, fitted and quantized in one pass per group, its rows shared
     * among up to {@code threads} threads. Equal, bit for bit, to
     * {@code quantize(base + delta, rows, cols, spec)}, with one copy of the matrix fewer.
     */
    public static QuantizedMatrix quantizeSum(float[] base, RowBlocks delta, int rows, int cols, int blockRows,
            QuantSpec spec, int threads) {
        checkShape(base, 0, rows, cols);
        if (blockRows < 1) {
            throw new IllegalArgumentException("blockRows must be at least 1, was " + blockRows);
        }
        Result r = new Result(spec, rows, cols);
        for (int first = 0; first < rows; first += blockRows) {
            int count = Math.min(blockRows, rows - first);
            delta.copyRows(first, count, r.deq, first * cols);
            Parallel.forRows(first, first + count, cols, threads, (from, to) -> r.quantizeRows(r.deq, base, from, to));
        }
        return r.matrix();
    }

    /**
     * {@code 1.5 * 2^23}: for {@code |y| < 2^22}, {@code (y + ROUNDER) - ROUNDER} is {@code rint(y)}
     * in float32 (the sum lies in {@code [2^23, 2^24)}, where floats are the integers, and rounds
     * half to even; {@code ROUNDER} is even), except that it gives {@code +0} where rint gives
     * {@code -0}. That difference vanishes in {@code rint(y) + zero}: the zero point is never
     * {@code -0} (see {@link #params}), and {@code -0 + z == +0 + z} for every other {@code z}.
     */
    private static final float ROUNDER = 0x1.8p23f;
    private static final float ROUNDING_LIMIT = 0x1p22f;

    /** The arrays of a quantized matrix being filled, row range by row range (disjoint ranges may run at once). */
    private static final class Result {
        final QuantSpec spec;
        final int rows;
        final int cols;
        final int groups;
        final char[] codes;
        final float[] scales;
        final float[] zeros;
        final float[] deq;

        Result(QuantSpec spec, int rows, int cols) {
            this.spec = spec;
            this.rows = rows;
            this.cols = cols;
            this.groups = spec.groupsPerRow(cols);
            this.codes = new char[rows * cols];
            this.scales = new float[rows * groups];
            this.zeros = new float[rows * groups];
            this.deq = new float[rows * cols];
        }

        /**
         * Quantizes rows {@code [from, to)} of {@code src} (plus {@code addend}, when not null, written to
         * {@code deq} first): per group a pass for the sum, one for the range and two for codes and values.
         */
        void quantizeRows(float[] src, float[] addend, int from, int to) {
            int g = spec.groupSize();
            float maxq = spec.maxq();
            GroupParams p = new GroupParams();
            for (int r = from; r < to; r++) {
                int rowStart = r * cols;
                int rowEnd = rowStart + cols;
                int gi = r * groups;
                for (int start = rowStart, end; start < rowEnd; start = end, gi++) {
                    // Not start + g: a group size near Integer.MAX_VALUE must not overflow.
                    end = start + Math.min(g, rowEnd - start);
                    float[] values = src;
                    if (addend != null) {
                        values = deq;
                        for (int i = start; i < end; i++) {
                            deq[i] = src[i] + addend[i];
                        }
                    }
                    boolean bySum = fitBySum(values, start, end, spec, p);
                    float scale = p.scale;
                    float zero = p.zero;
                    scales[gi] = scale;
                    zeros[gi] = zero;
                    if (bySum) {
                        // Two simple loops the JIT can vectorize.
                        for (int i = start; i < end; i++) {
                            deq[i] = codeBySum(values[i], scale, zero, maxq);
                        }
                        for (int i = start; i < end; i++) {
                            float q = deq[i];
                            codes[i] = (char) q;
                            deq[i] = (q - zero) * scale;
                        }
                    } else {
                        // A scale so small that v / scale overflows or loses its fraction: the spec's steps as written.
                        for (int i = start; i < end; i++) {
                            float q = code(values[i], scale, zero, maxq);
                            codes[i] = (char) q;
                            deq[i] = (q - zero) * scale;
                        }
                    }
                }
            }
        }

        QuantizedMatrix matrix() {
            return new QuantizedMatrix(spec, rows, cols, codes, scales, zeros, deq);
        }
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
        if (src != dst || srcOffset != dstOffset) {
            System.arraycopy(src, srcOffset, dst, dstOffset, rows * cols);
        }
        fakeQuantizeInPlace(null, 0, dst, dstOffset, rows, cols, spec);
    }

    /**
     * Fake quantization of a sum: {@code dst = fq(base + delta)} for the {@code rows x cols} blocks at
     * the given offsets, added in float32 element by element ({@code base[i] + delta[i]}, as the
     * merge adds {@code W + s B A}). {@code dst} may be {@code delta} (in place), never {@code base}.
     * The rows are shared among up to {@code threads} threads; each row's result is the same on any
     * number of them.
     */
    public static void fakeQuantizeSum(float[] base, int baseOffset, float[] delta, int deltaOffset,
            float[] dst, int dstOffset, int rows, int cols, QuantSpec spec, int threads) {
        checkShape(base, baseOffset, rows, cols);
        checkShape(delta, deltaOffset, rows, cols);
        checkShape(dst, dstOffset, rows, cols);
        if (dst == base) {
            // delta is copied to dst before base is read.
            throw new IllegalArgumentException("dst must not be base's array");
        }
        if (delta != dst || deltaOffset != dstOffset) {
            System.arraycopy(delta, deltaOffset, dst, dstOffset, rows * cols);
        }
        Parallel.forRows(0, rows, cols, threads, (from, to) -> fakeQuantizeInPlace(base, baseOffset + from * cols,
                dst, dstOffset + from * cols, to - from, cols, spec));
    }

    /**
     * {@code m = fq(m + addend)}, or {@code fq(m)} when {@code addend} is null, for the block at
     * {@code offset}. Each group takes three loops of one array index each (add, range, quantize),
     * the shapes the JIT compiles best: fake quantization of 4096 x 4096 (group 128, one thread) took
     * 31-33 ms, against 70-82 ms for the former per-element {@code fit} and {@code code}.
     */
    private static void fakeQuantizeInPlace(float[] addend, int addendOffset, float[] m, int offset,
            int rows, int cols, QuantSpec spec) {
        float maxq = spec.maxq();
        int g = spec.groupSize();
        int toAddend = addendOffset - offset;
        GroupParams p = new GroupParams();
        for (int r = 0; r < rows; r++) {
            int rowStart = offset + r * cols;
            int rowEnd = rowStart + cols;
            for (int start = rowStart, end; start < rowEnd; start = end) {
                // Not start + g: a group size near Integer.MAX_VALUE must not overflow.
                end = start + Math.min(g, rowEnd - start);
                if (addend != null) {
                    for (int i = start; i < end; i++) {
                        m[i] += addend[i + toAddend];
                    }
                }
                boolean bySum = fitBySum(m, start, end, spec, p);
                float scale = p.scale;
                float zero = p.zero;
                if (bySum) {
                    for (int i = start; i < end; i++) {
                        m[i] = (codeBySum(m[i], scale, zero, maxq) - zero) * scale;
                    }
                } else {
                    for (int i = start; i < end; i++) {
                        m[i] = (code(m[i], scale, zero, maxq) - zero) * scale;
                    }
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
        params(lo, hi, spec, p);
    }

    /** Scale and zero point from a group's {@code lo = min(0, min v)} and {@code hi = max(0, max v)}. */
    static void params(float lo, float hi, QuantSpec spec, GroupParams p) {
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

    /**
     * {@link #fit} in a loop the JIT vectorizes (Math.min and Math.max rather than comparisons), and
     * whether {@link #codeBySum} is exact for the group. Math.min spreads a NaN where fit's range
     * skips it, so a group with a NaN is fitted again by fit and quantized by the spec's steps as
     * written; a -0 bound (Math.min's, never fit's) gives the same scale and zero point.
     */
    private static boolean fitBySum(float[] v, int start, int end, QuantSpec spec, GroupParams p) {
        float lo = 0f;
        float hi = 0f;
        for (int i = start; i < end; i++) {
            lo = Math.min(lo, v[i]);
            hi = Math.max(hi, v[i]);
        }
        if (Float.isNaN(lo) || Float.isNaN(hi)) {
            fit(v, start, end, spec, p);
            return false;
        }
        params(lo, hi, spec, p);
        return roundsBySum(lo, hi, p.scale);
    }

    /**
     * Whether {@link #codeBySum} is {@link #code} for every value of a group with this range: every
     * {@code |v / scale|} is then below {@link #ROUNDING_LIMIT}, because division rounds monotonically.
     */
    private static boolean roundsBySum(float lo, float hi, float scale) {
        return Math.max(0f - lo, hi) / scale < ROUNDING_LIMIT;
    }

    /** {@link #code} with rint as the sum trick of {@link #ROUNDER}: no call, so the JIT can vectorize its loops. */
    private static float codeBySum(float v, float scale, float zero, float maxq) {
        return Math.max(0f, Math.min(maxq, ((v / scale + ROUNDER) - ROUNDER) + zero));
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
