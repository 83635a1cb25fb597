package io.qalora.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.qalora.QaLoraApplication;
import io.qalora.job.Job;
import io.qalora.job.JobRepository;
import io.qalora.store.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** Several instances sharing one PostgreSQL, which is both their store and their queue. */
class MultiInstanceIntegrationTests {

    private final List<ConfigurableApplicationContext> instances = new ArrayList<>();
    private final TeacherTask task = new TeacherTask(8, 16, 5);

    private ConfigurableApplicationContext start(String jdbcUrl, boolean workers) {
        // Command-line arguments, not builder properties: those are defaults that application.yaml overrides.
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(QaLoraApplication.class).run(
                "--server.port=0", "--spring.datasource.url=" + jdbcUrl,
                "--qalora.workers.enabled=" + workers, "--qalora.workers.threads=2",
                "--qalora.workers.poll-interval=50ms", "--qalora.workers.lease=5s",
                "--qalora.workers.heartbeat-interval=200ms", "--qalora.workers.reaper-interval=200ms",
                "--spring.jmx.enabled=false");
        instances.add(ctx);
        return ctx;
    }

    private static Http http(ConfigurableApplicationContext ctx) {
        return new Http(Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port")));
    }

    @AfterEach
    void stopInstances() {
        instances.forEach(ConfigurableApplicationContext::close);
    }

    private Map<String, Object> smallJob(String layer, String dataset, int index) {
        Map<String, Object> hp = new LinkedHashMap<>();
        hp.put("rank", 2);
        hp.put("groupSize", 8);
        hp.put("epochs", 2);
        hp.put("batchSize", 16);
        hp.put("seed", index);
        return Map.of("layerId", layer, "trainingDatasetId", dataset, "hyperparameters", hp);
    }

    private String[] uploads(Http http) {
        String layer = http.postBytes("/v1/layers?name=base", task.layerFile()).json().get("id").asString();
        String dataset = http.postBytes("/v1/datasets?name=d", task.regressionFile(64, 1)).json().get("id").asString();
        return new String[] {layer, dataset};
    }

    @Test
    void twentyJobsOnTwoInstancesEachRunExactlyOnce() {
        String url = TestDatabases.postgresUrl();
        ConfigurableApplicationContext a = start(url, true);
        ConfigurableApplicationContext b = start(url, true);
        String[] ids = uploads(http(a));
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Http via = i % 2 == 0 ? http(a) : http(b);
            jobs.add(via.postJson("/v1/jobs", smallJob(ids[0], ids[1], i)).json().get("id").asString());
        }
        Http http = http(b);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> jobs.stream()
                .allMatch(id -> http.get("/v1/jobs/" + id).json().get("status").asString().equals("SUCCEEDED")));
        Set<String> owners = new HashSet<>();
        for (String id : jobs) {
            assertThat(http.get("/v1/jobs/" + id).json().get("attempts").asInt()).isEqualTo(1);
            List<String> running = new ArrayList<>();
            for (JsonNode e : http.get("/v1/jobs/" + id + "/events?after=0&limit=10000").json().get("data")) {
                if (e.get("type").asString().equals("STATE") && e.get("message").asString().startsWith("RUNNING")) {
                    running.add(e.get("message").asString());
                }
            }
            assertThat(running).as("job %s", id).hasSize(1);
            owners.add(running.get(0).substring(running.get(0).indexOf(" on ") + 4));
        }
        assertThat(owners).as("both instances ran jobs").hasSize(2);
        assertThat(a.getBean(JobRepository.class).countByStatus(io.qalora.job.JobStatus.SUCCEEDED)).isEqualTo(20);
    }

    @Test
    void aStoppingInstanceHandsItsRunningJobBackForAnotherToFinish() {
        String url = TestDatabases.postgresUrl();
        JobRepository jobs = start(url, false).getBean(JobRepository.class);
        ConfigurableApplicationContext first = start(url, true);
        String[] ids = uploads(http(first));
        Map<String, Object> request = new LinkedHashMap<>(smallJob(ids[0], ids[1], 3));
        @SuppressWarnings("unchecked")
        Map<String, Object> hp = new LinkedHashMap<>((Map<String, Object>) request.get("hyperparameters"));
        hp.put("epochs", 10_000);
        request.put("hyperparameters", hp);
        String id = http(first).postJson("/v1/jobs", request).json().get("id").asString();
        Http api = http(first);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> api.get("/v1/jobs/" + id).json().get("progress").get("step").asLong() > 0);
        first.close();
        Job handedBack = jobs.find(UUID.fromString(id)).orElseThrow();
        assertThat(handedBack.status()).isEqualTo(io.qalora.job.JobStatus.QUEUED);
        assertThat(handedBack.error()).isNull();

        ConfigurableApplicationContext second = start(url, true);
        Http http = http(second);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> http.get("/v1/jobs/" + id).json().get("status").asString().equals("SUCCEEDED"));
        List<String> states = new ArrayList<>();
        for (JsonNode e : http.get("/v1/jobs/" + id + "/events?after=0&limit=10000").json().get("data")) {
            if (e.get("type").asString().equals("STATE")) {
                states.add(e.get("message").asString().split(" ")[0]);
            }
        }
        assertThat(states).containsExactly("QUEUED", "RUNNING", "QUEUED", "RUNNING", "SUCCEEDED");
    }

    @Test
    void aJobWhoseWorkerDiedIsRequeuedAndCompletes() {
        String url = TestDatabases.postgresUrl();
        ConfigurableApplicationContext apiOnly = start(url, false);
        String[] ids = uploads(http(apiOnly));
        String id = http(apiOnly).postJson("/v1/jobs", smallJob(ids[0], ids[1], 1)).json().get("id").asString();
        // A worker that claims the job and then dies: it never heartbeats, so its 1 s lease runs out.
        Optional<Job> claimed = apiOnly.getBean(JobRepository.class).claimNext("dead-worker", Duration.ofSeconds(1),
                Instant.now());
        assertThat(claimed).map(Job::id).contains(UUID.fromString(id));
        start(url, true);
        Http http = http(apiOnly);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> http.get("/v1/jobs/" + id).json().get("status").asString().equals("SUCCEEDED"));
        assertThat(http.get("/v1/jobs/" + id).json().get("attempts").asInt()).isEqualTo(2);
        List<String> states = new ArrayList<>();
        for (JsonNode e : http.get("/v1/jobs/" + id + "/events?after=0&limit=10000").json().get("data")) {
            if (e.get("type").asString().equals("STATE")) {
                states.add(e.get("message").asString());
            }
        }
        assertThat(states).first().isEqualTo("QUEUED");
        assertThat(states).contains("QUEUED after its worker's lease expired");
        assertThat(states).last().asString().startsWith("SUCCEEDED");
    }
}
