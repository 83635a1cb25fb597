package io.qalora.job;

import java.util.UUID;

/** A stored byte stream: its id, SHA-256 (lower-case hex) and length. */
public record BlobRef(UUID id, String sha256, long sizeBytes) {
}
