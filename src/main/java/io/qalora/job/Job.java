package io.qalora.job;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A training job as stored: what it trains, how, and how far it got. */
public record Job(UUID id, JobStatus status, UUID layerId, UUID trainingDatasetId, UUID validationDatasetId,
        Hyperparameters hyperparameters, boolean compareWithPtq, Map<String, String> metadata, Progress progress,
        Double trainLoss, Double validationLoss, JobError error, int attempts, Instant createdAt, Instant startedAt,
        Instant finishedAt) {

    public Job {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        progress = progress == null ? Progress.NONE : progress;
    }
}
