package io.qalora.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.qalora.lora.LayerOutputs;
import io.qalora.lora.MergedLayer;
import io.qalora.lora.QaLoraAdapter;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.SafetensorsExport;
import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsReader;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * A POOLED_ZERO_POINT job over real HTTP, end to end: the result reports what rounding the merged
 * layer's float zero points costs, and the merged download computes what the adapter computes.
 * The same context as {@link TrainingFlowIntegrationTests}, so Spring starts it once.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.datasource.url=jdbc:h2:mem:flow;DB_CLOSE_DELAY=-1",
        "qalora.workers.threads=1",
        "qalora.workers.poll-interval=100ms",
        "qalora.workers.heartbeat-interval=1h"})
class PooledZeroPointFlowIntegrationTests {

    private static final int OUT = 8;
    private static final int IN = 16;
    private static final int G = 4;
    private static final QuantSpec SPEC = new QuantSpec(4, G, true);

    @LocalServerPort
    int port;

    /** A change small enough that no zero point leaves the 4-bit range, so the GPTQ zip can hold them all. */
    private final TeacherTask task = new TeacherTask(OUT, IN, G, 0.3, 5);

    private String upload(Http http, String path, byte[] file) {
        Http.Response r = http.postBytes(path, file);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json().get("id").asString();
    }

    private Map<String, Object> job(String layer, String training, Map<String, Object> changes) {
        Map<String, Object> hp = new LinkedHashMap<>();
        hp.put("quantizationTarget", "POOLED_ZERO_POINT");
        hp.put("symmetric", true);
        hp.put("rank", 2);
        hp.put("quantizationBits", 4);
        hp.put("groupSize", G);
        hp.put("learningRate", 0.02);
        hp.put("epochs", 30);
        hp.put("batchSize", 16);
        hp.put("seed", 7);
        hp.putAll(changes);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("layerId", layer);
        body.put("trainingDatasetId", training);
        body.put("hyperparameters", hp);
        body.put("compareWithPtq", true);
        return body;
    }

    @Test
    void aPooledJobReportsTheIntegerZeroCostAndItsMergedLayerReproducesTheAdapter() {
        Http http = new Http(port);
        String layer = upload(http, "/v1/layers?name=pooled", task.layerFile());
        String training = upload(http, "/v1/datasets?name=pooled-train", task.regressionFile(128, 1));

        Http.Response submitted = http.postJson("/v1/jobs", job(layer, training, Map.of()));
        assertThat(submitted.status()).as(submitted.text()).isEqualTo(201);
        assertThat(submitted.json().get("hyperparameters").get("quantizationTarget").asString())
                .isEqualTo("POOLED_ZERO_POINT");
        String id = submitted.json().get("id").asString();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> http.get("/v1/jobs/" + id).json().get("status").asString(), "SUCCEEDED"::equals);

        JsonNode result = http.get("/v1/jobs/" + id + "/result").json();
        JsonNode rounding = result.get("quantization").get("integerZeroRounding");
        assertThat(rounding.get("zeros").asLong()).isEqualTo(OUT * (IN / G));
        assertThat(rounding.get("relativeError").asDouble()).isBetween(1e-7, 1.0);
        assertThat(rounding.get("maxAbsError").asDouble()).isPositive();
        assertThat(rounding.get("clampedZeros").asLong()).isBetween(0L, (long) OUT * (IN / G));
        assertThat(rounding.get("quality").get("relativeError").asDouble()).isPositive();
        assertThat(result.get("quantization").get("mergedWeights").get("numGroups").asLong()).isEqualTo(OUT * (IN / G));
        JsonNode evaluation = result.get("evaluation");
        double base = evaluation.get("baseOnly").get("loss").asDouble();
        assertThat(evaluation.get("quantized").get("loss").asDouble()).isLessThan(base / 5);
        assertThat(evaluation.get("quantizedIntegerZeros").get("loss").asDouble()).isPositive();
        assertThat(evaluation.get("ptqBaseline").get("loss").asDouble()).isPositive();
        assertThat(result.get("mergedLayer").get("quantizer").asString()).isEqualTo("RTN");

