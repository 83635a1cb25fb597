package io.qalora.api;

import static io.qalora.api.HttpApi.parts;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** Uploads above {@code qalora.uploads.max-bytes} (4096 here) are refused with 413, and nothing of them stays. */
@SmallLimitsIntegrationTest
class UploadLimitIntegrationTests {

    @LocalServerPort
    int port;

    HttpApi api;
    int layers;
    int datasets;

    @BeforeEach
    void counts() {
        api = new HttpApi(port);
        layers = api.count("/v1/layers");
        datasets = api.count("/v1/datasets");
    }

    @AfterEach
    void nothingWasStored() {
        assertThat(api.count("/v1/layers")).isEqualTo(layers);
        assertThat(api.count("/v1/datasets")).isEqualTo(datasets);
    }

    @Test
    void aRawBodyLongerThanTheLimitIsRefusedBeforeItIsRead() {
        byte[] file = Payloads.layer(40, 40, false);

        JsonNode p = api.postBytes("/v1/layers", "application/octet-stream", file).problem(413, "payload-too-large");

        assertThat(p.get("limitBytes").asLong()).isEqualTo(4096);
        api.postBytes("/v1/datasets", "application/octet-stream", Payloads.regression(100, 10, 2))
                .problem(413, "payload-too-large");
    }

    @Test
    void aRawBodyOfUnknownLengthIsCutOffWhileStreaming() {
        byte[] file = Payloads.layer(40, 40, false);

        JsonNode p = api.postStream("/v1/layers", file).problem(413, "payload-too-large");

        assertThat(p.get("limitBytes").asLong()).isEqualTo(4096);
    }

    @Test
    void aJsonBodyOfUnknownLengthIsCutOffWhileBeingRead() {
        byte[] body = ("{\"weight\": " + Payloads.matrix(60, 60, "0.5") + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(body.length).isGreaterThan(4096);

        api.postStream("/v1/layers", "application/json", body).problem(413, "payload-too-large");
        api.postStream("/v1/jobs", "application/json", body).problem(413, "payload-too-large");
    }

    @Test
    void aSmallJsonBodyWhoseFileExceedsTheLimitIsRefused() {
        String body = "{\"weight\": " + Payloads.matrix(33, 33, "0") + "}";
        assertThat(body.length()).isLessThan(4096);

        api.postJson("/v1/layers", body).problem(413, "payload-too-large");
    }

    @Test
    void aJsonBodyLongerThanTheLimitIsRefused() {
        api.postJson("/v1/layers", "{\"weight\": " + Payloads.matrix(60, 60, "0.5") + "}")
                .problem(413, "payload-too-large");
        api.postJson("/v1/datasets", "{\"inputs\": " + Payloads.matrix(60, 60, "0.5") + ", \"labels\": [0]}")
                .problem(413, "payload-too-large");
    }

    @Test
    void aMultipartFileOverTheLimitIsRefused() {
        JsonNode p = api.postMultipart("/v1/layers", parts("file", Payloads.layer(40, 40, false)))
                .problem(413, "payload-too-large");
        assertThat(p.get("limitBytes").asLong()).isEqualTo(4096);
        api.postMultipart("/v1/datasets", parts("file", Payloads.regression(100, 10, 2)))
                .problem(413, "payload-too-large");
    }

    @Test
    void aMultipartPartOverTheServersPartLimitIsRefused() {
        api.postMultipart("/v1/layers", parts("file", Payloads.layer(80, 80, false))).problem(413, "payload-too-large");
    }

    @Test
    void anUploadWithinTheLimitIsStored() {
        assertThat(api.postBytes("/v1/layers", "application/octet-stream", Payloads.layer(8, 8, true)).status())
                .isEqualTo(201);
        layers++;
    }
}
