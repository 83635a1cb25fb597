package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class NativeMatrixTests {

    private static final Path THP_MODE = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    @Test
    void aNewMatrixIsZeroAndHoldsWhatIsLoaded() {
        try (NativeMatrix small = NativeMatrix.zeros(3, 5); NativeMatrix large = NativeMatrix.zeros(1100, 1000)) {
            assertThat(small.toArray()).containsOnly(0f);
            assertThat(large.toArray()).containsOnly(0f);
            float[] values = Fixtures.gaussian(1100 * 1000, 1, new java.util.SplittableRandom(2));
            large.load(values);
            assertThat(large.toArray()).isEqualTo(values);
            assertThat(large.rows(1099, 1).toArray())
                    .containsExactly(java.util.Arrays.copyOfRange(values, 1099 * 1000, 1100 * 1000));
            assertThat(small.hugePages).isFalse();
        }
    }

    @Test
    void aViewOfAViewAddressesTheRowsItNames() {
        float[] values = new float[10 * 3];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        try (NativeMatrix m = NativeMatrix.of(values, 10, 3)) {
            NativeMatrix inner = m.rows(5, 4).rows(2, 1);

            assertThat(inner.toArray()).containsExactly(21f, 22f, 23f);
            assertThat(inner.address()).isEqualTo(m.address() + 7L * 3 * Float.BYTES);
        }
    }

    @Test
    void reusedMemoryIsZeroedAndAClosedMatrixHasNoAddress() {
        NativeMatrix first = NativeMatrix.zeros(64, 64);
        first.load(Fixtures.gaussian(64 * 64, 1, new java.util.SplittableRandom(5)));
        first.close();

        try (NativeMatrix second = NativeMatrix.zeros(64, 64)) {
            assertThat(second.toArray()).containsOnly(0f);
        }
        assertThatThrownBy(first::address).isInstanceOf(IllegalStateException.class);
    }

    /** The page faults of a fresh 64 MiB weight were a third of a 5-epoch job on the benchmark VM. */
    @Test
    void aLargeMatrixLivesInHugePagesWhereLinuxOffersThem() throws IOException {
        assumeTrue(Files.isReadable(THP_MODE) && !Files.readString(THP_MODE).contains("[never]"),
                "transparent huge pages are off on this machine");
        try (NativeMatrix m = NativeMatrix.zeros(2048, 2048)) {
            assertThat(m.hugePages).isTrue();
            // madvise splits the mapping: the advised part starts at the first 2 MiB boundary.
            long advised = (m.address() + (2 << 20) - 1) & -(2L << 20);
            assertThat(anonHugePagesKb(advised)).as("AnonHugePages of the advised mapping").isPositive();
        }
    }

    /** The AnonHugePages line of the /proc/self/smaps mapping that holds {@code address}. */
    private static long anonHugePagesKb(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        boolean inside = false;
        for (String line : lines) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                inside = Long.compareUnsigned(Long.parseUnsignedLong(range[0], 16), address) <= 0
                        && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0;
            } else if (inside && line.startsWith("AnonHugePages:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no mapping holds " + Long.toHexString(address));
    }
}
