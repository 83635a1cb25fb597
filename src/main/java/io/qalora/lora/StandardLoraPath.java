package io.qalora.lora;

import io.qalora.quant.GptqQuantizer;
import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;

/**
 * The targets with a standard LoRA factor {@code A [r, in]}, whose merge quantizes
 * {@code W' = W + s B A} anew: {@link LoraFactorsPath} and {@link MergedWeightsPath}.
 */
abstract class StandardLoraPath implements TargetPath {

    final AdapterState s;

    StandardLoraPath(AdapterState state) {
        this.s = state;
    }

    @Override
    public NativeMatrix forwardBase(boolean quantize) {
        return s.nativeWeight;
    }

    /** {@code W + s B A} in full precision. */
    @Override
    public float[] mergedWeight() {
        return MergedLayer.mergedWeight(s.weight, s.loraA, s.loraB, s.scaling, s.out, s.in, s.rank);
    }

    /** {@code W'} quantized with RTN (the spec's group quantizer) or GPTQ calibrated on {@code calibration}. */
    @Override
    public MergedLayer merge(QuantizerKind quantizer, float[] calibration, int samples) {
        if (quantizer == QuantizerKind.RTN) {
            return MergedLayer.merge(s.weight, s.bias, s.loraA, s.loraB, s.scaling, s.out, s.in, s.rank, s.quant);
        }
        float[] bias = s.bias == null ? null : s.bias.clone();
        var gptq = GptqQuantizer.quantize(mergedWeight(), s.out, s.in, calibration, samples, s.quant);
        return new MergedLayer(gptq.matrix(), bias);
    }

    /** Error of quantizing the merged weight {@code W + s B A}. */
    @Override
    public QuantStats mergedWeightStats() {
        return GroupQuantizer.stats(mergedWeight(), s.out, s.in, s.quant);
    }

    @Override
    public void close() {
    }
}
