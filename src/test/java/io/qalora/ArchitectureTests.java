package io.qalora;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The module rules of STYLE.md, read off the sources. */
class ArchitectureTests {

    private static final Path MAIN = Path.of("src/main/java/io/qalora");
    private static final List<String> ENGINE = List.of("tensor", "quant", "lora");

    private static List<Path> sources(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).toList();
        }
    }

    private static List<String> offenders(List<Path> files, String importPrefix) throws IOException {
        List<String> bad = new java.util.ArrayList<>();
        for (Path f : files) {
            if (Files.readAllLines(f).stream().anyMatch(l -> l.startsWith("import " + importPrefix)
                    || l.startsWith("import static " + importPrefix))) {
                bad.add(MAIN.relativize(f).toString());
            }
        }
        return bad;
    }

    @Test
    void engineImportsNothingFromSpring() throws IOException {
        for (String module : ENGINE) {
            assertThat(offenders(sources(MAIN.resolve(module)), "org.springframework")).as(module).isEmpty();
        }
    }

    @Test
    void nd4jStaysInsideTheEngine() throws IOException {
        List<Path> outside = sources(MAIN).stream()
                .filter(f -> ENGINE.stream().noneMatch(m -> f.startsWith(MAIN.resolve(m)))).toList();
        assertThat(offenders(outside, "org.nd4j")).isEmpty();
        assertThat(offenders(outside, "org.bytedeco")).isEmpty();
    }

    @Test
    void engineModulesDependOnlyDownwards() throws IOException {
        assertThat(offenders(sources(MAIN.resolve("tensor")), "io.qalora.quant")).isEmpty();
        assertThat(offenders(sources(MAIN.resolve("tensor")), "io.qalora.lora")).isEmpty();
        assertThat(offenders(sources(MAIN.resolve("quant")), "io.qalora.lora")).isEmpty();
    }

    @Test
    void everyPackageHasAPackageInfo() throws IOException {
        try (Stream<Path> dirs = Files.walk(MAIN)) {
            List<Path> missing = dirs.filter(Files::isDirectory)
                    .filter(d -> !Files.exists(d.resolve("package-info.java"))).toList();
            assertThat(missing).isEmpty();
        }
    }
}
