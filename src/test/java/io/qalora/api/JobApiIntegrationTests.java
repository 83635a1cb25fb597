package io.qalora.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

@ApiIntegrationTest
class JobApiIntegrationTests {

    @LocalServerPort
    int port;

    HttpApi api;
    String layer;
    String dataset;

    @BeforeEach
    void layerAndDataset() {
        api = new HttpApi(port);
        layer = Fixture.layer(api, 2, 4);
        dataset = Fixture.regression(api, 8, 4, 2);
    }

    @Test
    void submittedJobIsQueuedWithEveryHyperparameterResolved() {
        HttpApi.Answer created = api.postJson("/v1/jobs", """
                {"layerId": "%s", "trainingDatasetId": "%s", "validationDatasetId": "%s",
                 "hyperparameters": {"rank": 2, "seed": 42}, "compareWithPtq": true,
                 "metadata": {"experiment": "defaults"}}""".formatted(layer, dataset, dataset));

        assertThat(created.status()).as(created.text()).isEqualTo(201);
        JsonNode job = created.json();
        String id = job.get("id").asString();
        assertThat(created.header("Location")).isEqualTo("/v1/jobs/" + id);
        assertThat(job.get("status").asString()).isEqualTo("QUEUED");
        assertThat(job.get("layerId").asString()).isEqualTo(layer);
        assertThat(job.get("trainingDatasetId").asString()).isEqualTo(dataset);
        assertThat(job.get("validationDatasetId").asString()).isEqualTo(dataset);
        assertThat(job.get("compareWithPtq").asBoolean()).isTrue();
        assertThat(job.get("metadata").get("experiment").asString()).isEqualTo("defaults");
        assertThat(job.get("progress").get("step").asLong()).isZero();
        assertThat(job.get("progress").get("totalSteps").asLong()).isZero();
        assertThat(job.get("progress").get("epoch").asInt()).isZero();
        assertThat(job.get("attempts").asInt()).isZero();
        assertThat(job.has("error")).isFalse();
        assertThat(job.has("startedAt")).isFalse();
        JsonNode hp = job.get("hyperparameters");
        assertThat(hp.get("rank").asInt()).isEqualTo(2);
        assertThat(hp.get("alpha").asDouble()).isEqualTo(2.0);
        assertThat(hp.get("rsLora").asBoolean()).isFalse();
        assertThat(hp.get("quantizationBits").asInt()).isEqualTo(4);
        assertThat(hp.get("groupSize").asInt()).isEqualTo(64);
        assertThat(hp.get("symmetric").asBoolean()).isFalse();
        assertThat(hp.get("quantizationTarget").asString()).isEqualTo("MERGED_WEIGHTS");
        assertThat(hp.get("quantizationEnabled").asBoolean()).isTrue();
        assertThat(hp.get("quantizationWarmupSteps").asInt()).isZero();
        assertThat(hp.get("freezeBaseLayer").asBoolean()).isTrue();
        assertThat(hp.get("learningRate").asDouble()).isEqualTo(1e-3);
        assertThat(hp.get("learningRateSchedule").asString()).isEqualTo("COSINE");
        assertThat(hp.get("epochs").asInt()).isEqualTo(3);
        assertThat(hp.get("batchSize").asInt()).isEqualTo(32);
        assertThat(hp.get("optimizer").asString()).isEqualTo("ADAM");
        assertThat(hp.has("maxGradNorm")).isFalse();
        assertThat(hp.get("seed").asLong()).isEqualTo(42);

        JsonNode fetched = api.get("/v1/jobs/" + id).json();
        assertThat(fetched.get("hyperparameters")).isEqualTo(hp);
        assertThat(fetched.get("createdAt")).isEqualTo(job.get("createdAt"));

        JsonNode events = api.get("/v1/jobs/" + id + "/events").json();
        assertThat(events.get("data").size()).isEqualTo(1);
        JsonNode queued = events.get("data").get(0);
        assertThat(queued.get("type").asString()).isEqualTo("STATE");
        assertThat(queued.get("message").asString()).isEqualTo("QUEUED");
        assertThat(events.get("nextAfter").asLong()).isEqualTo(queued.get("id").asLong());
        JsonNode none = api.get("/v1/jobs/" + id + "/events?after=" + queued.get("id").asLong()).json();
        assertThat(none.get("data").size()).isZero();
        assertThat(none.get("nextAfter").asLong()).isEqualTo(queued.get("id").asLong());
    }

