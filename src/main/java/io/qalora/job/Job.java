package io.qalora.job;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * A job as stored: what it does to which layer, how, and how far it got. A training job has a
 * training dataset and hyperparameters and no {@code merge}; a merge job has only {@code merge}
 * (and neither datasets, hyperparameters nor losses).
 */
public record Job(UUID id, JobStatus status, UUID layerId, UUID trainingDatasetId, UUID validationDatasetId,
        Hyperparameters hyperparameters, boolean compareWithPtq, Map<String, String> metadata, Progress progress,
        Double trainLoss, Double validationLoss, JobError error, int attempts, Instant createdAt, Instant startedAt,
        Instant finishedAt, MergeSettings merge) {

    public Job {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        progress = progress == null ? Progress.NONE : progress;
    }

    /** A training job. */
    public Job(UUID id, JobStatus status, UUID layerId, UUID trainingDatasetId, UUID validationDatasetId,
            Hyperparameters hyperparameters, boolean compareWithPtq, Map<String, String> metadata, Progress progress,
            Double trainLoss, Double validationLoss, JobError error, int attempts, Instant createdAt, Instant startedAt,
            Instant finishedAt) {
        this(id, status, layerId, trainingDatasetId, validationDatasetId, hyperparameters, compareWithPtq, metadata,
                progress, trainLoss, validationLoss, error, attempts, createdAt, startedAt, finishedAt, null);
    }

    public JobKind kind() {
        return merge == null ? JobKind.TRAINING : JobKind.MERGE;
    }
}
