package io.qalora.job;

import java.time.Instant;
import java.util.UUID;

/** An uploaded base layer {@code W [out, in]}, {@code b [out]}, stored as safetensors in a blob. */
public record LayerInfo(UUID id, String name, int inFeatures, int outFeatures, boolean hasBias, BlobRef blob,
        Instant createdAt) {
}