    @Test
    void aDrawnSeedIsReportedAndBelowTwoToThe53() {
        JsonNode job = api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"rank\": 1}")).json();

        assertThat(job.get("hyperparameters").get("seed").asLong()).isBetween(0L, 1L << 53);
    }

    @Test
    void sameIdempotencyKeyAndBodyReplaysTheJobAndADifferentBodyConflicts() {
        String key = "key-" + UUID.randomUUID();
        String body = Fixture.job(layer, dataset, "{\"rank\": 2, \"epochs\": 5}");

        HttpApi.Answer first = api.postJson("/v1/jobs", body, "Idempotency-Key", key);
        int jobs = api.count("/v1/jobs");
        HttpApi.Answer replay = api.postJson("/v1/jobs", body, "Idempotency-Key", key);

        assertThat(first.status()).isEqualTo(201);
        assertThat(replay.status()).isEqualTo(200);
        assertThat(replay.header("Location")).isNull();
        assertThat(replay.json().get("id")).isEqualTo(first.json().get("id"));
        assertThat(replay.json().get("hyperparameters").get("seed")).isEqualTo(first.json().get("hyperparameters").get("seed"));

        HttpApi.Answer other = api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"rank\": 2, \"epochs\": 6}"),
                "Idempotency-Key", key);
        assertThat(other.problem(409, "conflict").get("detail").asString()).contains(key);
        assertThat(api.count("/v1/jobs")).isEqualTo(jobs);

        HttpApi.Answer noKey = api.postJson("/v1/jobs", body);
        assertThat(noKey.status()).isEqualTo(201);
        assertThat(noKey.json().get("id")).isNotEqualTo(first.json().get("id"));
    }

    @Test
    void listingIsNewestFirstInPagesAndFiltersByStatus() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"rank\": 1}")).json().get("id").asString());
        }

        JsonNode page = api.get("/v1/jobs?limit=2").json();
        assertThat(ids(page)).containsExactly(ids.get(2), ids.get(1));
        assertThat(page.get("hasMore").asBoolean()).isTrue();
        JsonNode next = api.get("/v1/jobs?limit=2&after=" + ids.get(1)).json();
        assertThat(ids(next).get(0)).isEqualTo(ids.get(0));

        api.post("/v1/jobs/" + ids.get(1) + "/cancel");
        JsonNode cancelled = api.get("/v1/jobs?status=CANCELLED&limit=100").json();
        assertThat(ids(cancelled)).contains(ids.get(1)).doesNotContain(ids.get(0), ids.get(2));
        cancelled.get("data").forEach(j -> assertThat(j.get("status").asString()).isEqualTo("CANCELLED"));
        JsonNode queued = api.get("/v1/jobs?status=QUEUED&limit=2").json();
        assertThat(ids(queued)).containsExactly(ids.get(2), ids.get(0));
    }

    @Test
    void cancellingAQueuedJobIsImmediateAndIdempotent() {
        String id = api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"rank\": 1}")).json().get("id").asString();

        HttpApi.Answer cancelled = api.post("/v1/jobs/" + id + "/cancel");
        HttpApi.Answer again = api.post("/v1/jobs/" + id + "/cancel");

        assertThat(cancelled.status()).isEqualTo(200);
        assertThat(cancelled.json().get("status").asString()).isEqualTo("CANCELLED");
        assertThat(cancelled.json().has("finishedAt")).isTrue();
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("status").asString()).isEqualTo("CANCELLED");
        assertThat(again.json().get("finishedAt")).isEqualTo(cancelled.json().get("finishedAt"));
        assertThat(api.get("/v1/jobs/" + id).json().get("status").asString()).isEqualTo("CANCELLED");
    }

    @Test
    void resultsAreAConflictUntilTheJobSucceeded() {
        String id = api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"rank\": 1}")).json().get("id").asString();

        for (String path : List.of("/result", "/merged", "/merged?format=json", "/adapter")) {
            JsonNode problem = api.get("/v1/jobs/" + id + path).problem(409, "conflict");
            assertThat(problem.get("detail").asString()).as(path).contains("QUEUED");
            assertThat(problem.get("instance").asString()).isEqualTo("/v1/jobs/" + id + path.replaceAll("\\?.*", ""));
        }
        api.post("/v1/jobs/" + id + "/cancel");
        api.get("/v1/jobs/" + id + "/result").problem(409, "conflict");
    }

    @Test
    void aLayerOrDatasetInUseByAQueuedJobCannotBeDeleted() {
        String id = api.postJson("/v1/jobs", Fixture.job(layer, dataset, "{\"rank\": 1}")).json().get("id").asString();

        api.delete("/v1/layers/" + layer).problem(409, "conflict");
        api.delete("/v1/datasets/" + dataset).problem(409, "conflict");
        assertThat(api.get("/v1/layers/" + layer).status()).isEqualTo(200);

        api.post("/v1/jobs/" + id + "/cancel");
        assertThat(api.delete("/v1/layers/" + layer).status()).isEqualTo(204);
        assertThat(api.delete("/v1/datasets/" + dataset).status()).isEqualTo(204);
    }

    @Test
    void unknownJobsAreNotFound() {
        String unknown = UUID.randomUUID().toString();
        for (String path : List.of("", "/events", "/result", "/merged", "/adapter")) {
            assertThat(api.get("/v1/jobs/" + unknown + path).problem(404, "not-found").get("resource").asString())
                    .isEqualTo("job");
        }
        api.post("/v1/jobs/" + unknown + "/cancel").problem(404, "not-found");
    }

    private static List<String> ids(JsonNode page) {
        List<String> ids = new ArrayList<>();
        page.get("data").forEach(j -> ids.add(j.get("id").asString()));
        return ids;
    }
}