        // The adapter as the job trained it, and the merged layer as deployed.
        SafetensorsFile adapterFile = SafetensorsReader.read(http.get("/v1/jobs/" + id + "/adapter").body());
        assertThat(adapterFile.require("lora_A").shape()).containsExactly(2, IN / G);
        assertThat(adapterFile.metadata()).containsEntry("quantization_target", "POOLED_ZERO_POINT");
        SafetensorsFile mergedFile = SafetensorsReader.read(http.get("/v1/jobs/" + id + "/merged").body());
        assertThat(mergedFile.metadata()).containsEntry("zero_points", "float")
                .containsEntry("quantization_target", "POOLED_ZERO_POINT");
        MergedLayer merged = SafetensorsExport.readMerged(mergedFile);
        QuantizedMatrix once = GroupQuantizer.quantize(task.base.weight(), OUT, IN, SPEC);
        assertThat(merged.weight().codes()).containsExactly(once.codes());
        assertThat(merged.weight().scales()).containsExactly(once.scales());
        assertThat(merged.weight().dequantize()).containsExactly(merged.weight().dequantized());

        float[] x = task.inputs(64, 9);
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(task.base).rank(2)
                .alpha(Double.parseDouble(adapterFile.metadata().get("alpha"))).quantSpec(SPEC)
                .quantizationTarget(QuantizationTarget.POOLED_ZERO_POINT)
                .factors(adapterFile.require("lora_A").toFloatArray(), adapterFile.require("lora_B").toFloatArray())
                .build()) {
            float[] expected = adapter.forward(x, 64);
            float[] actual = LayerOutputs.compute(merged.toDenseLayer(), x, 64);
            double worst = 0;
            double largest = 0;
            for (int i = 0; i < expected.length; i++) {
                worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]));
                largest = Math.max(largest, Math.abs(expected[i]));
            }
            assertThat(worst).isLessThanOrEqualTo(1e-5 * largest);
        }

        JsonNode json = http.get("/v1/jobs/" + id + "/merged?format=json").json();
        assertThat(json.get("zeros").get(0).get(0).floatValue()).isEqualTo(merged.weight().zeros()[0]);

        // AutoGPTQ stores integer zeros: the zip holds the rounded ones (qzeros keeps zero - 1).
        MergedLayer rounded = merged.withIntegerZeros();
        Http.Response gptq = http.get("/v1/jobs/" + id + "/merged?format=gptq");
        assertThat(gptq.status()).as(gptq.text()).isEqualTo(200);
        SafetensorsFile checkpoint = SafetensorsReader.read(unzip(gptq.body()).get("model.safetensors"));
        long[] qzeros = checkpoint.require("qzeros").toLongArray();
        for (int k = 0; k < IN / G; k++) {
            for (int o = 0; o < OUT; o++) {
                long zeroMinusOne = (qzeros[k] >>> (4 * o)) & 0xF;
                assertThat(zeroMinusOne + 1).isEqualTo((long) rounded.weight().zeros()[o * (IN / G) + k]);
            }
        }

        JsonNode peft = Http.JSON.readTree(unzip(http.get("/v1/jobs/" + id + "/adapter?format=peft").body())
                .get("adapter_config.json"));
        assertThat(peft.get("quantization_target").asString()).isEqualTo("POOLED_ZERO_POINT");
    }

    @Test
    void whatThePooledTargetCannotTrainIsRefusedAtSubmission() {
        Http http = new Http(port);
        String layer = upload(http, "/v1/layers?name=pooled", task.layerFile());
        String training = upload(http, "/v1/datasets?name=pooled-train", task.regressionFile(16, 1));
        Map<String, String> fields = Map.of(
                "hyperparameters.freezeBaseLayer", "{\"freezeBaseLayer\": false}",
                "hyperparameters.groupSize", "{\"groupSize\": 5}",
                "hyperparameters.mergeQuantizer", "{\"mergeQuantizer\": \"GPTQ\"}");
        fields.forEach((field, change) -> {
            Map<String, Object> changes = Http.JSON.convertValue(Http.JSON.readTree(change), Map.class);
            Http.Response r = http.postJson("/v1/jobs", job(layer, training, changes));
            assertThat(r.status()).as(r.text()).isEqualTo(422);
            assertThat(r.json().get("field").asString()).isEqualTo(field);
            assertThat(r.json().get("detail").asString()).contains("POOLED_ZERO_POINT");
        });
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
}
