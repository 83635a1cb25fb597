package io.qalora.bench;

import io.qalora.QaLoraApplication;
import io.qalora.store.TestDatabases;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A large raw upload through the API, as a client sends it: the service in its own JVM with a
 * small heap, on PostgreSQL (a fresh schema of {@code QALORA_TEST_JDBC_URL}, see
 * {@link TestDatabases}) or an H2 file, and one {@code POST /v1/layers} of a safetensors file
 * ({@code weight [MiB * 64, 4096]} F32 of random values, and a bias) per repetition. Prints JSON
 * lines ({@code workload, metric, value, unit}): the median upload time and throughput (MB =
 * 10^6 bytes), the server process's CPU time (median), and its heap growth, the largest over
 * the repetitions:
 * <ul>
 * <li>{@code heap_growth}: the most heap that any garbage collection during the upload left in
 * use (live data, and old garbage not yet collected), minus the heap in use after a full
 * collection just before it. Taken from the server's GC log; the streamed upload holds a few
 * chunks, so this stays small.
 * <li>{@code heap_used_growth}: the most heap in use at any moment (actuator
 * {@code jvm.memory.used}, sampled every 100 ms), garbage included, minus the same baseline: an
 * upper bound that mostly shows how far the collector let the young generation grow.
 * </ul>
 * Not a test: run it through the README's bench command.
 *
 * <pre>args: [--mib 256] [--reps 3] [--xmx 192m] [--database postgresql|h2] [--jvm OPTION]...</pre>
 *
 * {@code --jvm} adds an option to the service's JVM, for example a flight recording.
 */
public final class UploadBench {

    private static final int IN = 4096;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern GC_LINE = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\(\\d+[KMG]\\)");

    private UploadBench() {
    }

