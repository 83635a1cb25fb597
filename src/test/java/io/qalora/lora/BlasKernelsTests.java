package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BlasKernelsTests {

    private static final String ZEN5_FLAGS = "flags\t\t: fpu sse sse2 fma avx avx2 avx512f avx512dq avx512ifma"
            + " avx512cd avx512bw"
            + " avx512vl avx512_bf16 avx512vbmi\n";

    @Test
    void anAvx512ProcessorGetsTheSkylakeXKernels() {
        String cpuinfo = "vendor_id\t: AuthenticAMD\ncpu family\t: 26\n" + ZEN5_FLAGS + "bugs\t\t: sysret_ss_attrs\n";

        assertThat(BlasKernels.coreFor(cpuinfo)).contains("SkylakeX");
    }

    @Test
    void anAvx2ProcessorOrAPartialAvx512SetIsLeftToOpenBlas() {
        String avx2 = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu sse sse2 fma avx avx2 bmi2\n";
        // Xeon Phi: AVX-512 F and CD, but not the BW/DQ/VL subsets the SkylakeX kernels use.
        String knightsLanding = "vendor_id\t: GenuineIntel\nflags\t\t: avx avx2 avx512f avx512cd avx512er avx512pf\n";

        assertThat(BlasKernels.coreFor(avx2)).isEmpty();
        assertThat(BlasKernels.coreFor(knightsLanding)).isEmpty();
        assertThat(BlasKernels.coreFor("processor\t: 0\n")).isEmpty();
    }

    @Test
    void aProcessWithoutTheVariableRunsTheKernelsThisCpuQualifiesFor() throws Exception {
        Optional<String> expected = BlasKernels.coreFor(Files.readString(Path.of("/proc/cpuinfo")));

        String reported = kernelsOfAChildProcess(null);

        if (expected.isPresent()) {
            assertThat(reported).isEqualTo("SkylakeX (OPENBLAS_CORETYPE=SkylakeX for this CPU's AVX-512)");
        } else {
            assertThat(reported).endsWith("(chosen by OpenBLAS)").doesNotStartWith("unknown");
        }
    }

    @Test
    void aBlankVariableCountsAsUnset() throws Exception {
        Optional<String> expected = BlasKernels.coreFor(Files.readString(Path.of("/proc/cpuinfo")));

        String reported = kernelsOfAChildProcess(" ");

        assertThat(reported).isEqualTo(expected.isPresent()
                ? "SkylakeX (OPENBLAS_CORETYPE=SkylakeX for this CPU's AVX-512)" : reported);
        assertThat(reported).doesNotContain("as configured");
    }

    @Test
    void theOperatorsSettingWins() throws Exception {
        assertThat(kernelsOfAChildProcess("Haswell")).isEqualTo("Haswell (OPENBLAS_CORETYPE=Haswell as configured)");
    }

    /** {@link NativeBlas#kernels()} in a fresh JVM: OpenBLAS reads the variable only as it loads. */
    private static String kernelsOfAChildProcess(String coreType) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                PrintKernels.class.getName()).redirectErrorStream(true);
        builder.environment().remove(BlasKernels.VARIABLE);
        if (coreType != null) {
            builder.environment().put(BlasKernels.VARIABLE, coreType);
        }
        Process process = builder.start();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("child finished").isTrue();
        List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertThat(process.exitValue()).as(String.join("\n", lines)).isZero();
        return lines.stream().filter(l -> l.startsWith("kernels: ")).map(l -> l.substring(9)).findFirst().orElseThrow();
    }

    /** The child's main. */
    public static final class PrintKernels {
        public static void main(String[] args) {
            System.out.println("kernels: " + NativeBlas.kernels());
        }
    }
}
