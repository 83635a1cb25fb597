package io.qalora.lora;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantStats;

/**
 * {@link QuantizationTarget#MERGED_WEIGHTS}: {@code y = x fq(W + s B A)^T + b}, so training sees
 * exactly the error of the merged layer it deploys. Without quantization it runs plain LoRA through
 * {@link LoraFactorsPath}, which reuses the frozen base product.
 */
final class MergedWeightsPath extends StandardLoraPath {

    private final LoraFactorsPath unquantized;
    private NativeMatrix merged;
    private boolean mergedForward;

    MergedWeightsPath(AdapterState state, LoraFactorsPath unquantized) {
        super(state);
        this.unquantized = unquantized;
    }

    @Override
    public void forward(float[] input, BatchBuffers buf, float[] baseOutput, boolean quantize, float[] y) {
        mergedForward = quantize;
        if (!quantize) {
            unquantized.forward(input, buf, baseOutput, false, y);
            return;
        }
        s.factorA.load(s.loraA);
        s.factorB.load(s.loraB);
        buf.h.gemm(buf.x, false, s.factorA, true, 1f, 0f);
        // The merged path quantizes W + sBA as a whole, so the base product cannot be reused.
        mergeInto(merged(), true);
        buf.y.gemm(buf.x, false, merged, true, 1f, 0f);
        buf.y.store(y);
        s.addBias(y, buf.size);
    }

    /** As {@link LoraFactorsPath}, but dx = dy fq(W + s B A) after a quantized forward (the STE). */
    @Override
    public float[] backward(BatchBuffers buf, float[] dy, boolean inputGradient) {
        if (!mergedForward) {
            return unquantized.backward(buf, dy, inputGradient);
        }
        s.factorAndBaseGradients(buf, dy, buf.x);
        if (!inputGradient) {
            return null;
        }
        NativeMatrix dx = buf.dx();
        dx.gemm(buf.dy, false, merged, false, 1f, 0f);
        return dx.toArray();
    }

    /** Error of quantizing the merged weight, the one tensor this target quantizes. */
    @Override
    public QuantStats quantizationStats() {
        return mergedWeightStats();
    }

    private NativeMatrix merged() {
        if (merged == null) {
            merged = NativeMatrix.zeros(s.out, s.in);
        }
        return merged;
    }

    /** Fills {@code merged} with {@code W + s B A}, fake-quantized row by row when asked. */
    private void mergeInto(NativeMatrix target, boolean fakeQuantize) {
        s.scaledDelta(target);
        float[] row = new float[s.in];
        for (int o = 0; o < s.out; o++) {
            target.storeRow(o, row, 0);
            int base = o * s.in;
            for (int i = 0; i < s.in; i++) {
                row[i] += s.weight[base + i];
            }
            if (fakeQuantize) {
                GroupQuantizer.fakeQuantize(row, 0, row, 0, 1, s.in, s.quant);
            }
            target.loadRow(o, row, 0);
        }
    }

    @Override
    public void close() {
        if (merged != null) {
            merged.close();
        }
    }
}
