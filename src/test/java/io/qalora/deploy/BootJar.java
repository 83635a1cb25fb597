package io.qalora.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The executable Spring Boot jar that the Dockerfile's build stage produces ({@code target/*.jar}).
 * {@code ./mvnw verify} runs the tests before {@code package}, so when the jar is missing or older
 * than the compiled classes it is built here, with the project's own jar and repackage goals (which
 * touch neither the sources nor target/classes). {@code -Dqalora.boot-jar=...} names a jar to use instead.
 */
final class BootJar {

    static final String PROPERTY = "qalora.boot-jar";
    private static final Path TARGET = Path.of("target");
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);

    private BootJar() {
    }

    static Path locate() throws IOException, InterruptedException {
        String given = System.getProperty(PROPERTY);
        if (given != null && !given.isBlank()) {
            return Path.of(given);
        }
        Optional<Path> packaged = find();
        if (packaged.isPresent() && !olderThanClasses(packaged.get())) {
            return packaged.get();
        }
        build();
        return find().orElseThrow(() -> new IllegalStateException("the build made no Spring Boot jar in target/"));
    }

    private static Optional<Path> find() throws IOException {
        if (!Files.isDirectory(TARGET)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(TARGET)) {
            List<Path> jars = files.filter(f -> f.getFileName().toString().endsWith(".jar")).filter(BootJar::isBootJar)
                    .toList();
            if (jars.size() > 1) {
                // The Dockerfile copies target/*.jar to one file: it needs exactly one.
                throw new IllegalStateException("more than one Spring Boot jar in target/: " + jars);
            }
            return jars.stream().findFirst();
        }
    }

    private static boolean isBootJar(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getManifest() != null && file.getManifest().getMainAttributes().getValue("Spring-Boot-Version") != null;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean olderThanClasses(Path jar) throws IOException {
        Path classes = TARGET.resolve("classes");
        if (!Files.isDirectory(classes)) {
            return false;
        }
        FileTime built = Files.getLastModifiedTime(jar);
        try (Stream<Path> files = Files.walk(classes)) {
            return files.filter(Files::isRegularFile).anyMatch(f -> {
                try {
                    return Files.getLastModifiedTime(f).compareTo(built) > 0;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    private static void build() throws IOException, InterruptedException {
        if (!Files.isDirectory(TARGET.resolve("classes"))) {
            throw new IllegalStateException("target/classes is missing: compile first (./mvnw compile)");
        }
        Path log = Files.createTempFile("qalora-boot-jar", ".log");
        Process maven = new ProcessBuilder("./mvnw", "-B", "-q", "-Dmaven.jar.forceCreation=true", "jar:jar",
                "spring-boot:repackage").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!maven.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            maven.destroyForcibly();
            throw new IllegalStateException("building the Spring Boot jar took over " + BUILD_TIMEOUT + "; log: " + log);
        }
        if (maven.exitValue() != 0) {
            throw new IllegalStateException("building the Spring Boot jar failed:\n" + Files.readString(log));
        }
        Files.deleteIfExists(log);
    }
}
