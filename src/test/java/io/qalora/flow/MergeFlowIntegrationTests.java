package io.qalora.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.qalora.QaLoraApplication;
import io.qalora.lora.MergedLayer;
import io.qalora.lora.PeftImport;
import io.qalora.lora.SafetensorsExport;
import io.qalora.store.TestDatabases;
import io.qalora.tensor.SafetensorsReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Merges on PostgreSQL: an API-only instance queues a merge too large to do in the request, and
 * a worker instance sharing the database runs it; it equals the same merge done in a request.
 */
class MergeFlowIntegrationTests {

    private final List<ConfigurableApplicationContext> instances = new ArrayList<>();
    private final TeacherTask task = new TeacherTask(8, 16, 11);

    /** An API-only instance merges layers of at most 64 weights in the request; a worker the default 2^22. */
    private ConfigurableApplicationContext start(String jdbcUrl, boolean workers) {
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(QaLoraApplication.class).run(
                "--server.port=0", "--spring.datasource.url=" + jdbcUrl, "--qalora.workers.enabled=" + workers,
                "--qalora.workers.poll-interval=50ms", "--qalora.merges.sync-max-elements=" + (workers ? 0 : 64),
                "--spring.jmx.enabled=false");
        instances.add(ctx);
        return ctx;
    }

    private static Http http(ConfigurableApplicationContext ctx) {
        return new Http(Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port")));
    }

    @AfterEach
    void stopInstances() {
        instances.forEach(ConfigurableApplicationContext::close);
    }

    private static float[][] gaussian(int rows, int cols, SplittableRandom random) {
        float[][] m = new float[rows][];
        for (int r = 0; r < rows; r++) {
            m[r] = TeacherTask.gaussian(cols, 0.5, random);
        }
        return m;
    }

    @Test
    void aQueuedGptqMergeIsRunByAWorkerAndEqualsTheMergeDoneInARequest() {
        String url = TestDatabases.postgresUrl();
        Http api = http(start(url, false));
        Http worker = http(start(url, true));
        String layer = api.postBytes("/v1/layers?name=base", task.layerFile()).json().get("id").asString();
        String calibration = api.postBytes("/v1/datasets?name=calibration", task.regressionFile(48, 3)).json()
                .get("id").asString();
        SplittableRandom random = new SplittableRandom(2);
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("layerId", layer);
        request.put("loraA", gaussian(2, 16, random));
        request.put("loraB", gaussian(8, 2, random));
        request.put("alpha", 4);
        request.put("quantizationBits", 4);
        request.put("groupSize", 8);
        request.put("symmetric", true);
        request.put("quantizer", "GPTQ");
        request.put("calibrationDatasetId", calibration);
        int jobs = api.get("/v1/jobs?limit=100").json().get("data").size();

        // 8 x 16 = 128 weights, above the API instance's 64: queued, for the worker instance.
        Http.Response queued = api.postJson("/v1/merges", request, "Idempotency-Key", "flow-merge");
        assertThat(queued.status()).as(queued.text()).isEqualTo(202);
        String id = queued.json().get("id").asString();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> api.get("/v1/jobs/" + id).json().get("status").asString(), "SUCCEEDED"::equals);
        assertThat(api.postJson("/v1/merges", request, "Idempotency-Key", "flow-merge").json().get("id").asString())
                .isEqualTo(id);

        JsonNode done = api.get("/v1/jobs/" + id).json();
        assertThat(done.get("kind").asString()).isEqualTo("MERGE");
        assertThat(done.get("attempts").asInt()).isOne();
        List<String> events = new ArrayList<>();
        api.get("/v1/jobs/" + id + "/events").json().get("data")
                .forEach(e -> events.add(e.get("message").asString().split(" ")[0]));
        assertThat(events).containsExactly("QUEUED", "RUNNING", "merged", "SUCCEEDED");
        JsonNode result = api.get("/v1/jobs/" + id + "/result").json();
        assertThat(result.get("mergedLayer").get("quantizer").asString()).isEqualTo("GPTQ");
        assertThat(result.get("quantization").get("mergedWeights").get("numGroups").asLong()).isEqualTo(8 * 2);
        assertThat(result.get("quantization").get("mergedWeightsQuality").get("sqnrDb").asDouble()).isPositive();

        // The worker instance, whose threshold is the default, merges the same request within it.
        Http.Response inRequest = worker.postJson("/v1/merges", request);
        assertThat(inRequest.status()).as(inRequest.text()).isEqualTo(201);
        String syncId = inRequest.json().get("id").asString();
        MergedLayer queuedLayer = SafetensorsExport.readMerged(SafetensorsReader.read(
                api.get("/v1/jobs/" + id + "/merged").body()));
        MergedLayer syncLayer = SafetensorsExport.readMerged(SafetensorsReader.read(
                api.get("/v1/jobs/" + syncId + "/merged").body()));
        assertThat(queuedLayer).isEqualTo(syncLayer);
        assertThat(queuedLayer.bias()).containsExactly(task.base.bias());

        Http.Response gptq = api.get("/v1/jobs/" + id + "/merged?format=gptq");
        assertThat(gptq.status()).as(gptq.text()).isEqualTo(200);
        assertThat(PeftImport.read(api.get("/v1/jobs/" + id + "/adapter?format=peft").body()).alpha()).isEqualTo(4f);

        // A refused merge stores nothing on PostgreSQL either.
        request.remove("calibrationDatasetId");
        Http.Response refused = api.postJson("/v1/merges", request);
        assertThat(refused.status()).isEqualTo(422);
        assertThat(refused.json().get("field").asString()).isEqualTo("calibrationDatasetId");
        assertThat(api.get("/v1/jobs?limit=100").json().get("data").size()).isEqualTo(jobs + 2);
        assertThat(worker.get("/actuator/prometheus").text())
                .contains("qalora_merged_quantization_error_count{application=\"qalora-service\",bits=\"4\"} 2");
    }
}
