package io.qalora.api;

import static io.qalora.api.HttpApi.parts;
import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.lora.PeftAdapter;
import io.qalora.lora.PeftExport;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * Merges against small limits: layers above 16 weights are queued instead of merged in the
 * request, and bodies or checkpoints above 4096 bytes are refused with 413.
 */
@SmallLimitsIntegrationTest
class MergeLimitsIntegrationTests {

    @LocalServerPort
    int port;

    HttpApi api;

    @BeforeEach
    void client() {
        api = new HttpApi(port);
    }

    private static String factors(String layer, int out, int in) {
        return "{\"layerId\": \"" + layer + "\", \"loraA\": " + Payloads.matrix(1, in, "0.5") + ", \"loraB\": "
                + Payloads.matrix(out, 1, "0.25") + ", \"groupSize\": 4}";
    }

    @Test
    void aLayerUpToTheThresholdIsMergedInTheRequestALargerOneIsQueued() {
        String small = Fixture.layer(api, 4, 4);
        String large = Fixture.layer(api, 4, 8);

        HttpApi.Answer merged = api.postJson("/v1/merges", factors(small, 4, 4));
        HttpApi.Answer queued = api.postJson("/v1/merges", factors(large, 4, 8));

        assertThat(merged.status()).as(merged.text()).isEqualTo(201);
        assertThat(merged.json().get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(queued.status()).as(queued.text()).isEqualTo(202);
        String id = queued.json().get("id").asString();
        assertThat(queued.header("Location")).isEqualTo("/v1/jobs/" + id);
        assertThat(queued.header("Preference-Applied")).isNull();
        JsonNode job = queued.json();
        assertThat(job.get("status").asString()).isEqualTo("QUEUED");
        assertThat(job.get("kind").asString()).isEqualTo("MERGE");
        assertThat(job.get("attempts").asInt()).isZero();
        assertThat(job.has("startedAt")).isFalse();
        assertThat(api.get("/v1/jobs/" + id + "/events").json().get("data").get(0).get("message").asString())
                .isEqualTo("QUEUED");
        api.post("/v1/jobs/" + id + "/cancel");
    }

    @Test
    void bodiesAndCheckpointsOverTheUploadLimitAreRefused() {
        String layer = Fixture.layer(api, 2, 4);
        int jobs = api.count("/v1/jobs");
        String huge = "{\"layerId\": \"" + layer + "\", \"loraA\": " + Payloads.matrix(300, 4, "0.125")
                + ", \"loraB\": " + Payloads.matrix(2, 300, "0.125") + "}";
        assertThat(huge.length()).isGreaterThan(4096);

        JsonNode declared = api.postJson("/v1/merges", huge).problem(413, "payload-too-large");
        api.postStream("/v1/merges", "application/json", huge.getBytes(StandardCharsets.UTF_8))
                .problem(413, "payload-too-large");
        // Random factors, which deflate does not shrink much.
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        float[] a = new float[2 * 800];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextDouble();
        }
        byte[] zip = PeftExport.zip(new PeftAdapter("dense", 400, 4, 2, 1, false, a, new float[800]));
        assertThat(zip.length).isBetween(4097, 16 * 1024);
        JsonNode checkpoint = api.postMultipart("/v1/merges", parts("adapter", zip, "layerId", layer))
                .problem(413, "payload-too-large");

        assertThat(declared.get("limitBytes").asLong()).isEqualTo(4096);
        assertThat(checkpoint.get("limitBytes").asLong()).isEqualTo(4096);
        assertThat(api.count("/v1/jobs")).isEqualTo(jobs);
    }
}
