package io.qalora.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.job.BlobStore;
import io.qalora.job.Job;
import io.qalora.job.JobError;
import io.qalora.job.JobRepository;
import io.qalora.job.JobResult;
import io.qalora.job.JobStatus;
import io.qalora.job.Sha256;
import io.qalora.job.StoredResult;
import io.qalora.lora.EngineInfo;
import io.qalora.lora.MergedLayer;
import io.qalora.lora.Metrics;
import io.qalora.lora.SafetensorsExport;
import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionOperations;
import tools.jackson.databind.JsonNode;

/**
 * The result endpoints of a SUCCEEDED job. Workers are off, so the test plays the worker: it
 * claims the job and finishes it with a result it made itself, through the same repository.
 */
@SmallLimitsIntegrationTest
class ResultsIntegrationTests {

    private static final QuantSpec SPEC = new QuantSpec(3, 2, false);

    @LocalServerPort
    int port;

    @Autowired
    JobRepository jobs;

    @Autowired
    BlobStore blobs;

    @Autowired
    TransactionOperations tx;

    @Autowired
    JdbcClient jdbc;

    HttpApi api;

    @BeforeEach
    void client() {
        api = new HttpApi(port);
    }

    /** A job that SUCCEEDED with a merged layer [out, in] and an adapter, and the files it stored. */
    record Succeeded(String id, MergedLayer layer, byte[] merged, byte[] adapter, StoredResult stored) {
    }

    Succeeded succeeded(int out, int in) {
        String layerId = Fixture.layer(api, out, in);
        String datasetId = Fixture.regression(api, 4, in, out);
        String id = api.postJson("/v1/jobs", Fixture.job(layerId, datasetId, "{\"rank\": 1, \"seed\": 7}"))
                .json().get("id").asString();

        float[] weight = Payloads.ramp(out * in, 0.37f);
        float[] bias = Payloads.ramp(out, -0.5f);
        QuantizedMatrix q = GroupQuantizer.quantize(weight, out, in, SPEC);
        MergedLayer layer = new MergedLayer(q, bias);
        byte[] merged = SafetensorsWriter.toBytes(SafetensorsExport.merged(layer, Map.of()));
        byte[] adapter = SafetensorsWriter.toBytes(Map.of("format", "qalora-adapter/1"), List.of(
                Tensor.f32("lora_A", new int[] {1, in}, Payloads.ramp(in, 0.01f)),
                Tensor.f32("lora_B", new int[] {out, 1}, Payloads.ramp(out, 0.02f))));
        JobResult report = new JobResult(
                new JobResult.Quantization(new QuantStats(0.01, 0.05, 4, in + out), q.stats(weight), null),
                new JobResult.Evaluation("training", new Metrics(0.125, null), new Metrics(0.25, null),
                        new Metrics(1.5, null), null, null, null),
                new JobResult.MergedLayer(SPEC.bits(), SPEC.groupSize(), SPEC.symmetric(), in, out,
                        io.qalora.quant.QuantizerKind.RTN),
                new JobResult.Provenance(EngineInfo.VERSION, 7, "a".repeat(64), "b".repeat(64), null, 1.25, 12, 2));

        Instant now = Instant.now();
        UUID target = UUID.fromString(id);
        for (Job claimed; !(claimed = jobs.claimNext("test", Duration.ofMinutes(5), now)
                .orElseThrow(() -> new AssertionError("job " + id + " is not queued"))).id().equals(target);) {
            jobs.finish(claimed.id(), "test", JobStatus.CANCELLED, new JobError("CANCELLED", "cleared by a test"),
                    null, null, null, now);
        }
        StoredResult stored = tx.execute(s -> new StoredResult(report,
                blobs.write(new ByteArrayInputStream(merged), Long.MAX_VALUE),
                blobs.write(new ByteArrayInputStream(adapter), Long.MAX_VALUE)));
        assertThat(jobs.finish(target, "test", JobStatus.SUCCEEDED, null, 0.2, 0.25, stored, now)).isTrue();
        return new Succeeded(id, layer, merged, adapter, stored);
    }

