package io.qalora.api;

import static io.qalora.api.HttpApi.parts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qalora.job.Sha256;
import io.qalora.lora.MergedLayer;
import io.qalora.lora.PeftAdapter;
import io.qalora.lora.PeftExport;
import io.qalora.lora.PeftImport;
import io.qalora.lora.SafetensorsExport;
import io.qalora.quant.GptqQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /v1/merges} merged within the request (every layer here is small): the merged layer
 * against the spec's arithmetic written out independently, JSON factors and PEFT checkpoints, RTN
 * and GPTQ, the downloads, and every refused request naming its field and storing nothing.
 */
@ApiIntegrationTest
class MergeApiIntegrationTests {

    /** W [2, 4], multiples of 1/8, so that W + s B A is exact in float32. */
    static final float[][] W = {{0.5f, -0.25f, 0.125f, 0.75f}, {0f, 1f, -0.5f, 0.25f}};
    static final float[] BIAS = {0.1f, -0.1f};
    /** A [1, 4] and B [2, 1]; with alpha 2 and r 1, s = 2. */
    static final float[][] A = {{0.5f, 0.25f, -0.5f, 1f}};
    static final float[][] B = {{1f}, {-0.5f}};
    /** W + 2 B A, by hand. */
    static final float[] MERGED = {1.5f, 0.25f, -0.875f, 2.75f, -0.5f, 0.75f, 0f, -0.75f};

    @LocalServerPort
    int port;

    @Autowired
    JdbcClient jdbc;

    HttpApi api;
    String layer;

    @BeforeEach
    void layer() {
        api = new HttpApi(port);
        layer = jsonLayer(api, W, BIAS);
    }

    static String jsonLayer(HttpApi api, float[][] weight, float[] bias) {
        HttpApi.Answer a = api.postJson("/v1/layers", HttpApi.JSON.writeValueAsString(
                bias == null ? Map.of("weight", weight) : Map.of("weight", weight, "bias", bias)));
        assertThat(a.status()).as(a.text()).isEqualTo(201);
        return a.json().get("id").asString();
    }

