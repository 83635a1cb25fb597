package io.qalora.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.qalora.store.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Three service processes share one PostgreSQL, reached through a TCP proxy the test can cut:
 * 30 jobs each finish exactly once although one process is killed mid-job and the database
 * disappears for a while, and readiness follows the database.
 */
class ReplicaFailoverIntegrationTests {

    private static final Pattern HOST_PORT = Pattern.compile("//([^/:?]+):(\\d+)/");

    private final TeacherTask task = new TeacherTask(8, 16, 11);

    private static int readiness(Http http) {
        try {
            return http.get("/actuator/health/readiness").status();
        } catch (RuntimeException notUpYet) {
            return -1;
        }
    }

    private static boolean busy(Instance instance) {
        return instance.http().get("/actuator/prometheus").text().lines()
                .anyMatch(l -> l.startsWith("qalora_workers_busy") && l.endsWith(" 1.0"));
    }

    @Test
    void thirtyJobsSurviveAKilledInstanceAndADatabaseOutage() throws Exception {
        String url = TestDatabases.postgresUrl();
        Matcher m = HOST_PORT.matcher(url);
        assertThat(m.find()).as("host and port in %s", url).isTrue();
        try (TcpProxy proxy = new TcpProxy(Integer.parseInt(m.group(2)))) {
            String proxied = m.replaceFirst("//127.0.0.1:" + proxy.port() + "/");
            List<Instance> instances = new ArrayList<>();
            try {
                for (String name : List.of("a", "b", "c")) {
                    instances.add(Instance.start(name, proxied));
                }
                for (Instance i : instances) {
                    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                            .until(() -> readiness(i.http()) == 200);
                }
                Instance a = instances.get(0);
                Instance c = instances.get(2);
                Http http = a.http();
                String layer = http.postBytes("/v1/layers?name=base", task.layerFile()).json().get("id").asString();
                String data = http.postBytes("/v1/datasets?name=d", task.regressionFile(64, 1)).json().get("id").asString();
                List<String> jobs = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    Map<String, Object> hp = new LinkedHashMap<>(Map.of("rank", 2, "groupSize", 8, "epochs", 400,
                            "batchSize", 16, "seed", i));
                    Http via = instances.get(i % 3).http();
                    jobs.add(via.postJson("/v1/jobs", Map.of("layerId", layer, "trainingDatasetId", data,
                            "hyperparameters", hp)).json().get("id").asString());
                }

                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> busy(c));
                c.kill();
                c.process.waitFor();

                proxy.cut();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                        .until(() -> readiness(http) == 503);
                proxy.restore();
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                        .until(() -> readiness(http) == 200);

                await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).until(() -> jobs.stream()
                        .allMatch(id -> http.get("/v1/jobs/" + id).json().get("status").asString().equals("SUCCEEDED")));
                int retried = 0;
                for (String id : jobs) {
                    JsonNode job = http.get("/v1/jobs/" + id).json();
                    retried += job.get("attempts").asInt() > 1 ? 1 : 0;
                    long succeeded = 0;
                    for (JsonNode e : http.get("/v1/jobs/" + id + "/events?after=0&limit=10000").json().get("data")) {
                        if (e.get("type").asString().equals("STATE") && e.get("message").asString().startsWith("SUCCEEDED")) {
                            succeeded++;
                        }
                    }
                    assertThat(succeeded).as("SUCCEEDED events of job %s", id).isEqualTo(1);
                    assertThat(http.get("/v1/jobs/" + id + "/result").status()).isEqualTo(200);
                }
                assertThat(retried).as("the killed instance's job ran again elsewhere").isGreaterThanOrEqualTo(1);
            } finally {
                instances.forEach(Instance::close);
            }
        }
    }
}
