package io.qalora.store;

import io.qalora.job.BlobRef;
import io.qalora.job.Hyperparameters;
import io.qalora.job.Job;
import io.qalora.job.JobResult;
import io.qalora.job.JobStatus;
import io.qalora.job.MergeSettings;
import io.qalora.job.Progress;
import io.qalora.lora.Metrics;
import io.qalora.lora.LearningRateSchedule;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.TrainingConfig.OptimizerKind;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/** Values the storage contracts store and read back. */
final class StoreFixtures {

    /** A time with microseconds, which every database keeps exactly. */
    static final Instant T0 = Instant.parse("2025-03-01T10:15:30.123456Z");

    static final Hyperparameters HYPERPARAMETERS = new Hyperparameters(8, 16.0, false, 4, 32, true,
            QuantizationTarget.LORA_FACTORS, true, 10, true, 1e-3, 3, 32, OptimizerKind.ADAM, null,
            -4_611_686_018_427_387_904L, QuantizerKind.RTN, LearningRateSchedule.COSINE);

    static final Hyperparameters OTHER_HYPERPARAMETERS = new Hyperparameters(4, 4.0 / 3, true, 2, 64, false,
            QuantizationTarget.MERGED_WEIGHTS, false, 0, false, 0.05, 1, 7, OptimizerKind.SGD, 1.5, 42L, QuantizerKind.GPTQ,
            LearningRateSchedule.CONSTANT);

    private StoreFixtures() {
    }

    static Job queuedJob(Instant createdAt) {
        return queuedJob(createdAt, UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
    }

    static Job queuedJob(Instant createdAt, UUID layerId, UUID trainingId, UUID validationId) {
        return new Job(UUID.randomUUID(), JobStatus.QUEUED, layerId, trainingId, validationId, HYPERPARAMETERS, true,
                Map.of("experiment", "baseline", "owner", "ä-team ✓"), Progress.NONE, null, null, null, 0, createdAt,
                null, null);
    }

    /** A QUEUED merge job of an adapter stored in {@code adapter}, calibrating GPTQ on {@code calibration}. */
    static Job queuedMerge(Instant createdAt, UUID layerId, BlobRef adapter, UUID calibration) {
        return new Job(UUID.randomUUID(), JobStatus.QUEUED, layerId, null, null, null, false, Map.of("source", "hub"),
                Progress.NONE, null, null, null, 0, createdAt, null, null, new MergeSettings(adapter,
                        "model.layers.0.self_attn.q_proj", 4, 8.0, true, 3, 32, true, QuantizerKind.GPTQ, calibration));
    }

    /** A merge's result: no evaluation, the adapter's and the calibration's hashes in the provenance. */
    static JobResult mergeResult() {
        return new JobResult(
                new JobResult.Quantization(new QuantStats(0.001, 0.004, 12, 320),
                        new QuantStats(0.002, 0.0078, 64, 2048), new JobResult.Quality(0.0125, 38.1, 0.0)),
                null, new JobResult.MergedLayer(3, 32, true, 64, 32, QuantizerKind.GPTQ),
                new JobResult.Provenance("0.1.0", 0, sha256(new byte[] { 6 }), null, null, 0.02, 0, 2,
                        sha256(new byte[] { 7 }), sha256(new byte[] { 8 })));
    }

    /** A regression result: no accuracies, no PTQ baseline, trained without a validation set. */
    static JobResult regressionResult() {
        return new JobResult(
                new JobResult.Quantization(new QuantStats(0.0012, 0.0078125, 96, 3072),
                        new QuantStats(0.0031, 0.0156, 512, 16384), new JobResult.Quality(0.0213, 33.4, 0.0)),
                new JobResult.Evaluation("training", new Metrics(0.051, null), new Metrics(0.0533, null),
                        new Metrics(0.4, null), null, null, null),
                new JobResult.MergedLayer(4, 32, true, 128, 128, QuantizerKind.RTN),
                new JobResult.Provenance("0.1.0", 42, sha256(new byte[] { 1 }), sha256(new byte[] { 2 }), null, 12.5,
                        300, 4));
    }

    /** A classification result compared with post-training quantization. */
    static JobResult classificationResult() {
        return new JobResult(
                new JobResult.Quantization(new QuantStats(0.002, 0.01, 8, 256), QuantStats.EMPTY,
                        new JobResult.Quality(0, null, 0)),
                new JobResult.Evaluation("validation", new Metrics(0.31, 0.9), new Metrics(0.33, 0.875),
                        new Metrics(1.9, 0.25), new Metrics(0.52, 0.8125), new Metrics(0.5, 0.8125), "quantized"),
                new JobResult.MergedLayer(2, 64, false, 64, 10, QuantizerKind.GPTQ),
                new JobResult.Provenance("0.1.0", -7, sha256(new byte[] { 3 }), sha256(new byte[] { 4 }),
                        sha256(new byte[] { 5 }), 0.75, 18, 1));
    }

    static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** A stream that hands out at most {@code maxRead} bytes per read, as a network stream does. */
    static InputStream trickle(byte[] bytes, int maxRead) {
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, maxRead));
            }
        };
    }
}
