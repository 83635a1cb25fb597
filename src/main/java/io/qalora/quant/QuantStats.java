package io.qalora.quant;

/**
 * The error that quantization leaves in a set of tensors: {@code averageError = mean |v - fq(v)|}
 * and {@code maxError = max |v - fq(v)|} over all elements, {@code numGroups} summed.
 *
 * @param averageError mean absolute error, accumulated in double
 * @param maxError largest absolute error
 * @param numGroups quantization groups across the tensors
 * @param elements elements across the tensors
 */
public record QuantStats(double averageError, double maxError, long numGroups, long elements) {

    public static final QuantStats EMPTY = new QuantStats(0, 0, 0, 0);

    /** Statistics of the union of both tensor sets. */
    public QuantStats combine(QuantStats other) {
        long total = elements + other.elements;
        double avg = total == 0 ? 0
                : (averageError * elements + other.averageError * other.elements) / total;
        return new QuantStats(avg, Math.max(maxError, other.maxError), numGroups + other.numGroups, total);
    }

    /** Statistics of {@code original} against its dequantized form {@code deq}. */
    public static QuantStats of(float[] original, float[] deq, long numGroups) {
        if (original.length != deq.length) {
            throw new IllegalArgumentException("lengths differ: " + original.length + " vs " + deq.length);
        }
        double sum = 0;
        float max = 0;
        for (int i = 0; i < original.length; i++) {
            float err = Math.abs(original[i] - deq[i]);
            sum += err;
            max = Math.max(max, err);
        }
        return new QuantStats(original.length == 0 ? 0 : sum / original.length, max, numGroups, original.length);
    }
}
