package io.qalora.api;

import static io.qalora.api.HttpApi.parts;
import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.job.Sha256;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

@ApiIntegrationTest
class DatasetApiIntegrationTests {

    @LocalServerPort
    int port;

    HttpApi api;

    @BeforeEach
    void client() {
        api = new HttpApi(port);
    }

    @Test
    void jsonRegressionDatasetHasTargetsWidthAndNoClasses() {
        HttpApi.Answer created = api.postJson("/v1/datasets", """
                {"name": "reg", "inputs": [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]],
                 "targets": [[0.5, 1], [0.25, 2], [0, 3], [1, 4]]}""");

        assertThat(created.status()).as(created.text()).isEqualTo(201);
        JsonNode d = created.json();
        assertThat(created.header("Location")).isEqualTo("/v1/datasets/" + d.get("id").asString());
        assertThat(d.get("name").asString()).isEqualTo("reg");
        assertThat(d.get("kind").asString()).isEqualTo("REGRESSION");
        assertThat(d.get("rows").asInt()).isEqualTo(4);
        assertThat(d.get("inFeatures").asInt()).isEqualTo(3);
        assertThat(d.get("outFeatures").asInt()).isEqualTo(2);
        assertThat(d.has("numClasses")).isFalse();
        byte[] stored = api.get("/v1/datasets/" + d.get("id").asString() + "/file").body();
        assertThat(d.get("sha256").asString()).isEqualTo(Sha256.hex(stored));
        assertThat(d.get("sizeBytes").asLong()).isEqualTo(stored.length);
    }

    @Test
    void jsonClassificationDatasetCountsClassesFromTheLargestLabel() {
        HttpApi.Answer created = api.postJson("/v1/datasets?name=from-query", """
                {"inputs": [[1, 0], [0, 1], [1, 1], [0, 0]], "labels": [0, 4, 1, 4]}""");

        assertThat(created.status()).as(created.text()).isEqualTo(201);
        JsonNode d = created.json();
        assertThat(d.get("name").asString()).isEqualTo("from-query");
        assertThat(d.get("kind").asString()).isEqualTo("CLASSIFICATION");
        assertThat(d.get("rows").asInt()).isEqualTo(4);
        assertThat(d.get("inFeatures").asInt()).isEqualTo(2);
        assertThat(d.get("numClasses").asInt()).isEqualTo(5);
        assertThat(d.has("outFeatures")).isFalse();
    }

    @Test
    void safetensorsDatasetsAsRawBodyAndMultipart() {
        byte[] labels = Payloads.classification(3, 2, 0, 1, 2, 2);
        HttpApi.Answer raw = api.postBytes("/v1/datasets?name=cls", "application/octet-stream", labels);
        assertThat(raw.status()).as(raw.text()).isEqualTo(201);
        assertThat(raw.json().get("kind").asString()).isEqualTo("CLASSIFICATION");
        assertThat(raw.json().get("numClasses").asInt()).isEqualTo(3);
        assertThat(raw.json().get("rows").asInt()).isEqualTo(5);
        assertThat(raw.json().get("sha256").asString()).isEqualTo(Sha256.hex(labels));
        assertThat(api.get("/v1/datasets/" + raw.json().get("id").asString() + "/file").body()).isEqualTo(labels);

        byte[] targets = Payloads.regression(6, 4, 2);
        HttpApi.Answer multi = api.postMultipart("/v1/datasets", parts("file", targets, "name", "reg"));
        assertThat(multi.status()).as(multi.text()).isEqualTo(201);
        JsonNode d = multi.json();
        assertThat(d.get("kind").asString()).isEqualTo("REGRESSION");
        assertThat(d.get("rows").asInt()).isEqualTo(6);
        assertThat(d.get("inFeatures").asInt()).isEqualTo(4);
        assertThat(d.get("outFeatures").asInt()).isEqualTo(2);
        assertThat(d.get("sha256").asString()).isEqualTo(Sha256.hex(targets));
        assertThat(d.get("sizeBytes").asLong()).isEqualTo(targets.length);
    }

    @Test
    void getListAndDelete() {
        String first = api.postBytes("/v1/datasets", "application/octet-stream", Payloads.regression(1, 1, 1))
                .json().get("id").asString();
        String second = api.postBytes("/v1/datasets", "application/octet-stream", Payloads.regression(1, 1, 1))
                .json().get("id").asString();

        assertThat(api.get("/v1/datasets/" + first).json().get("name").asString()).isEqualTo("unnamed");
        JsonNode page = api.get("/v1/datasets?limit=1").json();
        assertThat(page.get("data").get(0).get("id").asString()).isEqualTo(second);
        assertThat(page.get("hasMore").asBoolean()).isTrue();
        assertThat(api.get("/v1/datasets?limit=1&after=" + second).json().get("data").get(0).get("id").asString())
                .isEqualTo(first);

        int before = api.count("/v1/datasets");
        assertThat(api.delete("/v1/datasets/" + first).status()).isEqualTo(204);
        assertThat(api.count("/v1/datasets")).isEqualTo(before - 1);
        assertThat(api.get("/v1/datasets/" + first).problem(404, "not-found").get("resource").asString())
                .isEqualTo("dataset");
        api.delete("/v1/datasets/" + first).problem(404, "not-found");
    }
}
