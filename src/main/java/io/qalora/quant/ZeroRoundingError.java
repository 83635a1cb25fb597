package io.qalora.quant;

import static io.qalora.InvalidParameterException.require;

/**
 * What rounding a quantized matrix's float zero points to integers adds to its weights
 * ({@link QuantizedMatrix#withIntegerZeros()}), in double:
 *
 * <pre>
 * relativeError = ||deq_int - deq_float||_F / ||deq_float||_F
 * maxAbsError   = max |deq_int - deq_float|
 * clampedZeros  = #{ zero : rint(zero) outside [0, maxq] }
 * </pre>
 *
 * <p>Within a group every weight moves by the same {@code (zero - rint(zero)) * scale}, at most
 * half a scale unless the zero was clamped.
 *
 * @param relativeError relative Frobenius error of the integer-zero weights against the float-zero ones
 * @param maxAbsError largest absolute change of a weight
 * @param clampedZeros zero points whose rounded value left {@code [0, maxq]} and was clamped
 * @param zeros zero points (groups)
 */
public record ZeroRoundingError(double relativeError, double maxAbsError, long clampedZeros, long zeros) {

    /** The error of {@code floatZeros.withIntegerZeros()} against {@code floatZeros}. */
    public static ZeroRoundingError of(QuantizedMatrix floatZeros) {
        require(floatZeros != null, "floatZeros", "must not be null");
        QuantizedMatrix rounded = floatZeros.withIntegerZeros();
        float[] before = floatZeros.dequantized();
        float[] after = rounded.dequantized();
        double signal = 0;
        double noise = 0;
        double max = 0;
        for (int i = 0; i < before.length; i++) {
            double diff = (double) after[i] - before[i];
            signal += (double) before[i] * before[i];
            noise += diff * diff;
            max = Math.max(max, Math.abs(diff));
        }
        float maxq = floatZeros.spec().maxq();
        long clamped = 0;
        for (float z : floatZeros.zeros()) {
            float r = GroupQuantizer.rint(z);
            if (r < 0f || r > maxq) {
                clamped++;
            }
        }
        double relative = noise == 0 ? 0 : Math.sqrt(noise) / Math.sqrt(signal);
        return new ZeroRoundingError(relative, max, clamped, floatZeros.zeros().length);
    }
}
