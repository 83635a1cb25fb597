package io.qalora.api;

import static org.assertj.core.api.Assertions.assertThat;

/** Layers and datasets uploaded through the API, for tests about jobs. */
final class Fixture {

    private Fixture() {
    }

    /** A layer [out, in] with bias; returns its id. */
    static String layer(HttpApi api, int out, int in) {
        HttpApi.Answer a = api.postBytes("/v1/layers", "application/octet-stream", Payloads.layer(out, in, true));
        assertThat(a.status()).as(a.text()).isEqualTo(201);
        return a.json().get("id").asString();
    }

    static String regression(HttpApi api, int rows, int in, int out) {
        HttpApi.Answer a = api.postBytes("/v1/datasets", "application/octet-stream", Payloads.regression(rows, in, out));
        assertThat(a.status()).as(a.text()).isEqualTo(201);
        return a.json().get("id").asString();
    }

    static String classification(HttpApi api, int in, long... labels) {
        HttpApi.Answer a = api.postBytes("/v1/datasets", "application/octet-stream", Payloads.classification(in, labels));
        assertThat(a.status()).as(a.text()).isEqualTo(201);
        return a.json().get("id").asString();
    }

    /** A job body for the layer and dataset with the given hyperparameters object (JSON), or none. */
    static String job(String layerId, String datasetId, String hyperparameters) {
        return "{\"layerId\": \"" + layerId + "\", \"trainingDatasetId\": \"" + datasetId + "\""
                + (hyperparameters == null ? "" : ", \"hyperparameters\": " + hyperparameters) + "}";
    }
}
