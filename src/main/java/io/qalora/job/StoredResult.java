package io.qalora.job;

/** A job's result as stored: the report, and the blobs of the merged layer and the adapter (safetensors). */
public record StoredResult(JobResult result, BlobRef merged, BlobRef adapter) {
}
