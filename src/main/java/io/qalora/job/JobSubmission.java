package io.qalora.job;

import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** A request for a training job, as the client sent it. */
public record JobSubmission(UUID layerId, UUID trainingDatasetId, UUID validationDatasetId,
        HyperparameterRequest hyperparameters, Boolean compareWithPtq, Map<String, String> metadata) {

    public JobSubmission {
        hyperparameters = hyperparameters == null ? HyperparameterRequest.DEFAULTS : hyperparameters;
        metadata = metadata == null ? Map.of() : metadata;
    }

    /** A fingerprint of the request's content, to tell a retry from a different request under one key. */
    String fingerprint() {
        return Sha256.hex((layerId + "|" + trainingDatasetId + "|" + validationDatasetId + "|" + hyperparameters + "|"
                + compareWithPtq + "|" + new TreeMap<>(metadata)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
