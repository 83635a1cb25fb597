package io.qalora.flow;

import io.qalora.QaLoraApplication;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The service in its own JVM process, started from the test's class path, so it can be killed abruptly. */
final class Instance implements AutoCloseable {

    final int port;
    final Process process;
    final Path log;

    private Instance(int port, Process process, Path log) {
        this.port = port;
        this.process = process;
        this.log = log;
    }

    static Instance start(String name, String jdbcUrl, String... extraArgs) throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), QaLoraApplication.class.getName(),
                "--server.port=" + port, "--spring.datasource.url=" + jdbcUrl,
                "--spring.datasource.hikari.connection-timeout=2000",
                "--spring.datasource.hikari.validation-timeout=1000",
                "--qalora.workers.threads=1", "--qalora.workers.poll-interval=100ms",
                "--qalora.workers.lease=3s", "--qalora.workers.heartbeat-interval=500ms",
                "--qalora.workers.reaper-interval=500ms", "--qalora.workers.max-attempts=5",
                "--spring.jmx.enabled=false"));
        cmd.addAll(List.of(extraArgs));
        Path log = Path.of("target", "instance-" + name + ".log");
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .directory(new File(".")).start();
        return new Instance(port, process, log);
    }

    Http http() {
        return new Http(port);
    }

    /** SIGKILL: no shutdown hooks, no hand-back; only the lease can tell the others. */
    void kill() {
        process.destroyForcibly();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(40, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
