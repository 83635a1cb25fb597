package io.qalora.api;

import io.qalora.job.Hyperparameters;
import io.qalora.job.Job;
import io.qalora.job.JobError;
import io.qalora.job.JobKind;
import io.qalora.job.JobStatus;
import io.qalora.job.MergeSettings;
import io.qalora.job.Progress;
import io.qalora.lora.LearningRateSchedule;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.TrainingConfig.OptimizerKind;
import io.qalora.quant.QuantizerKind;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

@Schema(name = "Job", description = "A job, TRAINING or MERGE: QUEUED, then RUNNING, then SUCCEEDED, FAILED or "
        + "CANCELLED (a RUNNING job whose worker stopped goes back to QUEUED). A merge done within its request is "
        + "SUCCEEDED from the start.")
record JobResponse(
        @Schema(description = "The job's id.", example = "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b",
                requiredMode = RequiredMode.REQUIRED) UUID id,
        @Schema(description = "Where the job is in its life.", example = "QUEUED",
                requiredMode = RequiredMode.REQUIRED) JobStatus status,
        @Schema(description = "TRAINING (POST /v1/jobs) or MERGE (POST /v1/merges).", example = "TRAINING",
                requiredMode = RequiredMode.REQUIRED) JobKind kind,
        @Schema(description = "The base layer.", example = "0d9f6c52-3b7e-4a51-9c41-7f1f0a6f4a21",
                requiredMode = RequiredMode.REQUIRED) UUID layerId,
        @Schema(description = "The dataset trained on (TRAINING only).",
                example = "5b0e2f7a-9c3d-4e8f-a1b2-c3d4e5f60718") UUID trainingDatasetId,
        @Schema(description = "The dataset evaluated on, if one was given.",
                example = "7c1d3e5f-2a4b-4c6d-8e0f-1a2b3c4d5e6f") UUID validationDatasetId,
        @Schema(description = "The settings with every default filled in and the seed drawn (TRAINING only).")
        ResolvedHyperparameters hyperparameters,
        @Schema(description = "Whether the LoRA + post-training-quantization baseline is trained too.",
                example = "true", requiredMode = RequiredMode.REQUIRED) boolean compareWithPtq,
        @Schema(description = "The labels given at submission.", example = "{\"experiment\": \"demo\"}",
                requiredMode = RequiredMode.REQUIRED) Map<String, String> metadata,
        @Schema(description = "How far training got.", requiredMode = RequiredMode.REQUIRED) JobProgress progress,
        @Schema(description = "The latest training loss (of the last step while running, the final one after).",
                example = "0.0123") Double trainLoss,
        @Schema(description = "The loss of the deployed (merged, quantized) layer on the evaluation set, once "
                + "SUCCEEDED.", example = "0.0131") Double validationLoss,
        @Schema(description = "Why the job FAILED or was CANCELLED.") Failure error,
        @Schema(description = "How often a worker claimed the job.", example = "1",
                requiredMode = RequiredMode.REQUIRED) int attempts,
        @Schema(description = "When the job was submitted (UTC).", example = "2025-01-31T12:00:00.123456Z",
                requiredMode = RequiredMode.REQUIRED) Instant createdAt,
        @Schema(description = "When a worker last started it.", example = "2025-01-31T12:00:01.5Z")
        Instant startedAt,
        @Schema(description = "When it reached SUCCEEDED, FAILED or CANCELLED.", example = "2025-01-31T12:00:09Z")
        Instant finishedAt,
        @Schema(description = "What a MERGE job merges and how (MERGE only).") Merge merge) {

    static JobResponse of(Job job) {
        Progress p = job.progress();
        JobError e = job.error();
        return new JobResponse(job.id(), job.status(), job.kind(), job.layerId(), job.trainingDatasetId(),
                job.validationDatasetId(), ResolvedHyperparameters.of(job.hyperparameters()), job.compareWithPtq(),
                job.metadata(), new JobProgress(p.step(), p.totalSteps(), p.epoch()), Numbers.finite(job.trainLoss()),
                Numbers.finite(job.validationLoss()), e == null ? null : new Failure(e.code(), e.message()),
                job.attempts(), job.createdAt(), job.startedAt(), job.finishedAt(), Merge.of(job.merge()));
    }

    @Schema(name = "MergeSettings", description = "A MERGE job's adapter and quantization, every default resolved.")
    record Merge(
            @Schema(description = "The module the adapter was read from (PEFT uploads only).",
                    example = "model.layers.0.self_attn.q_proj") String module,
            @Schema(description = "LoRA rank r.", example = "2", requiredMode = RequiredMode.REQUIRED) int rank,
            @Schema(description = "LoRA alpha; a request's absent or non-positive alpha is r.", example = "4.0",
                    requiredMode = RequiredMode.REQUIRED) double alpha,
            @Schema(description = "Whether the scaling is alpha / sqrt(r) rather than alpha / r.", example = "false",
                    requiredMode = RequiredMode.REQUIRED) boolean rsLora,
            @Schema(description = "s, by which B A is scaled: alpha / r, or alpha / sqrt(r) with rsLora (float32).",
                    example = "2.0", requiredMode = RequiredMode.REQUIRED) float scaling,
            @Schema(description = "Bits per code of the merged weight.", example = "4",
                    requiredMode = RequiredMode.REQUIRED) int quantizationBits,
            @Schema(description = "Values per quantization group.", example = "64",
                    requiredMode = RequiredMode.REQUIRED) int groupSize,
            @Schema(description = "Symmetric rather than asymmetric quantization.", example = "false",
                    requiredMode = RequiredMode.REQUIRED) boolean symmetric,
            @Schema(description = "RTN or GPTQ.", example = "RTN", requiredMode = RequiredMode.REQUIRED)
            QuantizerKind quantizer,
            @Schema(description = "The dataset whose inputs GPTQ calibrated on (GPTQ only).",
                    example = "5b0e2f7a-9c3d-4e8f-a1b2-c3d4e5f60718") UUID calibrationDatasetId,
            @Schema(description = "SHA-256 of the stored adapter file (GET /v1/jobs/{id}/adapter).",
                    example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    requiredMode = RequiredMode.REQUIRED) String adapterSha256) {

        static Merge of(MergeSettings m) {
            return m == null ? null : new Merge(m.module(), m.rank(), m.alpha(), m.rsLora(), m.scaling(),
                    m.quantizationBits(), m.groupSize(), m.symmetric(), m.quantizer(), m.calibrationDatasetId(),
                    m.adapter().sha256());
        }
    }

    @Schema(name = "JobProgress", description = "Steps done of all, and the current epoch.")
    record JobProgress(
            @Schema(description = "Optimizer steps done.", example = "120", requiredMode = RequiredMode.REQUIRED)
            long step,
            @Schema(description = "Steps of the whole run (0 until it started).", example = "400",
                    requiredMode = RequiredMode.REQUIRED) long totalSteps,
            @Schema(description = "The current epoch, from 1; 0 before training started.", example = "2",
                    requiredMode = RequiredMode.REQUIRED) int epoch) {
    }

    @Schema(name = "JobError", description = "Why a job failed or stopped.")
    record Failure(
            @Schema(description = "A stable code: TRAINING_DIVERGED, INVALID_INPUT, CORRUPT_DATA, CANCELLED, "
                    + "LEASE_EXPIRED or INTERNAL.", example = "TRAINING_DIVERGED",
                    requiredMode = RequiredMode.REQUIRED) String code,
            @Schema(description = "A sentence for people.", example = "loss became NaN at step 17",
                    requiredMode = RequiredMode.REQUIRED) String message) {
    }

    @Schema(name = "Hyperparameters", description = "The settings a job runs with, every default resolved.")
    record ResolvedHyperparameters(
            @Schema(description = "LoRA rank r.", example = "2", requiredMode = RequiredMode.REQUIRED) int rank,
            @Schema(description = "LoRA alpha.", example = "2.0", requiredMode = RequiredMode.REQUIRED) double alpha,
            @Schema(description = "Whether the scaling is alpha / sqrt(r) rather than alpha / r.", example = "false",
                    requiredMode = RequiredMode.REQUIRED) boolean rsLora,
            @Schema(description = "Bits per quantized value.", example = "4", requiredMode = RequiredMode.REQUIRED)
            int quantizationBits,
            @Schema(description = "Values per quantization group.", example = "2",
                    requiredMode = RequiredMode.REQUIRED) int groupSize,
            @Schema(description = "Symmetric rather than asymmetric quantization.", example = "false",
                    requiredMode = RequiredMode.REQUIRED) boolean symmetric,
            @Schema(description = "Where fake quantization sits in training.", example = "MERGED_WEIGHTS",
                    requiredMode = RequiredMode.REQUIRED) QuantizationTarget quantizationTarget,
            @Schema(description = "Whether training quantizes.", example = "true",
                    requiredMode = RequiredMode.REQUIRED) boolean quantizationEnabled,
            @Schema(description = "Full-precision steps before quantization starts.", example = "0",
                    requiredMode = RequiredMode.REQUIRED) int quantizationWarmupSteps,
            @Schema(description = "Whether W stays frozen.", example = "true", requiredMode = RequiredMode.REQUIRED)
            boolean freezeBaseLayer,
            @Schema(description = "Learning rate.", example = "0.05", requiredMode = RequiredMode.REQUIRED)
            double learningRate,
            @Schema(description = "Passes over the training set.", example = "50",
                    requiredMode = RequiredMode.REQUIRED) int epochs,
            @Schema(description = "Examples per step.", example = "4", requiredMode = RequiredMode.REQUIRED)
            int batchSize,
            @Schema(description = "The optimizer.", example = "ADAM", requiredMode = RequiredMode.REQUIRED)
            OptimizerKind optimizer,
            @Schema(description = "Gradient clipping norm; absent for none.", example = "1.0") Double maxGradNorm,
            @Schema(description = "The seed, below 2^53.", example = "42", requiredMode = RequiredMode.REQUIRED)
            long seed,
            @Schema(description = "How the merged weight is quantized: RTN or GPTQ.", example = "RTN",
                    requiredMode = RequiredMode.REQUIRED) QuantizerKind mergeQuantizer,
            @Schema(description = "How the learning rate changed over the run: CONSTANT or COSINE.",
                    example = "COSINE", requiredMode = RequiredMode.REQUIRED)
            LearningRateSchedule learningRateSchedule) {

        static ResolvedHyperparameters of(Hyperparameters h) {
            return h == null ? null : new ResolvedHyperparameters(h.rank(), h.alpha(), h.rsLora(), h.quantizationBits(), h.groupSize(),
                    h.symmetric(), h.quantizationTarget(), h.quantizationEnabled(), h.quantizationWarmupSteps(),
                    h.freezeBaseLayer(), h.learningRate(), h.epochs(), h.batchSize(), h.optimizer(), h.maxGradNorm(),
                    h.seed(), h.mergeQuantizer(), h.learningRateSchedule());
        }
    }
}
