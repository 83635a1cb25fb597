package io.qalora.job;

import java.time.Instant;
import java.util.UUID;

/**
 * An uploaded dataset, stored as safetensors ({@code inputs}, and {@code targets} or {@code labels})
 * in a blob.
 *
 * @param outFeatures width of the targets; null for labels
 * @param numClasses the largest label + 1; null for regression
 */
public record DatasetInfo(UUID id, String name, DatasetKind kind, int rows, int inFeatures, Integer outFeatures,
        Integer numClasses, BlobRef blob, Instant createdAt) {
}
