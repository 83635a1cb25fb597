package io.qalora.quant;

/**
 * What {@link GptqQuantizer} produced.
 *
 * @param matrix codes, scales and zeros {@code [out, groupsPerRow]} and the dequantized weight, laid
 *     out exactly as {@link GroupQuantizer#quantize} lays them out
 * @param dampingUsed the fraction of the mean Hessian diagonal added to the diagonal: 0.01, or a
 *     power-of-ten multiple of it when the Cholesky factorization needed more
 */
public record GptqResult(QuantizedMatrix matrix, double dampingUsed) {

    /** Whether the factorization needed more than the requested {@link GptqQuantizer#DEFAULT_DAMPING}. */
    public boolean dampingIncreased() {
        return dampingUsed > GptqQuantizer.DEFAULT_DAMPING;
    }
}