    public static void main(String[] args) throws Exception {
        int mib = 256;
        int reps = 3;
        String xmx = "192m";
        String database = "postgresql";
        List<String> jvmOptions = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--xmx" -> xmx = args[++i];
                case "--database" -> database = args[++i];
                case "--jvm" -> jvmOptions.add(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path dir = Path.of("target", "upload-bench");
        Files.createDirectories(dir);
        Path file = layerFile(dir, mib);
        String url = switch (database) {
            case "postgresql" -> TestDatabases.postgresUrl();
            case "h2" -> "jdbc:h2:file:" + dir.toAbsolutePath().resolve("h2-" + UUID.randomUUID()).resolve("qalora")
                    + ";DB_CLOSE_ON_EXIT=FALSE";
            default -> throw new IllegalArgumentException("--database is postgresql or h2, was " + database);
        };
        try {
            run(url, file, mib, reps, xmx, database, jvmOptions, dir);
        } finally {
            TestDatabases.cleanUp();
        }
    }

    private static void run(String url, Path file, int mib, int reps, String xmx, String database,
            List<String> jvmOptions, Path dir) throws IOException, InterruptedException {
        Path gcLog = dir.resolve("gc.log");
        Files.deleteIfExists(gcLog);
        try (Server server = Server.start(url, xmx, jvmOptions, gcLog, dir.resolve("server.log"))) {
            List<Double> seconds = new ArrayList<>();
            List<Double> cpu = new ArrayList<>();
            double heapGrowth = 0;
            double usedGrowth = 0;
            for (int r = 0; r < reps; r++) {
                server.fullGc();
                long baseline = server.heapUsed();
                int gcLinesBefore = lines(gcLog).size();
                HeapSampler sampler = new HeapSampler(server);
                sampler.start();
                Duration cpuBefore = server.cpu();
                long start = System.nanoTime();
                server.upload(file);
                double s = (System.nanoTime() - start) / 1e9;
                cpu.add(server.cpu().minus(cpuBefore).toNanos() / 1e9);
                sampler.stop();
                seconds.add(s);
                long afterGc = lines(gcLog).stream().skip(gcLinesBefore).mapToLong(UploadBench::heapAfterGc).max()
                        .orElse(baseline);
                heapGrowth = Math.max(heapGrowth, Math.max(0, afterGc - baseline) / 1048576.0);
                usedGrowth = Math.max(usedGrowth, Math.max(0, sampler.max.get() - baseline) / 1048576.0);
                System.err.printf(Locale.ROOT, "repetition %d: %.2f s, %.0f MB/s, baseline heap %.1f MiB%n", r + 1, s,
                        Files.size(file) / 1e6 / s, baseline / 1048576.0);
            }
            double median = median(seconds);
            String workload = "upload-" + mib + "m-" + database;
            emit(workload, "upload_time", median, "s");
            emit(workload, "throughput", Files.size(file) / 1e6 / median, "MB/s");
            emit(workload, "server_cpu", median(cpu), "s");
            emit(workload, "heap_growth", heapGrowth, "MiB");
            emit(workload, "heap_used_growth", usedGrowth, "MiB");
        }
    }

    /** A layer file of {@code mib} MiB of weights, written once and kept under target/. */
    private static Path layerFile(Path dir, int mib) throws IOException {
        int out = mib * 64;
        long weightBytes = (long) out * IN * 4;
        long biasBytes = (long) out * 4;
        String header = String.format(Locale.ROOT,
                "{\"bias\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
                        + "\"weight\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%d,%d]}}",
                out, biasBytes, out, IN, biasBytes, biasBytes + weightBytes);
        byte[] json = (header + " ".repeat((8 - header.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("layer-" + mib + "m.safetensors");
        long size = 8 + json.length + biasBytes + weightBytes;
        if (Files.exists(file) && Files.size(file) == size) {
            return file;
        }
        SplittableRandom random = new SplittableRandom(42);
        ByteBuffer row = ByteBuffer.allocate(IN * 4).order(ByteOrder.LITTLE_ENDIAN);
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            o.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            o.write(json);
            for (long written = 0; written < biasBytes + weightBytes; written += row.capacity()) {
                // Random floats: incompressible, as trained weights are to a database's compressor.
                row.clear();
                while (row.hasRemaining()) {
                    row.putFloat((float) (random.nextDouble(-1, 1) / 64));
                }
                o.write(row.array(), 0, (int) Math.min(row.capacity(), biasBytes + weightBytes - written));
            }
        }
        return file;
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    /** The heap in use after the collection a GC log line reports ({@code 95M->40M(192M)}), or 0. */
    private static long heapAfterGc(String line) {
        Matcher m = GC_LINE.matcher(line);
        if (!m.find()) {
            return 0;
        }
        long unit = switch (m.group(4)) {
            case "K" -> 1L << 10;
            case "M" -> 1L << 20;
            default -> 1L << 30;
        };
        return Long.parseLong(m.group(3)) * unit;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static void emit(String workload, String metric, double value, String unit) {
        System.out.printf(Locale.ROOT, "{\"workload\": \"%s\", \"metric\": \"%s\", \"value\": %.4f, \"unit\": \"%s\"}%n",
                workload, metric, value, unit);
        System.out.flush();
    }

    /** Polls the server's heap in use until stopped, keeping the largest value. */
    private static final class HeapSampler {
        final AtomicLong max = new AtomicLong();
        private final Server server;
        private volatile boolean running = true;
        private Thread thread;

        HeapSampler(Server server) {
            this.server = server;
        }

        void start() {
            thread = new Thread(() -> {
                while (running) {
                    try {
                        max.accumulateAndGet(server.heapUsed(), Math::max);
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        // A sample lost to a busy server is no reason to stop sampling.
                    }
                }
            }, "heap-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(5_000);
        }
    }

    /** The service in its own JVM, from this class path, with only the API running. */
    private record Server(Process process, int port, HttpClient http) implements AutoCloseable {

        static Server start(String jdbcUrl, String xmx, List<String> jvmOptions, Path gcLog, Path log)
                throws IOException, InterruptedException {
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            List<String> cmd = new ArrayList<>(List.of(javaHome("java"), "-Xmx" + xmx,
                    "-Xlog:gc:file=" + gcLog.toAbsolutePath()));
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-cp", classPath(), QaLoraApplication.class.getName(), "--server.port=" + port,
                    "--spring.datasource.url=" + jdbcUrl, "--qalora.workers.enabled=false", "--spring.jmx.enabled=false"));
            Process process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                    .directory(new File(".")).start();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            Server server = new Server(process, port, http);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the service exited with " + process.exitValue() + "; see " + log);
                }
                try {
                    if (server.get("/actuator/health/readiness").statusCode() == 200) {
                        return server;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    server.close();
                    throw new IllegalStateException("the service did not become ready; see " + log);
                }
                Thread.sleep(250);
            }
        }

        /** The server process's CPU time so far (every thread, including the sampled actuator's). */
        Duration cpu() {
            return process.info().totalCpuDuration().orElse(Duration.ZERO);
        }

        void upload(Path file) throws IOException, InterruptedException {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/v1/layers?name=bench"))
                    .header("Content-Type", "application/octet-stream").timeout(Duration.ofMinutes(10))
                    .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) {
                throw new IllegalStateException("upload answered " + r.statusCode() + ": " + r.body());
            }
        }

        long heapUsed() {
            try {
                HttpResponse<String> r = get("/actuator/metrics/jvm.memory.used?tag=area:heap");
                JsonNode m = JSON.readTree(r.body()).get("measurements");
                return (long) m.get(0).get("value").asDouble();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** A full collection in the server (jcmd GC.run), so the next heap reading is live data. */
        void fullGc() throws IOException, InterruptedException {
            Process jcmd = new ProcessBuilder(javaHome("jcmd"), Long.toString(process.pid()), "GC.run")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
                throw new IllegalStateException("jcmd GC.run failed");
            }
            Thread.sleep(200);
        }

        private HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        private String base() {
            return "http://127.0.0.1:" + port;
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }

        private static String javaHome(String tool) {
            return Path.of(System.getProperty("java.home"), "bin", tool).toString();
        }

        /** exec:java runs this in a class loader of its own; the service needs that class path. */
        private static String classPath() {
            if (Thread.currentThread().getContextClassLoader() instanceof URLClassLoader loader) {
                return Arrays.stream(loader.getURLs()).map(UploadBench::toPath).collect(Collectors.joining(File.pathSeparator));
            }
            return System.getProperty("java.class.path");
        }
    }

    private static String toPath(URL url) {
        try {
            return Path.of(url.toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException(url.toString(), e);
        }
    }
}
