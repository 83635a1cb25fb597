package io.qalora.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The committed {@code openapi/openapi.yaml} is what the service serves. After a change to the API,
 * regenerate it with {@code ./mvnw -B test -Dtest=OpenApiSpecTests -Dqalora.openapi.write=true}.
 */
@ApiIntegrationTest
class OpenApiSpecTests {

    static final Path SPEC = Path.of("openapi", "openapi.yaml");
    static final String REGENERATE = "./mvnw -B test -Dtest=OpenApiSpecTests -Dqalora.openapi.write=true";

    @LocalServerPort
    int port;

    @Test
    void theCommittedSpecIsTheServedOne() throws IOException {
        HttpApi.Answer answer = new HttpApi(port).get("/v3/api-docs.yaml");
        assertThat(answer.status()).isEqualTo(200);
        String served = answer.text();

        if (Boolean.getBoolean("qalora.openapi.write")) {
            Files.createDirectories(SPEC.getParent());
            Files.writeString(SPEC, served, StandardCharsets.UTF_8);
            return;
        }
        if (!Files.exists(SPEC)) {
            fail(SPEC + " is missing; create it with: " + REGENERATE);
        }
        String committed = Files.readString(SPEC, StandardCharsets.UTF_8);
        if (!committed.equals(served)) {
            fail(SPEC + " differs from the served /v3/api-docs.yaml, first at line " + firstDifference(committed, served)
                    + ". If the API change is intended, regenerate the file with: " + REGENERATE);
        }
    }

    @Test
    void theSpecDescribesEveryOperationWithoutHostOrPort() {
        String served = new HttpApi(port).get("/v3/api-docs.yaml").text();

        assertThat(served).doesNotContain("localhost").doesNotContain(":" + port);
        assertThat(served).contains("url: /");
        for (String operation : List.of("uploadLayer", "listLayers", "getLayer", "downloadLayerWeights", "deleteLayer",
                "uploadDataset", "listDatasets", "getDataset", "downloadDataset", "deleteDataset", "submitJob",
                "listJobs", "getJob", "cancelJob", "listJobEvents", "getJobResult", "downloadMergedLayer",
                "downloadAdapter", "mergeAdapter")) {
            assertThat(served).contains("operationId: " + operation);
        }
        assertThat(served).contains("application/problem+json").contains("multipart/form-data")
                .contains("application/octet-stream");
    }

    private static String firstDifference(String a, String b) {
        String[] x = a.split("\n", -1);
        String[] y = b.split("\n", -1);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            if (!x[i].equals(y[i])) {
                return (i + 1) + "\n  committed: " + x[i] + "\n  served:    " + y[i];
            }
        }
        return Math.min(x.length, y.length) + 1 + " (one file is longer)";
    }
}