    /** A JSON merge body of the layer, the factors and the settings (name, value pairs). */
    static String body(String layer, float[][] a, float[][] b, Object... settings) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("layerId", layer);
        body.put("loraA", a);
        body.put("loraB", b);
        for (int i = 0; i < settings.length; i += 2) {
            body.put((String) settings[i], settings[i + 1]);
        }
        return HttpApi.JSON.writeValueAsString(body);
    }

    /** The spec's group quantizer, written out from QUANTIZATION.md; independent of GroupQuantizer. */
    record Reference(int[] codes, float[] scales, float[] zeros, float[] dequantized) {

        static Reference of(float[] m, int rows, int cols, int bits, int g, boolean symmetric) {
            int groups = (cols + g - 1) / g;
            int maxq = (1 << bits) - 1;
            Reference r = new Reference(new int[rows * cols], new float[rows * groups], new float[rows * groups],
                    new float[rows * cols]);
            for (int row = 0; row < rows; row++) {
                for (int gi = 0; gi < groups; gi++) {
                    int from = row * cols + gi * g;
                    int to = row * cols + Math.min(cols, (gi + 1) * g);
                    float lo = 0;
                    float hi = 0;
                    for (int i = from; i < to; i++) {
                        lo = Math.min(lo, m[i]);
                        hi = Math.max(hi, m[i]);
                    }
                    if (symmetric) {
                        float amax = Math.max(-lo, hi);
                        lo = -amax;
                        hi = amax;
                    }
                    if (lo == hi) {
                        lo = -1;
                        hi = 1;
                    }
                    float scale = (hi - lo) / maxq;
                    float zero = symmetric ? (maxq + 1) / 2f : (float) Math.rint(-lo / scale);
                    r.scales[row * groups + gi] = scale;
                    r.zeros[row * groups + gi] = zero;
                    for (int i = from; i < to; i++) {
                        float q = Math.max(0, Math.min(maxq, (float) Math.rint(m[i] / scale) + zero));
                        r.codes[i] = (int) q;
                        r.dequantized[i] = (q - zero) * scale;
                    }
                }
            }
            return r;
        }
    }

    private static float at(JsonNode matrix, int index, int cols) {
        return (float) matrix.get(index / cols).get(index % cols).asDouble();
    }

    private static void assertMergedJsonIs(JsonNode m, Reference expected, int rows, int cols, int groups) {
        for (int i = 0; i < rows * cols; i++) {
            assertThat(m.get("codes").get(i / cols).get(i % cols).asInt()).as("code %d", i)
                    .isEqualTo(expected.codes()[i]);
            assertThat(at(m.get("weight"), i, cols)).as("dequantized %d", i)
                    .isCloseTo(expected.dequantized()[i], within(0f));
        }
        for (int i = 0; i < rows * groups; i++) {
            assertThat(at(m.get("scales"), i, groups)).as("scale %d", i).isCloseTo(expected.scales()[i], within(0f));
            assertThat(at(m.get("zeros"), i, groups)).as("zero %d", i).isCloseTo(expected.zeros()[i], within(0f));
        }
    }

    @Test
    void aJsonAdapterIsMergedInTheRequestAsTheSpecSays() {
        HttpApi.Answer created = api.postJson("/v1/merges", body(layer, A, B, "alpha", 2.0, "quantizationBits", 3,
                "groupSize", 2, "metadata", Map.of("source", "hand-made")));

        assertThat(created.status()).as(created.text()).isEqualTo(201);
        JsonNode job = created.json();
        String id = job.get("id").asString();
        assertThat(created.header("Location")).isEqualTo("/v1/jobs/" + id);
        assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(job.get("kind").asString()).isEqualTo("MERGE");
        assertThat(job.get("layerId").asString()).isEqualTo(layer);
        assertThat(job.has("trainingDatasetId")).isFalse();
        assertThat(job.has("hyperparameters")).isFalse();
        assertThat(job.get("metadata").get("source").asString()).isEqualTo("hand-made");
        assertThat(job.get("attempts").asInt()).isOne();
        assertThat(job.get("finishedAt").asString()).isNotBlank();
        JsonNode merge = job.get("merge");
        assertThat(merge.get("rank").asInt()).isOne();
        assertThat(merge.get("alpha").asDouble()).isEqualTo(2.0);
        assertThat(merge.get("scaling").asDouble()).isEqualTo(2.0);
        assertThat(merge.get("rsLora").asBoolean()).isFalse();
        assertThat(merge.get("quantizationBits").asInt()).isEqualTo(3);
        assertThat(merge.get("groupSize").asInt()).isEqualTo(2);
        assertThat(merge.get("symmetric").asBoolean()).isFalse();
        assertThat(merge.get("quantizer").asString()).isEqualTo("RTN");
        assertThat(merge.has("module")).isFalse();
        assertThat(merge.has("calibrationDatasetId")).isFalse();
        assertThat(api.get("/v1/jobs/" + id).json()).isEqualTo(job);

        // W' = W + 2 B A = [[1.5, 0.25, -0.875, 2.75], [-0.5, 0.75, 0, -0.75]]; 3 bits, groups of 2:
        // row 0, group 0 [1.5, 0.25]: lo 0, hi 1.5, scale 1.5/7, zero 0, codes 7 and rint(1.1667) = 1;
        // row 0, group 1 [-0.875, 2.75]: scale 3.625/7, zero rint(1.6897) = 2, codes 0 and 5 + 2 = 7;
        // row 1: [-0.5, 0.75] has zero rint(2.8) = 3, codes 0, 7; [0, -0.75] has zero 7, codes 7, 0.
        JsonNode m = api.get("/v1/jobs/" + id + "/merged?format=json").json();
        assertThat(m.get("codes").toString()).isEqualTo("[[7,1,0,7],[0,7,7,0]]");
        assertThat(m.get("zeros").toString()).isIn("[[0.0,2.0],[3.0,7.0]]", "[[-0.0,2.0],[3.0,7.0]]");
        assertThat(at(m.get("scales"), 1, 2)).isEqualTo(3.625f / 7);
        assertThat(at(m.get("weight"), 3, 4)).isEqualTo((7 - 2) * (3.625f / 7));
        Reference expected = Reference.of(MERGED, 2, 4, 3, 2, false);
        assertMergedJsonIs(m, expected, 2, 4, 2);
        assertThat(m.get("bias").get(0).floatValue()).isEqualTo(0.1f);

        JsonNode result = api.get("/v1/jobs/" + id + "/result").json();
        double sum = 0;
        double max = 0;
        double noise = 0;
        double signal = 0;
        for (int i = 0; i < MERGED.length; i++) {
            double err = Math.abs(MERGED[i] - expected.dequantized()[i]);
            sum += err;
            max = Math.max(max, err);
            noise += err * err;
            signal += (double) MERGED[i] * MERGED[i];
        }
        JsonNode merged = result.get("quantization").get("mergedWeights");
        assertThat(merged.get("averageError").asDouble()).isCloseTo(sum / 8, within(1e-9));
        assertThat(merged.get("maxError").asDouble()).isCloseTo(max, within(1e-7));
        assertThat(merged.get("numGroups").asLong()).isEqualTo(4);
        assertThat(merged.get("elements").asLong()).isEqualTo(8);
        JsonNode quality = result.get("quantization").get("mergedWeightsQuality");
        assertThat(quality.get("relativeError").asDouble()).isCloseTo(Math.sqrt(noise / signal), within(1e-9));
        assertThat(quality.get("sqnrDb").asDouble()).isCloseTo(10 * Math.log10(signal / noise), within(1e-6));
        assertThat(quality.get("clampedFraction").asDouble()).isZero();
        assertThat(result.get("quantization").get("loraFactors").get("numGroups").asLong()).isEqualTo(2 + 2);
        assertThat(result.has("evaluation")).isFalse();
        assertThat(result.get("mergedLayer").get("quantizer").asString()).isEqualTo("RTN");
        assertThat(result.get("mergedLayer").get("inFeatures").asInt()).isEqualTo(4);
        JsonNode provenance = result.get("provenance");
        assertThat(provenance.get("steps").asLong()).isZero();
        assertThat(provenance.has("trainingDatasetSha256")).isFalse();
        assertThat(provenance.get("layerSha256").asString())
                .isEqualTo(api.get("/v1/layers/" + layer).json().get("sha256").asString());

        HttpApi.Answer adapter = api.get("/v1/jobs/" + id + "/adapter");
        assertThat(adapter.status()).isEqualTo(200);
        assertThat(provenance.get("adapterSha256").asString()).isEqualTo(Sha256.hex(adapter.body()))
                .isEqualTo(merge.get("adapterSha256").asString());
        SafetensorsFile adapterFile = SafetensorsReader.read(adapter.body());
        assertThat(adapterFile.require("lora_A").toFloatArray()).containsExactly(A[0]);
        assertThat(adapterFile.require("lora_B").toFloatArray()).containsExactly(1f, -0.5f);
        PeftAdapter peft = PeftImport.read(api.get("/v1/jobs/" + id + "/adapter?format=peft").body());
        assertThat(peft.alpha()).isEqualTo(2f);
        assertThat(peft.loraA()).containsExactly(A[0]);

        MergedLayer file = SafetensorsExport.readMerged(SafetensorsReader.read(api.get("/v1/jobs/" + id + "/merged")
                .body()));
        assertThat(file.weight().codesAsInts()).containsExactly(expected.codes());
        assertThat(file.bias()).containsExactly(BIAS);

        List<String> events = new ArrayList<>();
        api.get("/v1/jobs/" + id + "/events").json().get("data")
                .forEach(e -> events.add(e.get("type").asString() + " " + e.get("message").asString()));
        assertThat(events).containsExactly("STATE RUNNING in the request", "NOTE merged a rank-1 adapter with RTN",
                "STATE SUCCEEDED");
        assertThat(api.get("/v1/jobs?status=SUCCEEDED&limit=100").json().get("data").findValuesAsString("id"))
                .contains(id);
        JsonNode merges = api.get("/v1/jobs?kind=MERGE&limit=100").json().get("data");
        assertThat(merges.findValuesAsString("id")).contains(id);
        assertThat(merges.findValuesAsString("kind")).containsOnly("MERGE");
        assertThat(api.get("/v1/jobs?kind=TRAINING&limit=100").json().get("data").findValuesAsString("id"))
                .doesNotContain(id);
    }

    @Test
    void aPeftCheckpointMergesAsItsFactorsDoAndRemembersItsModule() {
        PeftAdapter adapter = new PeftAdapter("encoder.layer.0.dense", 1, 4, 2, 2f, false, A[0], new float[] {1, -0.5f});
        byte[] zip = PeftExport.zip(adapter);

        HttpApi.Answer asFields = api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer,
                "quantizationBits", 3, "groupSize", 2, "symmetric", "false", "quantizer", "RTN"));
        HttpApi.Answer asJsonPart = api.postMultipart("/v1/merges", parts("adapter", zip, "request",
                "{\"layerId\": \"" + layer + "\", \"quantizationBits\": 3, \"groupSize\": 2,"
                        + " \"metadata\": {\"from\": \"hub\"}}"));
        HttpApi.Answer asJson = api.postJson("/v1/merges", body(layer, A, B, "alpha", 2, "quantizationBits", 3,
                "groupSize", 2));

        for (HttpApi.Answer answer : List.of(asFields, asJsonPart, asJson)) {
            assertThat(answer.status()).as(answer.text()).isEqualTo(201);
        }
        JsonNode job = asFields.json();
        assertThat(job.get("merge").get("module").asString()).isEqualTo("encoder.layer.0.dense");
        assertThat(asJsonPart.json().get("metadata").get("from").asString()).isEqualTo("hub");
        JsonNode fromFields = api.get("/v1/jobs/" + job.get("id").asString() + "/merged?format=json").json();
        assertThat(api.get("/v1/jobs/" + asJsonPart.json().get("id").asString() + "/merged?format=json").json())
                .isEqualTo(fromFields);
        assertThat(api.get("/v1/jobs/" + asJson.json().get("id").asString() + "/merged?format=json").json())
                .isEqualTo(fromFields);
        assertMergedJsonIs(fromFields, Reference.of(MERGED, 2, 4, 3, 2, false), 2, 4, 2);

        byte[] peft = api.get("/v1/jobs/" + job.get("id").asString() + "/adapter?format=peft").body();
        assertThat(PeftImport.read(peft)).isEqualTo(adapter);
        assertThat(PeftImport.read(api.get("/v1/jobs/" + job.get("id").asString()
                + "/adapter?format=peft&module=dense").body()).moduleName()).isEqualTo("dense");
    }

    @Test
    void aCheckpointOfSeveralModulesNeedsTheModuleNamed() {
        String config = "{\"peft_type\": \"LORA\", \"r\": 1, \"lora_alpha\": 2, \"target_modules\": [\"q\", \"v\"]}";
        byte[] weights = SafetensorsWriter.toBytes(Map.of(), List.of(
                Tensor.f32("base_model.model.q.lora_A.weight", new int[] {1, 4}, A[0]),
                Tensor.f32("base_model.model.q.lora_B.weight", new int[] {2, 1}, new float[] {1, -0.5f}),
                Tensor.f32("base_model.model.v.lora_A.weight", new int[] {1, 3}, new float[] {1, 2, 3}),
                Tensor.f32("base_model.model.v.lora_B.weight", new int[] {5, 1}, new float[] {1, 2, 3, 4, 5})));
        byte[] zip = zip(Map.of("adapter_config.json", config.getBytes(), "adapter_model.safetensors", weights));
        int jobs = count("job");

        JsonNode unnamed = api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer))
                .problem(422, "invalid-parameter");
        assertThat(unnamed.get("field").asString()).isEqualTo("module");
        assertThat(unnamed.get("detail").asString()).contains("2 modules").contains("[q, v]");
        JsonNode otherShape = api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer, "module", "v"))
                .problem(422, "invalid-parameter");
        assertThat(otherShape.get("field").asString()).isEqualTo("adapter");
        assertThat(otherShape.get("detail").asString()).contains("[5, 3]").contains("[2, 4]");
        assertThat(count("job")).isEqualTo(jobs);

        HttpApi.Answer named = api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer, "module", "q",
                "quantizationBits", 3, "groupSize", 2));
        assertThat(named.status()).as(named.text()).isEqualTo(201);
        assertThat(named.json().get("merge").get("module").asString()).isEqualTo("q");
        assertMergedJsonIs(api.get("/v1/jobs/" + named.json().get("id").asString() + "/merged?format=json").json(),
                Reference.of(MERGED, 2, 4, 3, 2, false), 2, 4, 2);
    }

    @Test
    void aGptqMergeCalibratesOnTheDatasetsInputs() {
        int out = 8;
        int in = 16;
        float[][] w = new float[out][in];
        float[] flat = new float[out * in];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = ((i * 5 + 3) % 23 - 11) / 16f;
            w[i / in][i % in] = flat[i];
        }
        String gptqLayer = jsonLayer(api, w, null);
        float[][] a = new float[2][in];
        float[][] b = new float[out][2];
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < in; i++) {
                a[k][i] = ((k * 7 + i * 3) % 9 - 4) / 8f;
            }
            for (int o = 0; o < out; o++) {
                b[o][k] = ((o * 5 + k) % 7 - 3) / 8f;
            }
        }
        String calibration = Fixture.regression(api, 40, in, 3);

        HttpApi.Answer created = api.postJson("/v1/merges", body(gptqLayer, a, b, "alpha", 4.0, "rsLora", true,
                "quantizationBits", 4, "groupSize", 8, "symmetric", true, "quantizer", "GPTQ",
                "calibrationDatasetId", calibration));

        assertThat(created.status()).as(created.text()).isEqualTo(201);
        JsonNode job = created.json();
        assertThat(job.get("merge").get("quantizer").asString()).isEqualTo("GPTQ");
        assertThat(job.get("merge").get("calibrationDatasetId").asString()).isEqualTo(calibration);
        assertThat(job.get("merge").get("scaling").floatValue()).isEqualTo((float) (4 / Math.sqrt(2)));
        // W' = W + (alpha / sqrt r) B A; the factors are multiples of 1/8, so B A is exact.
        float s = (float) (4.0 / Math.sqrt(2));
        float[] merged = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                merged[o * in + i] = flat[o * in + i] + s * (b[o][0] * a[0][i] + b[o][1] * a[1][i]);
            }
        }
        QuantizedMatrix expected = GptqQuantizer.quantize(merged, out, in, Payloads.ramp(40 * in, 0.01f), 40,
                new QuantSpec(4, 8, true)).matrix();
        String id = job.get("id").asString();
        MergedLayer file = SafetensorsExport.readMerged(SafetensorsReader.read(api.get("/v1/jobs/" + id + "/merged")
                .body()));
        assertThat(file.weight()).isEqualTo(expected);
        assertThat(file.bias()).isNull();
        JsonNode result = api.get("/v1/jobs/" + id + "/result").json();
        assertThat(result.get("mergedLayer").get("quantizer").asString()).isEqualTo("GPTQ");
        assertThat(result.get("provenance").get("calibrationDatasetSha256").asString())
                .isEqualTo(api.get("/v1/datasets/" + calibration).json().get("sha256").asString());
        // GPTQ is fitted on the outputs, not the weights, so only the bound on every value holds.
        assertThat(result.get("quantization").get("mergedWeights").get("averageError").asDouble()).isPositive();
        HttpApi.Answer gptq = api.get("/v1/jobs/" + id + "/merged?format=gptq");
        assertThat(gptq.status()).as(gptq.text()).isEqualTo(200);
        assertThat(gptq.contentType()).isEqualTo("application/zip");
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyReturnsTheFirstMergeAndADifferentRequestConflicts() {
        String request = body(layer, A, B, "quantizationBits", 3, "groupSize", 2);
        String key = "merge-" + UUID.randomUUID();

        HttpApi.Answer first = api.postJson("/v1/merges", request, "Idempotency-Key", key);
        int jobs = count("job");
        HttpApi.Answer retry = api.postJson("/v1/merges", request, "Idempotency-Key", key);
        HttpApi.Answer other = api.postJson("/v1/merges", body(layer, A, B, "quantizationBits", 4, "groupSize", 2),
                "Idempotency-Key", key);

        assertThat(first.status()).isEqualTo(201);
        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.json().get("id")).isEqualTo(first.json().get("id"));
        other.problem(409, "conflict");
        assertThat(count("job")).isEqualTo(jobs);
    }

    @Test
    void preferRespondAsyncQueuesEvenASmallMerge() {
        HttpApi.Answer queued = api.postJson("/v1/merges", body(layer, A, B), "Prefer", "respond-async");

        assertThat(queued.status()).as(queued.text()).isEqualTo(202);
        String id = queued.json().get("id").asString();
        assertThat(queued.header("Location")).isEqualTo("/v1/jobs/" + id);
        assertThat(queued.header("Preference-Applied")).isEqualTo("respond-async");
        assertThat(queued.json().get("status").asString()).isEqualTo("QUEUED");
        assertThat(queued.json().get("merge").get("quantizationBits").asInt()).isEqualTo(4);
        assertThat(queued.json().get("merge").get("groupSize").asInt()).isEqualTo(64);
        assertThat(queued.json().get("merge").get("alpha").asDouble()).isEqualTo(1.0);
        api.get("/v1/jobs/" + id + "/result").problem(409, "conflict");
        // The adapter is stored with the queued job, and is why its layer cannot be deleted yet.
        api.delete("/v1/layers/" + layer).problem(409, "conflict");

        assertThat(api.post("/v1/jobs/" + id + "/cancel").json().get("status").asString()).isEqualTo("CANCELLED");
        assertThat(api.delete("/v1/layers/" + layer).status()).isEqualTo(204);
    }

    // Refusals: each names its field, and none stores a job, an event or a blob.

    private int count(String table) {
        return jdbc.sql("SELECT COUNT(*) FROM " + table).query(Integer.class).single();
    }

    private int[] stored() {
        return new int[] {count("job"), count("job_event"), count("blob"), count("job_result")};
    }

    private void refused(HttpApi.Answer answer, int status, String type, String field) {
        JsonNode p = answer.problem(status, type);
        if (field != null) {
            assertThat(p.get("field").asString()).as(p.toString()).isEqualTo(field);
        }
    }

    @Test
    void badJsonMergesAreRefusedNamingTheFieldAndStoreNothing() {
        String calibration = Fixture.regression(api, 4, 4, 2);
        String narrow = Fixture.regression(api, 4, 3, 2);
        int[] before = stored();
        float[][] a = A;
        float[][] b = B;

        refused(api.postJson("/v1/merges", body(null, a, b)), 422, "invalid-parameter", "layerId");
        JsonNode missing = api.postJson("/v1/merges", body(UUID.randomUUID().toString(), a, b))
                .problem(404, "not-found");
        assertThat(missing.get("resource").asString()).isEqualTo("layer");
        refused(api.postJson("/v1/merges", body(layer, null, b)), 422, "invalid-parameter", "loraA");
        refused(api.postJson("/v1/merges", body(layer, a, null)), 422, "invalid-parameter", "loraB");
        refused(api.postJson("/v1/merges", body(layer, new float[][] {{1, 2, 3, 4}, {1}}, b)), 422,
                "invalid-parameter", "loraA");
        refused(api.postJson("/v1/merges", body(layer, new float[][] {{1, 2, 3}}, b)), 422, "invalid-parameter",
                "loraA");
        refused(api.postJson("/v1/merges", body(layer, a, new float[][] {{1}, {2}, {3}})), 422, "invalid-parameter",
                "loraB");
        refused(api.postJson("/v1/merges", body(layer, a, new float[][] {{1, 2}, {3, 4}})), 422,
                "invalid-parameter", "loraB");
        JsonNode rank = api.postJson("/v1/merges", body(layer, new float[][] {{1, 2, 3, 4}, {1, 2, 3, 4},
                {1, 2, 3, 4}}, new float[][] {{1, 2, 3}, {4, 5, 6}})).problem(422, "invalid-parameter");
        assertThat(rank.get("field").asString()).isEqualTo("loraA");
        assertThat(rank.get("detail").asString()).contains("rank 3").contains("min(inFeatures, outFeatures) = 2");
        JsonNode overflow = api.postJson("/v1/merges", "{\"layerId\": \"" + layer + "\", \"loraA\": [[1, 2, 3, 1e39]],"
                + " \"loraB\": [[1], [2]]}").problem(422, "invalid-parameter");
        assertThat(overflow.get("field").asString()).isEqualTo("loraA");
        assertThat(overflow.get("detail").asString()).contains("[0][3]").contains("finite");
        refused(api.postJson("/v1/merges", body(layer, a, b, "alpha", 1e300)), 422, "invalid-parameter", "alpha");
        refused(api.postJson("/v1/merges", body(layer, a, b, "quantizationBits", 17)), 422, "invalid-parameter",
                "quantizationBits");
        refused(api.postJson("/v1/merges", body(layer, a, b, "quantizationBits", 1, "symmetric", true)), 422,
                "invalid-parameter", "quantizationBits");
        refused(api.postJson("/v1/merges", body(layer, a, b, "groupSize", 0)), 422, "invalid-parameter",
                "groupSize");
        refused(api.postJson("/v1/merges", body(layer, a, b, "quantizationBits", 2.5)), 400, "malformed-request",
                "quantizationBits");
        refused(api.postJson("/v1/merges", body(layer, a, b, "quantizer", "AWQ")), 400, "malformed-request",
                "quantizer");
        refused(api.postJson("/v1/merges", body(layer, a, b, "bits", 4)), 400, "malformed-request", "bits");
        refused(api.postJson("/v1/merges", body(layer, a, b, "loraA", "[[1]]")), 400, "malformed-request", "loraA");
        refused(api.postJson("/v1/merges", body(layer, a, b, "quantizer", "GPTQ")), 422, "invalid-parameter",
                "calibrationDatasetId");
        refused(api.postJson("/v1/merges", body(layer, a, b, "quantizer", "GPTQ", "calibrationDatasetId", narrow)),
                422, "invalid-parameter", "calibrationDatasetId");
        JsonNode noDataset = api.postJson("/v1/merges", body(layer, a, b, "quantizer", "GPTQ", "calibrationDatasetId",
                UUID.randomUUID().toString())).problem(404, "not-found");
        assertThat(noDataset.get("resource").asString()).isEqualTo("dataset");
        refused(api.postJson("/v1/merges", body(layer, a, b, "calibrationDatasetId", calibration)), 422,
                "invalid-parameter", "calibrationDatasetId");
        Map<String, String> tooMuch = new LinkedHashMap<>();
        for (int i = 0; i < 51; i++) {
            tooMuch.put("k" + i, "v");
        }
        refused(api.postJson("/v1/merges", body(layer, a, b, "metadata", tooMuch)), 422, "invalid-parameter",
                "metadata");
        refused(api.postJson("/v1/merges", body(layer, a, b), "Idempotency-Key", " "), 422, "invalid-parameter",
                "Idempotency-Key");
        refused(api.postJson("/v1/merges", "{\"layerId\": "), 400, "malformed-request", null);
        refused(api.postBytes("/v1/merges", "text/plain", "hello".getBytes()), 415, "unsupported-media-type", null);

        assertThat(stored()).as("jobs, events, blobs, results").containsExactly(before);
    }

    @Test
    void badPeftUploadsAreRefusedNamingTheFieldAndStoreNothing() {
        PeftAdapter adapter = new PeftAdapter("dense", 1, 4, 2, 2f, false, A[0], new float[] {1, -0.5f});
        byte[] zip = PeftExport.zip(adapter);
        int[] before = stored();

        refused(api.postMultipart("/v1/merges", parts("layerId", layer)), 400, "malformed-request", "adapter");
        refused(api.postMultipart("/v1/merges", parts("adapter", new byte[] {1, 2, 3}, "layerId", layer)), 422,
                "invalid-parameter", "adapter");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip)), 422, "invalid-parameter", "layerId");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", "not-a-uuid")), 400,
                "malformed-request", "layerId");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer, "quantizationBits", "four")),
                400, "malformed-request", "quantizationBits");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer, "quantizationBits", "2.5")),
                400, "malformed-request", "quantizationBits");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer, "rank", 2)), 400,
                "malformed-request", "rank");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "request", "{\"layerId\": \"" + layer + "\"}",
                "groupSize", 2)), 400, "malformed-request", "request");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "request", "null")), 400, "malformed-request",
                "request");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "request", "{\"layerId\": \"" + layer
                + "\", \"alpha\": 2}")), 400, "malformed-request", "alpha");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer, "module", "encoder")), 422,
                "invalid-parameter", "module");
        refused(api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer, "groupSize", 0)), 422,
                "invalid-parameter", "groupSize");
        assertThat(stored()).as("jobs, events, blobs, results").containsExactly(before);

        String wide = jsonLayer(api, new float[][] {{1, 2, 3}, {4, 5, 6}}, null);
        before = stored();
        JsonNode shape = api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", wide))
                .problem(422, "invalid-parameter");
        assertThat(shape.get("field").asString()).isEqualTo("adapter");
        assertThat(shape.get("detail").asString()).contains("[2, 4]").contains("[2, 3]");
        PeftAdapter negative = new PeftAdapter("dense", 1, 4, 2, -2f, false, A[0], new float[] {1, -0.5f});
        refused(api.postMultipart("/v1/merges", parts("adapter", PeftExport.zip(negative), "layerId", layer)), 422,
                "invalid-parameter", "adapter_config.json lora_alpha");

        assertThat(stored()).as("jobs, events, blobs, results").containsExactly(before);
    }

    static byte[] zip(Map<String, byte[]> entries) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(entries).entrySet()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
