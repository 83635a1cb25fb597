package io.qalora.lora;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantStats;

/**
 * {@link QuantizationTarget#LORA_FACTORS}: {@code y = x W^T + b + s (x fq(A)^T) fq(B)^T}, with
 * {@code A} grouped along {@code in} and {@code B} along {@code r}; without quantization it is plain
 * LoRA, which {@link MergedWeightsPath} also runs then.
 */
final class LoraFactorsPath extends StandardLoraPath {

    private final float[] quantizedA;
    private final float[] quantizedB;

    LoraFactorsPath(AdapterState state) {
        super(state);
        this.quantizedA = new float[s.rank * s.in];
        this.quantizedB = new float[s.out * s.rank];
    }

    @Override
    public void forward(float[] input, BatchBuffers buf, float[] baseOutput, boolean quantize, float[] y) {
        // The factors as this forward uses them, fq'd or not; backward reuses them (the STE).
        // A on one thread and B on another: 0.19 and 0.34 ms at rank 16 of a 4096-wide layer.
        KernelThreads.run(NativeBlas.threads(), 2, p -> {
            if (p == 0) {
                s.factorA.load(quantize ? s.fakeQuantize(s.loraA, s.rank, s.in, quantizedA) : s.loraA);
            } else {
                s.factorB.load(quantize ? s.fakeQuantize(s.loraB, s.out, s.rank, quantizedB) : s.loraB);
            }
        });
        buf.projectInput(s.factorA);
        s.adaptedOutput(buf, s.nativeWeight, baseOutput, y);
    }

    /** dB = s dy^T h, dh = s dy B_f, dA = dh^T x, with h = x A_f^T from the forward; dx = dy W + dh A_f. */
    @Override
    public float[] backward(BatchBuffers buf, float[] dy, boolean inputGradient) {
        s.factorAndBaseGradients(buf, dy, buf.x);
        if (!inputGradient) {
            return null;
        }
        NativeMatrix dx = buf.dx();
        dx.gemm(buf.dy, false, s.nativeWeight, false, 1f, 0f);
        dx.gemm(buf.dh, false, s.factorA, false, 1f, 1f);
        return dx.toArray();
    }

    /** Error of quantizing A and B, as this target deploys them. */
    @Override
    public QuantStats quantizationStats() {
        return GroupQuantizer.stats(s.loraA, s.rank, s.in, s.quant)
                .combine(GroupQuantizer.stats(s.loraB, s.out, s.rank, s.quant));
    }
}
