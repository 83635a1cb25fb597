package io.qalora.job;

import io.qalora.lora.Metrics;
import io.qalora.quant.QuantErrorStats;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;

/**
 * What a succeeded job produced, besides the merged layer and adapter files.
 *
 * @param quantization error of quantizing the LoRA factors and the merged weights
 * @param evaluation the deployed layer against the alternatives, on the validation set (or the training set);
 *     null for a merge, which has no data to evaluate on
 * @param mergedLayer how the merged layer is quantized
 * @param provenance where the result came from
 */
public record JobResult(Quantization quantization, Evaluation evaluation, MergedLayer mergedLayer,
        Provenance provenance) {

    /** {@code mergedWeightsQuality} is null in results from before it existed. */
    public record Quantization(QuantStats loraFactors, QuantStats mergedWeights, Quality mergedWeightsQuality) {
    }

    /**
     * The merged weights' quantization in the papers' measures: relative Frobenius error, SQNR in
     * dB (null when the quantization is exact, JSON having no infinity) and the clamped fraction.
     */
    public record Quality(double relativeError, Double sqnrDb, double clampedFraction) {

        public static Quality of(QuantErrorStats s) {
            return new Quality(s.relativeError(), Double.isFinite(s.sqnrDb()) ? s.sqnrDb() : null, s.clampedFraction());
        }
    }

    /**
     * {@code dataset} is "validation" or "training". Only with compareWithPtq: {@code ptqBaseline}
     * (plain LoRA, merged, RTN), {@code ptqGptqBaseline} (the same merged with GPTQ) and
     * {@code best}, the lowest loss among baseOnly, ptqBaseline, ptqGptqBaseline and quantized
     * (the job's deployed layer).
     */
    public record Evaluation(String dataset, Metrics fullPrecision, Metrics quantized, Metrics baseOnly,
            Metrics ptqBaseline, Metrics ptqGptqBaseline, String best) {
    }

    /** {@code quantizer} is how the merged weights were quantized; null in results from before it existed. */
    public record MergedLayer(int bits, int groupSize, boolean symmetric, int inFeatures, int outFeatures,
            QuantizerKind quantizer) {
    }

    /**
     * {@code adapterSha256} and {@code calibrationDatasetSha256} belong to merges of an uploaded
     * adapter (the stored adapter file, and the GPTQ calibration inputs); training has neither.
     */
    public record Provenance(String engineVersion, long seed, String layerSha256, String trainingDatasetSha256,
            String validationDatasetSha256, double durationSeconds, long steps, int blasThreads, String adapterSha256,
            String calibrationDatasetSha256) {

        /** A training run's provenance. */
        public Provenance(String engineVersion, long seed, String layerSha256, String trainingDatasetSha256,
                String validationDatasetSha256, double durationSeconds, long steps, int blasThreads) {
            this(engineVersion, seed, layerSha256, trainingDatasetSha256, validationDatasetSha256, durationSeconds,
                    steps, blasThreads, null, null);
        }
    }
}
