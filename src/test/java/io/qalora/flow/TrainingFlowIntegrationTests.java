package io.qalora.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.qalora.lora.MergedLayer;
import io.qalora.lora.SafetensorsExport;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** The README's flow over real HTTP on the embedded database, with the workers on. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.datasource.url=jdbc:h2:mem:flow;DB_CLOSE_DELAY=-1",
        "qalora.workers.threads=1",
        "qalora.workers.poll-interval=100ms",
        "qalora.workers.heartbeat-interval=1h"})
class TrainingFlowIntegrationTests {

    @LocalServerPort
    int port;

    private final TeacherTask task = new TeacherTask(8, 16, 3);

    private String upload(Http http, String path, byte[] file) {
        Http.Response r = http.postBytes(path, file);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json().get("id").asString();
    }

    private JsonNode awaitStatus(Http http, String jobId, String status) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> http.get("/v1/jobs/" + jobId).json().get("status").asString(), status::equals);
        return http.get("/v1/jobs/" + jobId).json();
    }

    private Map<String, Object> jobRequest(String layer, String training, String validation, int epochs) {
        Map<String, Object> hp = new LinkedHashMap<>();
        hp.put("mergeQuantizer", "GPTQ");
        hp.put("symmetric", true);
        hp.put("rank", 2);
        hp.put("quantizationBits", 4);
        hp.put("groupSize", 8);
        hp.put("learningRate", 0.02);
        hp.put("epochs", epochs);
        hp.put("batchSize", 16);
        hp.put("seed", 7);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("layerId", layer);
        body.put("trainingDatasetId", training);
        if (validation != null) {
            body.put("validationDatasetId", validation);
        }
        body.put("hyperparameters", hp);
        body.put("compareWithPtq", true);
        body.put("metadata", Map.of("team", "search"));
        return body;
    }

    @Test
    void uploadTrainPollAndDownloadAFourBitLayer() {
        Http http = new Http(port);
        String layer = upload(http, "/v1/layers?name=base", task.layerFile());
        String training = upload(http, "/v1/datasets?name=train", task.regressionFile(128, 1));
        String validation = upload(http, "/v1/datasets?name=val", task.regressionFile(64, 2));

        Http.Response submitted = http.postJson("/v1/jobs", jobRequest(layer, training, validation, 30));
        assertThat(submitted.status()).as(submitted.text()).isEqualTo(201);
        JsonNode job = submitted.json();
        assertThat(job.get("status").asString()).isIn("QUEUED", "RUNNING");
        assertThat(job.get("hyperparameters").get("alpha").asDouble()).isEqualTo(2.0);
        assertThat(job.get("hyperparameters").get("seed").asLong()).isEqualTo(7);
        String id = job.get("id").asString();
        assertThat(http.get("/v1/jobs/" + id + "/result").status()).isIn(409, 200);

        JsonNode done = awaitStatus(http, id, "SUCCEEDED");
        assertThat(done.get("progress").get("step").asLong()).isEqualTo(30 * 8);
        assertThat(done.get("progress").get("totalSteps").asLong()).isEqualTo(240);
        assertThat(done.get("trainLoss").asDouble()).isPositive();
        assertThat(done.get("validationLoss").asDouble()).isPositive();
        assertThat(done.get("finishedAt").isNull()).isFalse();

        JsonNode result = http.get("/v1/jobs/" + id + "/result").json();
        JsonNode evaluation = result.get("evaluation");
        assertThat(evaluation.get("dataset").asString()).isEqualTo("validation");
        double base = evaluation.get("baseOnly").get("loss").asDouble();
        assertThat(evaluation.get("quantized").get("loss").asDouble()).isLessThan(base / 5);
        assertThat(evaluation.get("fullPrecision").get("loss").asDouble()).isLessThan(base / 5);
        assertThat(evaluation.get("ptqBaseline").get("loss").asDouble()).isPositive();
        assertThat(evaluation.get("ptqGptqBaseline").get("loss").asDouble()).isPositive();
        String best = evaluation.get("best").asString();
        assertThat(best).isIn("baseOnly", "ptqBaseline", "ptqGptqBaseline", "quantized");
        for (String other : List.of("baseOnly", "ptqBaseline", "ptqGptqBaseline", "quantized")) {
            assertThat(evaluation.get(best).get("loss").asDouble()).isLessThanOrEqualTo(evaluation.get(other).get("loss").asDouble());
        }
        assertThat(result.get("mergedLayer").get("quantizer").asString()).isEqualTo("GPTQ");
        assertThat(result.get("quantization").get("mergedWeights").get("numGroups").asLong()).isEqualTo(8 * 2);
        assertThat(result.get("quantization").get("loraFactors").get("numGroups").asLong()).isEqualTo(2 * 2 + 8);
        assertThat(result.get("mergedLayer").get("bits").asInt()).isEqualTo(4);
        JsonNode quality = result.get("quantization").get("mergedWeightsQuality");
        assertThat(quality.get("relativeError").asDouble()).isBetween(1e-6, 0.5);
        assertThat(quality.get("sqnrDb").asDouble()).isPositive();
        assertThat(quality.get("clampedFraction").asDouble()).isBetween(0.0, 1.0);
        assertThat(result.get("provenance").get("seed").asLong()).isEqualTo(7);

        Http.Response mergedFile = http.get("/v1/jobs/" + id + "/merged");
        assertThat(mergedFile.status()).isEqualTo(200);
        SafetensorsFile merged = SafetensorsReader.read(mergedFile.body());
        assertThat(merged.metadata()).containsEntry("bits", "4").containsEntry("group_size", "8")
                .containsEntry("quantizer", "GPTQ")
                .containsEntry("packing", "u4-lsb-first-per-row");
        assertThat(merged.require("weight.qcodes").shape()).containsExactly(8, 8);
        MergedLayer layerBack = SafetensorsExport.readMerged(merged);
        assertThat(layerBack.weight().dequantize()).containsExactly(layerBack.weight().dequantized());
        assertThat(layerBack.bias()).containsExactly(task.base.bias());

        JsonNode mergedJson = http.get("/v1/jobs/" + id + "/merged?format=json").json();
        assertThat(mergedJson.get("codes").size()).isEqualTo(8);
        assertThat(mergedJson.get("codes").get(0).size()).isEqualTo(16);
        assertThat(mergedJson.get("codes").get(3).get(5).asInt()).isEqualTo(layerBack.weight().code(3, 5));

        SafetensorsFile adapter = SafetensorsReader.read(http.get("/v1/jobs/" + id + "/adapter").body());
        assertThat(adapter.require("lora_A").shape()).containsExactly(2, 16);
        assertThat(adapter.require("lora_B").shape()).containsExactly(8, 2);
        assertThat(adapter.metadata()).containsEntry("rank", "2").containsEntry("scaling", "1.0");

        Http.Response gptq = http.get("/v1/jobs/" + id + "/merged?format=gptq");
        assertThat(gptq.status()).as(gptq.text()).isEqualTo(200);
        assertThat(gptq.contentType()).isEqualTo("application/zip");
        Map<String, byte[]> gptqFiles = unzip(gptq.body());
        assertThat(gptqFiles).containsOnlyKeys("model.safetensors", "quantize_config.json");
        JsonNode quantizeConfig = Http.JSON.readTree(gptqFiles.get("quantize_config.json"));
        assertThat(quantizeConfig.get("bits").asInt()).isEqualTo(4);
        assertThat(quantizeConfig.get("group_size").asInt()).isEqualTo(8);
        assertThat(quantizeConfig.get("sym").asBoolean()).isTrue();
        assertThat(quantizeConfig.get("desc_act").asBoolean()).isFalse();
        assertThat(SafetensorsReader.read(gptqFiles.get("model.safetensors")).require("qweight").shape())
                .containsExactly(16 * 4 / 32, 8);

        Map<String, byte[]> peft = unzip(http.get("/v1/jobs/" + id + "/adapter?format=peft&module=encoder.dense").body());
        JsonNode adapterConfig = Http.JSON.readTree(peft.get("adapter_config.json"));
        assertThat(adapterConfig.get("peft_type").asString()).isEqualTo("LORA");
        assertThat(adapterConfig.get("r").asInt()).isEqualTo(2);
        assertThat(adapterConfig.get("lora_alpha").asDouble()).isEqualTo(2.0);
        assertThat(SafetensorsReader.read(peft.get("adapter_model.safetensors"))
                .require("base_model.model.encoder.dense.lora_A.weight").shape()).containsExactly(2, 16);
        assertThat(http.get("/v1/jobs/" + id + "/adapter?format=onnx").status()).isEqualTo(400);

        List<String> states = new ArrayList<>();
        long steps = 0;
        for (JsonNode e : http.get("/v1/jobs/" + id + "/events?after=0&limit=10000").json().get("data")) {
            switch (e.get("type").asString()) {
                case "STATE" -> states.add(e.get("message").asString().split(" ")[0]);
                case "STEP" -> steps++;
                default -> { }
            }
        }
        assertThat(states).containsExactly("QUEUED", "RUNNING", "SUCCEEDED");
        assertThat(steps).isEqualTo(240);

        String metrics = http.get("/actuator/prometheus").text();
        assertThat(metrics).contains("qalora_jobs_submitted_total")
                .contains("qalora_jobs_finished_total{application=\"qalora-service\",status=\"SUCCEEDED\"}")
                .contains("qalora_training_steps_total").contains("qalora_job_duration_seconds_bucket")
                .contains("qalora_merged_quantization_error_count{application=\"qalora-service\",bits=\"4\"}")
                .contains("qalora_workers_busy").contains("qalora_jobs_queued").contains("qalora_nd4j_offheap_bytes");
    }

    private static Map<String, byte[]> unzip(byte[] zip) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
            for (java.util.zip.ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                files.put(e.getName(), in.readAllBytes());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return files;
    }

    @Test
    void aRunningJobStopsWhenCancelled() {
        Http http = new Http(port);
        String layer = upload(http, "/v1/layers?name=base", task.layerFile());
        String training = upload(http, "/v1/datasets?name=train", task.regressionFile(128, 1));
        String id = http.postJson("/v1/jobs", jobRequest(layer, training, null, 10_000)).json().get("id").asString();
        awaitStatus(http, id, "RUNNING");
        assertThat(http.post("/v1/jobs/" + id + "/cancel").status()).isEqualTo(200);
        JsonNode cancelled = awaitStatus(http, id, "CANCELLED");
        assertThat(cancelled.get("error").get("code").asString()).isEqualTo("CANCELLED");
        assertThat(cancelled.get("progress").get("step").asLong()).isLessThan(10_000L * 8);
        assertThat(http.post("/v1/jobs/" + id + "/cancel").json().get("status").asString()).isEqualTo("CANCELLED");
        assertThat(http.get("/v1/jobs/" + id + "/result").status()).isEqualTo(409);
    }

    @Test
    void healthGroupsAreUp() {
        Http http = new Http(port);
        assertThat(http.get("/actuator/health/liveness").json().get("status").asString()).isEqualTo("UP");
        assertThat(http.get("/actuator/health/readiness").json().get("status").asString()).isEqualTo("UP");
    }
}
