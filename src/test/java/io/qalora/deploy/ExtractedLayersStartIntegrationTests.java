package io.qalora.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The container image without Docker: runs the Dockerfile's layer extraction on the Spring Boot
 * jar, lays the layers out as its COPY instructions do, and starts the application with its
 * ENTRYPOINT and ENV (the container's /app, /tmp and /data mapped to temporary directories), then
 * waits for readiness over HTTP and stops it with SIGTERM, as Kubernetes would.
 */
class ExtractedLayersStartIntegrationTests {

    /** The layers, least to most often changed, as Spring Boot's default layers.idx orders them. */
    private static final List<String> LAYERS = List.of("dependencies", "spring-boot-loader", "snapshot-dependencies",
            "application");
    private static final String LAUNCHER = "org.springframework.boot.loader.launch.JarLauncher";
    /** Meters tagged by a job's final status or bit width, which exist only once a job has ended. */
    private static final Set<String> REGISTERED_BY_FIRST_JOB = Set.of("qalora_job_duration_seconds",
            "qalora_merged_quantization_error");
    private static final Path DASHBOARD = Path.of("helm/qalora-service/files/qalora-service-dashboard.json");
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void imageLayoutStartsFromTheExtractedLayersAndReportsReady(@TempDir Path dir) throws Exception {
        Dockerfile dockerfile = Dockerfile.read();
        Dockerfile.Stage build = dockerfile.stage("build");
        Dockerfile.Stage image = dockerfile.finalStage();

        Path buildDir = Files.createDirectories(dir.resolve("build"));
        List<String> extract = extractCommand(build);
        Files.copy(BootJar.locate(), buildDir.resolve(extract.get(extract.indexOf("-jar") + 1)));
        run(buildDir, java(extract), dir.resolve("extract.log"));

        Path app = Files.createDirectories(dir.resolve("app"));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path data = Files.createDirectories(dir.resolve("data"));
        List<String> sources = image.copiedFrom("build");
        assertThat(sources).as("COPY --from=build, in order")
                .containsExactlyElementsOf(LAYERS.stream().map(l -> build.workdir() + "/extracted/" + l + "/").toList());
        for (String source : sources) {
            copyLayer(buildDir.resolve(Path.of(build.workdir()).relativize(Path.of(source))), app);
        }

        Map<String, Path> volumes = Map.of(image.workdir(), app, "/tmp", tmp, "/data", data);
        List<String> entrypoint = image.entrypoint();
        assertThat(entrypoint).as("ENTRYPOINT").containsExactly("java", "-cp", image.workdir(), LAUNCHER);
        Map<String, String> env = new LinkedHashMap<>();
        image.env().forEach((name, value) -> env.put(name, mapPaths(value, volumes)));
        assertThat(image.env()).as("ENV").containsKeys("JAVA_TOOL_OPTIONS", "SPRING_DATASOURCE_URL");
        assertThat(Dockerfile.words(image.env().get("JAVA_TOOL_OPTIONS"))).as("JAVA_TOOL_OPTIONS").contains(
                "-XX:MaxRAMPercentage=50", "-Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp", "-Djava.io.tmpdir=/tmp");
        assertThat(image.arguments("EXPOSE")).containsExactly("8080");
        assertThat(image.arguments("USER")).containsExactly("10001:10001");

        List<Path> imageFiles = listFiles(app);
        int port = freePort();
        List<String> command = new ArrayList<>(java(entrypoint.stream().map(a -> mapPaths(a, volumes)).toList()));
        command.addAll(List.of("--server.port=" + port, "--qalora.workers.enabled=true"));
        ProcessBuilder start = new ProcessBuilder(command).directory(app.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("app.log").toFile());
        start.environment().clear();
        start.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        start.environment().putAll(env);
        Process process = start.start();
        try {
            awaitReady(process, port, dir.resolve("app.log"));

            assertThat(get(port, "/actuator/health/liveness").body()).contains("\"UP\"");
            String metrics = get(port, "/actuator/prometheus").body();
            assertThat(metrics).contains("qalora_jobs_queued", "qalora_jobs_running", "qalora_training_step_seconds_bucket",
                    "qalora_nd4j_offheap_bytes", "qalora_workers_threads", "jvm_memory_used_bytes");
            // Every application metric the Grafana dashboard queries, except those registered when the first job ends.
            assertThat(dashboardMetrics()).isNotEmpty().allSatisfy(name -> {
                if (!REGISTERED_BY_FIRST_JOB.contains(name.replaceAll("_(bucket|sum|count)$", ""))) {
                    assertThat(metrics).as("scrape of /actuator/prometheus").contains("\n" + name);
                }
            });
            assertThat(Files.readString(dir.resolve("app.log"))).as("the warm-up before readiness")
                    .containsPattern("Warm-up before readiness: [0-9]+ requests in [0-9]+ ms, answers by status \\{404=[0-9]+}\n");
            assertThat(metrics).as("warm-up requests are not counted").doesNotContain("uri=\"/v1/jobs/{id}");
            assertThat(listFiles(tmp.resolve("javacpp"))).as("native libraries unpacked into /tmp/javacpp").isNotEmpty();
            assertThat(data.resolve("qalora.mv.db")).as("H2 database under /data").exists();
        } finally {
            process.destroy();
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                fail("the application did not stop within " + STOP_TIMEOUT + " of SIGTERM:\n" + tail(dir.resolve("app.log")));
            }
        }
        assertThat(process.exitValue()).as("exit status after SIGTERM (128 + 15)").isEqualTo(143);
        assertThat(listFiles(app)).as("files of the image's directory (read-only in Kubernetes)")
                .containsExactlyInAnyOrderElementsOf(imageFiles);
    }

    /** The application's metric names in the dashboard's queries (not the kubelet's container_* ones). */
    private static Set<String> dashboardMetrics() throws IOException {
        Pattern name = Pattern.compile("\\b((?:qalora|jvm|http_server|process)_[a-z0-9_]+)");
        Set<String> names = new TreeSet<>();
        for (JsonNode panel : JsonMapper.builder().build().readTree(DASHBOARD.toFile()).get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                name.matcher(target.get("expr").asString()).results().forEach(r -> names.add(r.group(1)));
            }
        }
        return names;
    }

    /** The build stage's {@code java -Djarmode=tools ... extract} command, which must extract every layer and the launcher. */
    private static List<String> extractCommand(Dockerfile.Stage build) {
        List<String> extract = build.runCommands().stream().filter(c -> c.contains("-Djarmode=tools")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no java -Djarmode=tools command in the build stage"));
        assertThat(extract).as("extract command").startsWith("java", "-Djarmode=tools", "-jar")
                .contains("extract", "--layers", "--launcher", "--destination", "extracted");
        return extract;
    }

    /** The command with {@code java} replaced by this JVM's launcher (the image's Java 17). */
    private static List<String> java(List<String> command) {
        assertThat(command.get(0)).isEqualTo("java");
        List<String> result = new ArrayList<>(command);
        result.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return result;
    }

    private static void run(Path directory, List<String> command, Path log) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish");
        }
        assertThat(process.exitValue()).as(String.join(" ", command) + "\n" + tail(log)).isZero();
    }

    /** Copies one layer into the image directory; the layers must not overwrite one another. */
    private static void copyLayer(Path layer, Path app) throws IOException {
        assertThat(layer).isDirectory();
        for (Path file : listFiles(layer)) {
            Path target = app.resolve(layer.relativize(file).toString());
            assertThat(target).as("a file in two layers").doesNotExist();
            Files.createDirectories(target.getParent());
            Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    /** Replaces the container's absolute paths (/app, /tmp, /data) by their stand-ins here, in one pass. */
    static String mapPaths(String value, Map<String, Path> volumes) {
        String alternatives = volumes.keySet().stream().map(Pattern::quote).collect(Collectors.joining("|"));
        Pattern paths = Pattern.compile("(?<=^|[=:\\s])(" + alternatives + ")(?=/|;|\\s|$)");
        return paths.matcher(value).replaceAll(m -> Matcher.quoteReplacement(volumes.get(m.group(1)).toString()));
    }

    private void awaitReady(Process process, int port, Path log) throws IOException {
        try {
            org.awaitility.Awaitility.await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(500)).until(() -> {
                if (!process.isAlive()) {
                    fail("the application exited with " + process.exitValue() + " before it was ready:\n" + tail(log));
                }
                try {
                    HttpResponse<String> readiness = get(port, "/actuator/health/readiness");
                    return readiness.statusCode() == 200 && readiness.body().contains("\"UP\"");
                } catch (IOException notListeningYet) {
                    return false;
                }
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            fail("not ready within " + START_TIMEOUT + ":\n" + tail(log));
        }
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static List<Path> listFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
