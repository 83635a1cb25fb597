package io.qalora.lora;

import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which kernels OpenBLAS runs. OpenBLAS chooses them once, as its library loads, from the CPU model
 * or from {@code OPENBLAS_CORETYPE}. The build ND4J ships (0.3.19) does not know AMD's family 26
 * (Zen 5) and falls back to its Barcelona (SSE2) kernels there. On a CPU with the SkylakeX
 * instruction set, when the operator has not set the variable, this process sets it before ND4J
 * loads the library: on a 2-core AMD EPYC (family 26), 256 rows of a 4096-wide base product took
 * 106 ms with the Barcelona kernels, 47 with Haswell's and 27 with SkylakeX's. A setting of the
 * operator's own always wins.
 */
final class BlasKernels {

    static final String VARIABLE = "OPENBLAS_CORETYPE";
    static final String AVX512_CORE = "SkylakeX";
    /** What OpenBLAS's SkylakeX kernels use; /proc/cpuinfo lists a flag only when the kernel enabled it. */
    private static final List<String> AVX512_FLAGS = List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");
    private static final Pattern OPENBLAS_LIBRARY = Pattern.compile("\\S*/libopenblas(_nolapack)?\\.so\\S*");

    private static final String CHOICE = choose();

    private BlasKernels() {
    }

    /** Makes the choice (once per process); must run before anything touches ND4J. */
    static void chooseBeforeLoading() {
        // The class initialiser has done the work.
    }

    /** How the kernels were chosen: by this class, by the operator, or by OpenBLAS itself. */
    static String choice() {
        return CHOICE;
    }

    /** {@link #AVX512_CORE} when the CPU has the instructions its kernels need, else nothing. */
    static Optional<String> coreFor(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            if (line.startsWith("flags")) {
                Set<String> flags = Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                return flags.containsAll(AVX512_FLAGS) ? Optional.of(AVX512_CORE) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** The core name that the loaded OpenBLAS reports, or {@code unknown} when it cannot be asked. */
    static String loadedCore() {
        try {
            Optional<String> library = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .map(OPENBLAS_LIBRARY::matcher).filter(java.util.regex.Matcher::find)
                    .map(java.util.regex.Matcher::group).findFirst();
            if (library.isEmpty()) {
                return "unknown";
            }
            return NativeLibrary.getInstance(library.get()).getFunction("openblas_get_corename")
                    .invokeString(new Object[0], false);
        } catch (IOException | RuntimeException | LinkageError e) {
            return "unknown";
        }
    }

    private static String choose() {
        String configured = System.getenv(VARIABLE);
        if (configured != null && !configured.isBlank()) {
            return VARIABLE + "=" + configured + " as configured";
        }
        try {
            Path cpuinfo = Path.of("/proc/cpuinfo");
            Optional<String> core = Files.isReadable(cpuinfo) ? coreFor(Files.readString(cpuinfo)) : Optional.empty();
            if (core.isEmpty()) {
                return "chosen by OpenBLAS";
            }
            // The JVM's copy of the environment is fixed at start; OpenBLAS reads the C library's. A blank
            // value counts as unset and is replaced. setenv() is not thread-safe: applications call this
            // first, while they have one thread (NativeBlas.chooseKernels).
            if (LibC.INSTANCE.setenv(VARIABLE, core.get(), 1) != 0) {
                return "chosen by OpenBLAS (setenv of " + VARIABLE + " failed)";
            }
            return VARIABLE + "=" + core.get() + " for this CPU's AVX-512";
        } catch (IOException | RuntimeException | LinkageError e) {
            return "chosen by OpenBLAS (" + VARIABLE + " could not be set: " + e + ")";
        }
    }
}
