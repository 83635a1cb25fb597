package io.qalora.job;

import io.qalora.lora.Metrics;
import io.qalora.quant.QuantErrorStats;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;
import io.qalora.quant.ZeroRoundingError;

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

    /**
     * {@code mergedWeightsQuality} is null in results from before it existed; {@code integerZeroRounding}
     * is given only for POOLED_ZERO_POINT, whose merged zero points are floats.
     */
    public record Quantization(QuantStats loraFactors, QuantStats mergedWeights, Quality mergedWeightsQuality,
            IntegerZeroRounding integerZeroRounding) {

        /** Without an integer-zero report, as for every target but POOLED_ZERO_POINT. */
        public Quantization(QuantStats loraFactors, QuantStats mergedWeights, Quality mergedWeightsQuality) {
            this(loraFactors, mergedWeights, mergedWeightsQuality, null);
        }
    }

    /**
     * What rounding a POOLED_ZERO_POINT merge's float zero points to integers (rint, clamped to
     * {@code [0, 2^bits - 1]}) adds, as integer-only formats such as the GPTQ export need: the
     * integer-zero weights against the float-zero ones ({@link ZeroRoundingError}), and against the
     * full-precision {@code W + s B A}.
     */
    public record IntegerZeroRounding(double relativeError, double maxAbsError, long clampedZeros, long zeros,
            Quality quality) {

        public static IntegerZeroRounding of(ZeroRoundingError e, QuantErrorStats againstFullPrecision) {
            return new IntegerZeroRounding(e.relativeError(), e.maxAbsError(), e.clampedZeros(), e.zeros(),
                    Quality.of(againstFullPrecision));
        }
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
     * (the job's deployed layer). Only for POOLED_ZERO_POINT: {@code quantizedIntegerZeros}, the
     * deployed layer with its zero points rounded to integers.
     */
    public record Evaluation(String dataset, Metrics fullPrecision, Metrics quantized, Metrics baseOnly,
            Metrics ptqBaseline, Metrics ptqGptqBaseline, String best, Metrics quantizedIntegerZeros) {

        /** Without the integer-zero variant, as for every target but POOLED_ZERO_POINT. */
        public Evaluation(String dataset, Metrics fullPrecision, Metrics quantized, Metrics baseOnly,
                Metrics ptqBaseline, Metrics ptqGptqBaseline, String best) {
            this(dataset, fullPrecision, quantized, baseOnly, ptqBaseline, ptqGptqBaseline, best, null);
        }
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
