package io.qalora.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.QaLoraApplication;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.json.JsonMapper;

/** The warm-up runs before readiness, polls the newest job (or an unknown one) and stays out of the metrics. */
class StartupWarmUpIntegrationTests {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private final AtomicReference<StartupWarmUp.Result> atReadiness = new AtomicReference<>();
    private final String database = "jdbc:h2:mem:warm-up-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";

    private ConfigurableApplicationContext start(int warmUpRequests, String contextPath) {
        atReadiness.set(null);
        ApplicationListener<AvailabilityChangeEvent<?>> readiness = event -> {
            if (event.getState() == ReadinessState.ACCEPTING_TRAFFIC) {
                atReadiness.set(((ApplicationContext) event.getSource()).getBean(StartupWarmUp.class).result());
            }
        };
        return new SpringApplicationBuilder(QaLoraApplication.class).listeners(readiness).run(
                "--server.port=0", "--spring.datasource.url=" + database, "--server.servlet.context-path=" + contextPath,
                "--qalora.workers.enabled=false", "--spring.jmx.enabled=false",
                "--qalora.warm-up.requests=" + warmUpRequests);
    }

    @Test
    void pollsAnUnknownJobOnAnEmptyDatabaseAndTheNewestJobOtherwiseBeforeReadiness() throws Exception {
        try (ConfigurableApplicationContext first = start(100, "")) {
            assertThat(atReadiness.get()).as("warm-up finished when readiness was published").isNotNull();
            assertThat(atReadiness.get().statuses()).isEqualTo(Map.of(404, 100));
            assertThat(atReadiness.get().stoppedBy()).isNull();
            String job = submitJob(port(first));

            try (ConfigurableApplicationContext second = start(300, "/api")) {
                assertThat(atReadiness.get().statuses()).as("under the context path").isEqualTo(Map.of(200, 300));
                assertThat(atReadiness.get().requests()).isEqualTo(300);
                assertThat(send(port(second), HttpRequest.newBuilder().GET(), "/api/v1/jobs/" + job).statusCode())
                        .isEqualTo(200);
                assertThat(send(port(second), HttpRequest.newBuilder().GET().header(StartupWarmUp.HEADER, "guess"),
                        "/api/v1/jobs/" + job).statusCode()).isEqualTo(200);
                String metrics = send(port(second), HttpRequest.newBuilder().GET(), "/api/actuator/prometheus").body();
                assertThat(metrics).as("only the test's own requests are counted, one with a wrong token")
                        .contains("http_server_requests_seconds_count{application=\"qalora-service\",error=\"none\","
                                + "exception=\"none\",method=\"GET\",outcome=\"SUCCESS\",status=\"200\","
                                + "uri=\"/v1/jobs/{id}\"} 2")
                        .doesNotContain("uri=\"/v1/jobs/{id}/events\"");
            }
        }
    }

    @Test
    void isOffWithZeroRequests() {
        try (ConfigurableApplicationContext context = start(0, "")) {
            assertThat(context.getBean(StartupWarmUp.class).result()).isNull();
        }
    }

    private static int port(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    private static String submitJob(int port) throws IOException, InterruptedException {
        String layer = postJson(port, "/v1/layers?name=warm", """
                {"name":"warm","weight":[[0.5,-0.2,0.1,0.3],[0.0,0.4,-0.3,0.2]],"bias":[0.1,-0.1]}""");
        String data = postJson(port, "/v1/datasets", """
                {"name":"warm","inputs":[[1,0,0,0],[0,1,0,0]],"targets":[[0.7,0.1],[-0.1,0.5]]}""");
        return postJson(port, "/v1/jobs", """
                {"layerId":"%s","trainingDatasetId":"%s","hyperparameters":{"rank":1,"groupSize":2}}"""
                .formatted(layer, data));
    }

    private static String postJson(int port, String path, String json) throws IOException, InterruptedException {
        HttpResponse<String> response = send(port, HttpRequest.newBuilder().header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)), path);
        assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(201);
        return JsonMapper.builder().build().readTree(response.body()).get("id").asString();
    }

    private static HttpResponse<String> send(int port, HttpRequest.Builder request, String path)
            throws IOException, InterruptedException {
        return CLIENT.send(request.uri(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
