package io.qalora.api;

import static io.qalora.api.HttpApi.parts;
import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.job.Sha256;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

@ApiIntegrationTest
class LayerApiIntegrationTests {

    @LocalServerPort
    int port;

    HttpApi api;

    @BeforeEach
    void client() {
        api = new HttpApi(port);
    }

    @Test
    void rawSafetensorsUploadIsStoredAndDownloadedByteForByte() {
        byte[] file = Payloads.layer(3, 5, true);

        HttpApi.Answer created = api.postBytes("/v1/layers?name=raw%20layer", "application/octet-stream", file);

        assertThat(created.status()).isEqualTo(201);
        JsonNode layer = created.json();
        String id = layer.get("id").asString();
        assertThat(created.header("Location")).isEqualTo("/v1/layers/" + id);
        assertThat(layer.get("name").asString()).isEqualTo("raw layer");
        assertThat(layer.get("inFeatures").asInt()).isEqualTo(5);
        assertThat(layer.get("outFeatures").asInt()).isEqualTo(3);
        assertThat(layer.get("hasBias").asBoolean()).isTrue();
        assertThat(layer.get("sha256").asString()).isEqualTo(Sha256.hex(file));
        assertThat(layer.get("sizeBytes").asLong()).isEqualTo(file.length);
        assertThat(layer.get("createdAt").asString()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");

        HttpApi.Answer weights = api.get("/v1/layers/" + id + "/weights");
        assertThat(weights.status()).isEqualTo(200);
        assertThat(weights.contentType()).isEqualTo("application/octet-stream");
        assertThat(weights.body()).isEqualTo(file);
        assertThat(weights.header("ETag")).isEqualTo("\"" + Sha256.hex(file) + "\"");
        assertThat(weights.header("Content-Disposition")).isEqualTo("attachment; filename=\"raw_layer.safetensors\"");
        assertThat(weights.header("Content-Length")).isEqualTo(Integer.toString(file.length));

        HttpApi.Answer again = api.get("/v1/layers/" + id + "/weights", "If-None-Match", weights.header("ETag"));
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();

        HttpApi.Answer firstTen = api.get("/v1/layers/" + id + "/weights", "Range", "bytes=0-9");
        assertThat(firstTen.status()).isEqualTo(206);
        assertThat(firstTen.body()).isEqualTo(Arrays.copyOf(file, 10));
        assertThat(firstTen.header("Content-Range")).isEqualTo("bytes 0-9/" + file.length);
        HttpApi.Answer rest = api.get("/v1/layers/" + id + "/weights", "Range", "bytes=10-");
        assertThat(rest.status()).isEqualTo(206);
        assertThat(rest.body()).isEqualTo(Arrays.copyOfRange(file, 10, file.length));
    }

    @Test
    void multipartUploadTakesTheNameFromAPart() {
        byte[] file = Payloads.layer(2, 4, false);

        HttpApi.Answer created = api.postMultipart("/v1/layers", parts("name", "multi", "file", file));

        assertThat(created.status()).as(created.text()).isEqualTo(201);
        JsonNode layer = created.json();
        assertThat(layer.get("name").asString()).isEqualTo("multi");
        assertThat(layer.get("inFeatures").asInt()).isEqualTo(4);
        assertThat(layer.get("outFeatures").asInt()).isEqualTo(2);
        assertThat(layer.get("hasBias").asBoolean()).isFalse();
        assertThat(layer.get("sha256").asString()).isEqualTo(Sha256.hex(file));
        assertThat(api.get("/v1/layers/" + layer.get("id").asString() + "/weights").body()).isEqualTo(file);
    }

    @Test
    void jsonUploadIsStoredAsTheF32FileOfTheSameLayer() {
        HttpApi.Answer created = api.postJson("/v1/layers", """
                {"name": "json", "weight": [[0.0, 0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8, 0.9], [1.0, 1.1, 1.2, 1.3, 1.4]],
                 "bias": [0.0, -0.1, -0.2]}""");

        assertThat(created.status()).as(created.text()).isEqualTo(201);
        JsonNode layer = created.json();
        assertThat(layer.get("inFeatures").asInt()).isEqualTo(5);
        assertThat(layer.get("outFeatures").asInt()).isEqualTo(3);
        assertThat(layer.get("hasBias").asBoolean()).isTrue();
        // The same values as a ramp of step 0.1 computed in float: the same bytes.
        byte[] expected = Payloads.layer(3, 5, true);
        byte[] stored = api.get("/v1/layers/" + layer.get("id").asString() + "/weights").body();
        assertThat(layer.get("sha256").asString()).isEqualTo(Sha256.hex(stored));
        assertThat(layer.get("sizeBytes").asLong()).isEqualTo(stored.length);
        assertThat(stored).hasSameSizeAs(expected);
    }

    @Test
    void getListAndDelete() {
        String first = api.postBytes("/v1/layers?name=a", "application/octet-stream", Payloads.layer(1, 1, false))
                .json().get("id").asString();
        String second = api.postBytes("/v1/layers?name=b", "application/octet-stream", Payloads.layer(1, 1, false))
                .json().get("id").asString();

        JsonNode got = api.get("/v1/layers/" + first).json();
        assertThat(got.get("name").asString()).isEqualTo("a");

        JsonNode page = api.get("/v1/layers?limit=1").json();
        assertThat(page.get("data").size()).isEqualTo(1);
        assertThat(page.get("data").get(0).get("id").asString()).isEqualTo(second);
        assertThat(page.get("hasMore").asBoolean()).isTrue();
        JsonNode next = api.get("/v1/layers?limit=1&after=" + second).json();
        assertThat(next.get("data").get(0).get("id").asString()).isEqualTo(first);

        int before = api.count("/v1/layers");
        assertThat(api.delete("/v1/layers/" + first).status()).isEqualTo(204);
        assertThat(api.count("/v1/layers")).isEqualTo(before - 1);
        api.get("/v1/layers/" + first).problem(404, "not-found");
        api.delete("/v1/layers/" + first).problem(404, "not-found");
        api.get("/v1/layers/" + first + "/weights").problem(404, "not-found");
    }
}
