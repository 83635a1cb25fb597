package io.qalora.quant;

import static io.qalora.InvalidParameterException.require;

/**
 * How far a quantized matrix is from the original, in the measures the GPTQ and QA-LoRA papers
 * report, accumulated in double:
 *
 * <pre>
 * relativeError   = ||W - deq||_F / ||W||_F
 * sqnrDb          = 10 log10( sum W^2 / sum (W - deq)^2 )
 * clampedFraction = #{ v : rint(v / scale) + zero outside [0, maxq] } / #elements   (float32, the spec's step)
 * </pre>
 *
 * <p>An exact quantization has no noise, and its SQNR is {@code +Infinity}, the IEEE value of the
 * limit; {@link #exact()} says so without comparing doubles. A JSON layer must map it (JSON has
 * no infinity), for example to {@code null}. With an all-zero {@code W} and a non-zero {@code deq}
 * the relative error is {@code +Infinity} and the SQNR {@code -Infinity}; both zero gives 0 and
 * {@code +Infinity}.
 *
 * @param relativeError relative Frobenius error
 * @param sqnrDb signal-to-quantization-noise ratio in decibels
 * @param clampedFraction share of the original values that the group's range did not reach, so
 *     their code was clamped to 0 or maxq. For GPTQ it is measured on the original values, while
 *     GPTQ clamped the error-updated ones, so it says how well the final grid covers {@code W}.
 * @param elements values compared
 */
public record QuantErrorStats(double relativeError, double sqnrDb, double clampedFraction, long elements) {

    /** Statistics of {@code q} against the {@code original [rows, cols]} it was quantized from. */
    public static QuantErrorStats of(float[] original, QuantizedMatrix q) {
        require(original != null && q != null, "original", "must not be null");
        int rows = q.rows();
        int cols = q.cols();
        require(original.length == (long) rows * cols, "original",
                "has " + original.length + " values but the quantized matrix is " + rows + "x" + cols);
        int groups = q.groupsPerRow();
        int g = q.spec().groupSize();
        float maxq = q.spec().maxq();
        float[] deq = q.dequantized();
        double signal = 0;
        double noise = 0;
        long clamped = 0;
        float[] scales = q.scales();
        float[] zeros = q.zeros();
        // Group by group, each group's scale and zero read once; the sums still run element by
        // element in row-major order, so the doubles come out exactly as from a plain loop.
        for (int r = 0; r < rows; r++) {
            int rowStart = r * cols;
            int rowEnd = rowStart + cols;
            int gi = r * groups;
            for (int start = rowStart, end; start < rowEnd; start = end, gi++) {
                end = start + Math.min(g, rowEnd - start);
                float scale = scales[gi];
                float zero = zeros[gi];
                for (int i = start; i < end; i++) {
                    double v = original[i];
                    double diff = v - deq[i];
                    signal += v * v;
                    noise += diff * diff;
                    float raw = GroupQuantizer.rint(original[i] / scale) + zero;
                    if (raw < 0f || raw > maxq) {
                        clamped++;
                    }
                }
            }
        }
        long n = (long) rows * cols;
        double relative = noise == 0 ? 0 : Math.sqrt(noise) / Math.sqrt(signal);
        double sqnr = noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
        return new QuantErrorStats(relative, sqnr, n == 0 ? 0 : (double) clamped / n, n);
    }

    /** Whether the dequantized matrix equals the original exactly (infinite SQNR). */
    public boolean exact() {
        return sqnrDb == Double.POSITIVE_INFINITY;
    }
}