    @Test
    void theReportMirrorsTheStoredResult() {
        Succeeded job = succeeded(2, 4);

        JsonNode status = api.get("/v1/jobs/" + job.id()).json();
        assertThat(status.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(status.get("trainLoss").asDouble()).isEqualTo(0.2);
        assertThat(status.get("validationLoss").asDouble()).isEqualTo(0.25);

        HttpApi.Answer answer = api.get("/v1/jobs/" + job.id() + "/result");
        assertThat(answer.status()).isEqualTo(200);
        JsonNode r = answer.json();
        JsonNode lora = r.get("quantization").get("loraFactors");
        assertThat(lora.get("averageError").asDouble()).isEqualTo(0.01);
        assertThat(lora.get("maxError").asDouble()).isEqualTo(0.05);
        assertThat(lora.get("numGroups").asLong()).isEqualTo(4);
        assertThat(lora.get("elements").asLong()).isEqualTo(6);
        QuantStats merged = job.stored().result().quantization().mergedWeights();
        assertThat(r.get("quantization").get("mergedWeights").get("averageError").asDouble())
                .isEqualTo(merged.averageError());
        assertThat(r.get("quantization").get("mergedWeights").get("numGroups").asLong()).isEqualTo(4);
        JsonNode evaluation = r.get("evaluation");
        assertThat(evaluation.get("dataset").asString()).isEqualTo("training");
        assertThat(evaluation.get("fullPrecision").get("loss").asDouble()).isEqualTo(0.125);
        assertThat(evaluation.get("quantized").get("loss").asDouble()).isEqualTo(0.25);
        assertThat(evaluation.get("baseOnly").get("loss").asDouble()).isEqualTo(1.5);
        assertThat(evaluation.get("fullPrecision").has("accuracy")).isFalse();
        assertThat(evaluation.has("ptqBaseline")).isFalse();
        JsonNode layer = r.get("mergedLayer");
        assertThat(layer.get("bits").asInt()).isEqualTo(3);
        assertThat(layer.get("groupSize").asInt()).isEqualTo(2);
        assertThat(layer.get("symmetric").asBoolean()).isFalse();
        assertThat(layer.get("inFeatures").asInt()).isEqualTo(4);
        assertThat(layer.get("outFeatures").asInt()).isEqualTo(2);
        JsonNode provenance = r.get("provenance");
        assertThat(provenance.get("engineVersion").asString()).isEqualTo(EngineInfo.VERSION);
        assertThat(provenance.get("seed").asLong()).isEqualTo(7);
        assertThat(provenance.get("layerSha256").asString()).isEqualTo("a".repeat(64));
        assertThat(provenance.get("steps").asLong()).isEqualTo(12);
        assertThat(provenance.get("blasThreads").asInt()).isEqualTo(2);
    }

    @Test
    void theMergedLayerAndTheAdapterAreServedByteForByte() {
        Succeeded job = succeeded(2, 4);

        HttpApi.Answer merged = api.get("/v1/jobs/" + job.id() + "/merged");
        assertThat(merged.status()).isEqualTo(200);
        assertThat(merged.contentType()).isEqualTo("application/octet-stream");
        assertThat(merged.body()).isEqualTo(job.merged());
        assertThat(merged.header("ETag")).isEqualTo("\"" + Sha256.hex(job.merged()) + "\"");
        assertThat(merged.header("Content-Disposition")).contains("job-" + job.id() + "-merged.safetensors");
        assertThat(api.get("/v1/jobs/" + job.id() + "/merged?format=safetensors").body()).isEqualTo(job.merged());
        assertThat(api.get("/v1/jobs/" + job.id() + "/merged", "If-None-Match", merged.header("ETag")).status())
                .isEqualTo(304);

        HttpApi.Answer adapter = api.get("/v1/jobs/" + job.id() + "/adapter");
        assertThat(adapter.status()).isEqualTo(200);
        assertThat(adapter.body()).isEqualTo(job.adapter());
        assertThat(adapter.header("ETag")).isEqualTo("\"" + Sha256.hex(job.adapter()) + "\"");
    }

    @Test
    void theMergedLayerAsJsonHasTheCodesUnpacked() {
        Succeeded job = succeeded(2, 4);
        QuantizedMatrix q = job.layer().weight();

        HttpApi.Answer answer = api.get("/v1/jobs/" + job.id() + "/merged?format=json");

        assertThat(answer.status()).as(answer.text()).isEqualTo(200);
        assertThat(answer.contentType()).startsWith("application/json");
        JsonNode m = answer.json();
        assertThat(m.get("bits").asInt()).isEqualTo(3);
        assertThat(m.get("groupSize").asInt()).isEqualTo(2);
        assertThat(m.get("symmetric").asBoolean()).isFalse();
        assertThat(m.get("inFeatures").asInt()).isEqualTo(4);
        assertThat(m.get("outFeatures").asInt()).isEqualTo(2);
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 4; c++) {
                assertThat(m.get("codes").get(r).get(c).asInt()).isEqualTo(q.code(r, c));
                assertThat((float) m.get("weight").get(r).get(c).asDouble()).isEqualTo(q.dequantized()[r * 4 + c]);
            }
            for (int g = 0; g < 2; g++) {
                assertThat((float) m.get("scales").get(r).get(g).asDouble()).isEqualTo(q.scales()[r * 2 + g]);
                assertThat((float) m.get("zeros").get(r).get(g).asDouble()).isEqualTo(q.zeros()[r * 2 + g]);
            }
            assertThat((float) m.get("bias").get(r).asDouble()).isEqualTo(job.layer().bias()[r]);
        }
        assertThat(m.get("codes").get(1).get(3).asInt()).isBetween(0, 7);
    }

    @Test
    void aLayerOverTheJsonLimitIsRefusedInFavourOfSafetensors() {
        Succeeded job = succeeded(4, 4);

        JsonNode p = api.get("/v1/jobs/" + job.id() + "/merged?format=json").problem(422, "result-too-large-for-json");

        assertThat(p.get("maxElements").asLong()).isEqualTo(8);
        assertThat(p.get("detail").asString()).contains("16 weights").contains("safetensors");
        assertThat(api.get("/v1/jobs/" + job.id() + "/merged").body()).isEqualTo(job.merged());
    }

    @Test
    void aStoredFileThatNoLongerMatchesItsHashIsAServerProblemWithoutInternals() {
        Succeeded job = succeeded(2, 4);
        byte[] flipped = job.merged().clone();
        flipped[flipped.length - 1] ^= 1;
        jdbc.sql("UPDATE blob_chunk SET data = :data WHERE blob_id = :id")
                .param("data", flipped).param("id", job.stored().merged().id()).update();

        JsonNode p = api.get("/v1/jobs/" + job.id() + "/merged").problem(500, "corrupt-data");

        assertThat(p.get("detail").asString()).contains(job.stored().merged().id().toString())
                .doesNotContain("Exception").doesNotContain("at io.qalora");
        assertThat(api.get("/v1/jobs/" + job.id() + "/adapter").body()).isEqualTo(job.adapter());
    }

    @Test
    void resultsOfAJobNotYetSucceededAreAConflict() {
        String layerId = Fixture.layer(api, 2, 4);
        String id = api.postJson("/v1/jobs", Fixture.job(layerId, Fixture.regression(api, 4, 4, 2), "{\"rank\": 1}"))
                .json().get("id").asString();

        api.get("/v1/jobs/" + id + "/result").problem(409, "conflict");
        api.get("/v1/jobs/" + id + "/merged?format=json").problem(409, "conflict");
        api.get("/v1/jobs/" + id + "/adapter").problem(409, "conflict");
        api.post("/v1/jobs/" + id + "/cancel");
    }
}
