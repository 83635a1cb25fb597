package io.qalora.api;

import io.qalora.job.JobResult;
import io.qalora.lora.Metrics;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

@Schema(name = "JobResult", description = "What a succeeded job produced besides its files: the quantization "
        + "error, an evaluation of the deployed layer against the alternatives, how the merged layer is "
        + "quantized, and where the result came from.")
record JobResultResponse(
        @Schema(description = "The error quantization leaves.", requiredMode = RequiredMode.REQUIRED)
        Quantization quantization,
        @Schema(description = "Losses (and accuracy) of the layer variants; absent for a MERGE job, which has no "
                + "data to evaluate on.")
        Evaluation evaluation,
        @Schema(description = "How the merged layer is quantized.", requiredMode = RequiredMode.REQUIRED)
        MergedLayerInfo mergedLayer,
        @Schema(description = "The inputs and circumstances of the run.", requiredMode = RequiredMode.REQUIRED)
        Provenance provenance) {

    static JobResultResponse of(JobResult r) {
        JobResult.Quantization q = r.quantization();
        JobResult.Evaluation e = r.evaluation();
        JobResult.MergedLayer m = r.mergedLayer();
        JobResult.Provenance p = r.provenance();
        return new JobResultResponse(
                q == null ? null : new Quantization(QuantError.of(q.loraFactors()), QuantError.of(q.mergedWeights()),
                        Quality.of(q.mergedWeightsQuality()), IntegerZeroRounding.of(q.integerZeroRounding())),
                e == null ? null : new Evaluation(e.dataset(), Fit.of(e.fullPrecision()), Fit.of(e.quantized()),
                        Fit.of(e.baseOnly()), Fit.of(e.ptqBaseline()), Fit.of(e.ptqGptqBaseline()), e.best(),
                        Fit.of(e.quantizedIntegerZeros())),
                m == null ? null : new MergedLayerInfo(m.bits(), m.groupSize(), m.symmetric(), m.inFeatures(),
                        m.outFeatures(), m.quantizer()),
                p == null ? null : new Provenance(p.engineVersion(), p.seed(), p.layerSha256(),
                        p.trainingDatasetSha256(), p.validationDatasetSha256(), p.durationSeconds(), p.steps(),
                        p.blasThreads(), p.adapterSha256(), p.calibrationDatasetSha256()));
    }

    @Schema(name = "QuantizationReport", description = "Quantization error of the LoRA factors and of the merged "
            + "weights.")
    record Quantization(
            @Schema(description = "Over lora_A and lora_B, each quantized group-wise with the job's settings (for "
                    + "POOLED_ZERO_POINT lora_A is [r, inFeatures / groupSize]); only LORA_FACTORS deploys them so.")
            QuantError loraFactors,
            @Schema(description = "The deployed merged weight against the full-precision W + s B A. For "
                    + "POOLED_ZERO_POINT (A expanded over each group, W unquantized) this is the base's quantization "
                    + "error, which the float-zero merge carries unchanged.")
            QuantError mergedWeights,
            @Schema(description = "The merged weights' quantization in the papers' measures.")
            Quality mergedWeightsQuality,
            @Schema(description = "Only for POOLED_ZERO_POINT: what rounding the merged layer's float zero points "
                    + "to integers adds, as integer-only formats (format=gptq) need.")
            IntegerZeroRounding integerZeroRounding) {
    }

    @Schema(name = "IntegerZeroRounding", description = "The merged layer with its float zero points rounded "
            + "(rint, half to even) and clamped to [0, 2^bits - 1], codes and scales unchanged, against the "
            + "float-zero layer: relativeError = ||deq_int - deq_float||_F / ||deq_float||_F and maxAbsError = "
            + "max |deq_int - deq_float|; quality is the integer-zero weights against the full-precision W + s B A.")
    record IntegerZeroRounding(
            @Schema(description = "Relative Frobenius error against the float-zero weights.", example = "0.004",
                    requiredMode = RequiredMode.REQUIRED) double relativeError,
            @Schema(description = "Largest absolute change of a weight (at most half a scale unless a zero was "
                    + "clamped).", example = "0.0031", requiredMode = RequiredMode.REQUIRED) double maxAbsError,
            @Schema(description = "Zero points whose rounded value left [0, 2^bits - 1] and was clamped.",
                    example = "0", requiredMode = RequiredMode.REQUIRED) long clampedZeros,
            @Schema(description = "Zero points (groups).", example = "16", requiredMode = RequiredMode.REQUIRED)
            long zeros,
            @Schema(description = "The integer-zero weights in the papers' measures, against W + s B A.")
            Quality quality) {

        static IntegerZeroRounding of(JobResult.IntegerZeroRounding r) {
            return r == null ? null : new IntegerZeroRounding(r.relativeError(), r.maxAbsError(), r.clampedZeros(),
                    r.zeros(), Quality.of(r.quality()));
        }
    }

    @Schema(name = "QuantizationQuality", description = "relativeError = ||W - deq||_F / ||W||_F; sqnrDb = "
            + "10 log10(sum W^2 / sum (W - deq)^2); clampedFraction = share of values whose code was clamped "
            + "to 0 or maxq.")
    record Quality(
            @Schema(description = "Relative Frobenius error.", example = "0.031", requiredMode = RequiredMode.REQUIRED)
            double relativeError,
            @Schema(description = "Signal-to-quantization-noise ratio in dB; absent when the quantization is exact.",
                    example = "30.2") Double sqnrDb,
            @Schema(description = "Fraction of clamped values.", example = "0.0", requiredMode = RequiredMode.REQUIRED)
            double clampedFraction) {

        static Quality of(JobResult.Quality q) {
            return q == null ? null : new Quality(q.relativeError(), q.sqnrDb(), q.clampedFraction());
        }
    }

    @Schema(name = "QuantizationError", description = "averageError = mean |v - fq(v)| and maxError = "
            + "max |v - fq(v)| over all elements.")
    record QuantError(
            @Schema(description = "Mean absolute error.", example = "0.0041", requiredMode = RequiredMode.REQUIRED)
            double averageError,
            @Schema(description = "Largest absolute error.", example = "0.0123", requiredMode = RequiredMode.REQUIRED)
            double maxError,
            @Schema(description = "Quantization groups.", example = "4", requiredMode = RequiredMode.REQUIRED)
            long numGroups,
            @Schema(description = "Elements.", example = "8", requiredMode = RequiredMode.REQUIRED) long elements) {

        static QuantError of(QuantStats s) {
            return s == null ? null : new QuantError(s.averageError(), s.maxError(), s.numGroups(), s.elements());
        }
    }

    @Schema(name = "EvaluationReport", description = "The layer variants on the evaluation set.")
    record Evaluation(
            @Schema(description = "\"validation\", or \"training\" when the job had no validation dataset.",
                    example = "validation", requiredMode = RequiredMode.REQUIRED) String dataset,
            @Schema(description = "Base layer plus the full-precision adapter.") Fit fullPrecision,
            @Schema(description = "The deployed layer: merged and quantized (for POOLED_ZERO_POINT the quantized "
                    + "base with float zero points).") Fit quantized,
            @Schema(description = "The base layer alone.") Fit baseOnly,
            @Schema(description = "Plain LoRA trained with the same settings and seed, merged, then quantized "
                    + "round-to-nearest: LoRA->RTN (only with compareWithPtq).") Fit ptqBaseline,
            @Schema(description = "The same plain LoRA merged and quantized with GPTQ on the training inputs: "
                    + "LoRA->GPTQ (only with compareWithPtq).") Fit ptqGptqBaseline,
            @Schema(description = "Which of baseOnly, ptqBaseline, ptqGptqBaseline and quantized (the job's "
                    + "deployed layer) has the lowest loss (only with compareWithPtq).", example = "quantized")
            String best,
            @Schema(description = "The deployed layer with its zero points rounded to integers, as format=gptq "
                    + "exports it (only for POOLED_ZERO_POINT).") Fit quantizedIntegerZeros) {
    }

    @Schema(name = "Metrics", description = "Mean loss as in training (MSE or cross-entropy); accuracy of the "
            + "arg-max output for classification.")
    record Fit(
            @Schema(description = "Mean loss; absent when it is not a finite number.", example = "0.0131")
            Double loss,
            @Schema(description = "Fraction of rows classified right (classification only).", example = "0.875")
            Double accuracy) {

        static Fit of(Metrics m) {
            return m == null ? null : new Fit(Numbers.finite(m.loss()), Numbers.finite(m.accuracy()));
        }
    }

    @Schema(name = "MergedLayerInfo", description = "The quantization of the merged layer.")
    record MergedLayerInfo(
            @Schema(description = "Bits per code.", example = "4", requiredMode = RequiredMode.REQUIRED) int bits,
            @Schema(description = "Values per group.", example = "2", requiredMode = RequiredMode.REQUIRED)
            int groupSize,
            @Schema(description = "Symmetric quantization.", example = "false", requiredMode = RequiredMode.REQUIRED)
            boolean symmetric,
            @Schema(description = "Columns.", example = "4", requiredMode = RequiredMode.REQUIRED) int inFeatures,
            @Schema(description = "Rows.", example = "2", requiredMode = RequiredMode.REQUIRED) int outFeatures,
            @Schema(description = "How the merged weights were quantized: RTN or GPTQ.", example = "RTN")
            QuantizerKind quantizer) {
    }

    @Schema(name = "Provenance", description = "Where a result came from, so it can be reproduced and checked.")
    record Provenance(
            @Schema(description = "The engine's version.", example = "0.1.0") String engineVersion,
            @Schema(description = "The seed the run used (0 for a merge, whose calibration rows beyond 1024 are "
                    + "sampled with seed 0).", example = "42", requiredMode = RequiredMode.REQUIRED)
            long seed,
            @Schema(description = "SHA-256 of the layer file.",
                    example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") String layerSha256,
            @Schema(description = "SHA-256 of the training dataset file (TRAINING only).",
                    example = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
            String trainingDatasetSha256,
            @Schema(description = "SHA-256 of the validation dataset file, if any.",
                    example = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9")
            String validationDatasetSha256,
            @Schema(description = "Wall-clock seconds of the run.", example = "3.2",
                    requiredMode = RequiredMode.REQUIRED) double durationSeconds,
            @Schema(description = "Optimizer steps taken (0 for a merge).", example = "100",
                    requiredMode = RequiredMode.REQUIRED)
            long steps,
            @Schema(description = "BLAS threads the run used.", example = "4", requiredMode = RequiredMode.REQUIRED)
            int blasThreads,
            @Schema(description = "SHA-256 of the merged adapter file (MERGE only).",
                    example = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d")
            String adapterSha256,
            @Schema(description = "SHA-256 of the dataset GPTQ calibrated on (MERGE with GPTQ only; a TRAINING "
                    + "job calibrates on its training dataset).",
                    example = "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6")
            String calibrationDatasetSha256) {
    }
}
