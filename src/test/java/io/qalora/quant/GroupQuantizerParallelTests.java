package io.qalora.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The fused, row-parallel quantizer ({@link GroupQuantizer#quantize(float[], int, int, QuantSpec, int)}
 * and {@link GroupQuantizer#quantizeSum}) and fake quantization ({@link GroupQuantizer#fakeQuantize}
 * and {@link GroupQuantizer#fakeQuantizeSum}) against the straightforward quantizer, group after group with
 * {@code fit} and {@code code} as the spec reads: every code, scale, zero and value bit for bit.
 * The shapes are large enough to be split among threads, with partial last groups.
 */
class GroupQuantizerParallelTests {

    /** rows, cols, group size: partial last groups, one group per row, one long row, groups of 1. */
    private static final int[][] SHAPES = {{301, 257, 64}, {1000, 97, 97}, {1, 70_001, 128}, {513, 130, 7},
            {67, 1_001, 1}, {2, 40_000, 1_000}};

    private static final QuantSpec[] SPECS = {new QuantSpec(1, 1, false), new QuantSpec(2, 1, false),
            new QuantSpec(3, 1, false), new QuantSpec(4, 1, false), new QuantSpec(8, 1, false),
            new QuantSpec(16, 1, false), new QuantSpec(2, 1, true), new QuantSpec(3, 1, true),
            new QuantSpec(4, 1, true), new QuantSpec(8, 1, true), new QuantSpec(16, 1, true)};

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        int i = 0;
        for (int[] shape : SHAPES) {
            for (QuantSpec spec : SPECS) {
                // Every shape with every spec, the threads varying along.
                int threads = 1 + (i++ % 4);
                cases.add(Arguments.of(shape[0], shape[1], spec.withGroupSize(shape[2]), threads));
            }
        }
        return cases.stream();
    }

    /** The quantizer as it was: per group, {@code fit} then {@code code} for each element. */
    static QuantizedMatrix straightforward(float[] m, int rows, int cols, QuantSpec spec) {
        int groups = spec.groupsPerRow(cols);
        char[] codes = new char[rows * cols];
        float[] scales = new float[rows * groups];
        float[] zeros = new float[rows * groups];
        float[] deq = new float[rows * cols];
        GroupParams p = new GroupParams();
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int start = r * cols + g * spec.groupSize();
                int end = Math.min(start + spec.groupSize(), (r + 1) * cols);
                GroupQuantizer.fit(m, start, end, spec, p);
                scales[r * groups + g] = p.scale;
                zeros[r * groups + g] = p.zero;
                for (int i = start; i < end; i++) {
                    float q = GroupQuantizer.code(m[i], p.scale, p.zero, spec.maxq());
                    codes[i] = (char) q;
                    deq[i] = (q - p.zero) * p.scale;
                }
            }
        }
        return new QuantizedMatrix(spec, rows, cols, codes, scales, zeros, deq);
    }

    /**
     * Gaussian values with the awkward ones mixed in: exact zeros, all-zero and constant rows,
     * halves (rounding ties), and tiny and huge magnitudes.
     */
    static float[] values(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            int kind = random.nextInt(8);
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                v[i] = switch (kind) {
                    case 0 -> 0f;
                    case 1 -> -0.75f;
                    case 2 -> (random.nextInt(9) - 4) * 0.5f;
                    case 3 -> (float) (random.nextGaussian() * 1e-6);
                    case 4 -> (float) (random.nextGaussian() * 1e6);
                    default -> random.nextInt(50) == 0 ? 0f : (float) random.nextGaussian();
                };
            }
        }
        return v;
    }

    @ParameterizedTest(name = "{0}x{1} {2} on {3} threads")
    @MethodSource("cases")
    void rowParallelQuantizationEqualsTheStraightforwardOne(int rows, int cols, QuantSpec spec, int threads) {
        float[] m = values(rows, cols, rows * 31L + cols);

        QuantizedMatrix q = GroupQuantizer.quantize(m, rows, cols, spec, threads);

        assertEqualBits(q, straightforward(m, rows, cols, spec));
    }

    @ParameterizedTest(name = "{0}x{1} {2} on {3} threads")
    @MethodSource("cases")
    void quantizingASumBlockByBlockEqualsQuantizingTheSum(int rows, int cols, QuantSpec spec, int threads) {
        float[] base = values(rows, cols, rows * 17L + cols);
        float[] delta = values(rows, cols, rows * 13L + cols + 1);
        QuantizedMatrix expected = straightforward(sum(base, delta), rows, cols, spec);

        for (int blockRows : new int[] {1, 7, rows, rows + 5}) {
            List<Integer> firstRows = new ArrayList<>();
            QuantizedMatrix q = GroupQuantizer.quantizeSum(base, (first, count, dst, offset) -> {
                firstRows.add(first);
                System.arraycopy(delta, first * cols, dst, offset, count * cols);
            }, rows, cols, blockRows, spec, threads);

            assertEqualBits(q, expected);
            assertThat(firstRows).as("each block asked for once, in order").hasSize((rows + blockRows - 1) / blockRows)
                    .isSorted();
        }
    }

    @ParameterizedTest(name = "{0}x{1} {2} on {3} threads")
    @MethodSource("cases")
    void fakeQuantizationGivesTheStraightforwardDequantizedValues(int rows, int cols, QuantSpec spec, int threads) {
        float[] m = values(rows, cols, rows * 29L + cols);
        float[] expected = straightforward(m, rows, cols, spec).dequantized();

        assertThat(bits(GroupQuantizer.fakeQuantize(m, rows, cols, spec))).isEqualTo(bits(expected));
        // At offsets, and in place.
        float[] shifted = new float[m.length + 3];
        System.arraycopy(m, 0, shifted, 3, m.length);
        GroupQuantizer.fakeQuantize(shifted, 3, shifted, 3, rows, cols, spec);
        assertThat(bits(Arrays.copyOfRange(shifted, 3, shifted.length))).isEqualTo(bits(expected));
    }

    @ParameterizedTest(name = "{0}x{1} {2} on {3} threads")
    @MethodSource("cases")
    void fakeQuantizingASumEqualsFakeQuantizingTheSum(int rows, int cols, QuantSpec spec, int threads) {
        float[] base = values(rows, cols, rows * 19L + cols);
        float[] delta = values(rows, cols, rows * 23L + cols + 1);
        int[] expected = bits(straightforward(sum(base, delta), rows, cols, spec).dequantized());

        float[] into = new float[base.length];
        GroupQuantizer.fakeQuantizeSum(base, 0, delta, 0, into, 0, rows, cols, spec, threads);
        assertThat(bits(into)).isEqualTo(expected);
        // In place over delta, which sits at an offset, as the merged-weight forward uses it.
        float[] shifted = new float[delta.length + 5];
        System.arraycopy(delta, 0, shifted, 5, delta.length);
        GroupQuantizer.fakeQuantizeSum(base, 0, shifted, 5, shifted, 5, rows, cols, spec, threads);
        assertThat(bits(Arrays.copyOfRange(shifted, 5, shifted.length))).isEqualTo(expected);
    }

    @Test
    void aGroupLongerThanAnyRowIsTheWholeRow() {
        float[] m = values(3, 50_000, 9);
        QuantSpec spec = new QuantSpec(4, Integer.MAX_VALUE, false);

        QuantizedMatrix q = GroupQuantizer.quantize(m, 3, 50_000, spec, 2);

        assertThat(q.scales()).hasSize(3);
        assertEqualBits(q, straightforward(m, 3, 50_000, spec.withGroupSize(50_000)));
        assertThat(QuantErrorStats.of(m, q).elements()).isEqualTo(150_000);
        // Fake quantization walks its groups the same overflow-safe way.
        assertThat(GroupQuantizer.fakeQuantize(m, 3, 50_000, spec)).containsExactly(q.dequantized());
    }

    @Test
    void everyHalfUpToTheLargestSixteenBitCodeRoundsAsRint() {
        // Asymmetric 16 bits over [0, 65535]: scale 1, so v / scale hits every tie k + 0.5, and the
        // negative neighbours of -0 too (-0.25, -0.5 round to -0 before the zero point is added).
        float[] m = new float[2 * 65_536];
        for (int i = 0; i < 65_536; i++) {
            m[i] = i == 65_535 ? 65_535f : i + 0.5f;
            m[65_536 + i] = i == 0 ? 65_535f : -(i % 4) * 0.25f + (i % 7 == 0 ? 0.5f : 0f);
        }
        QuantSpec spec = new QuantSpec(16, 65_536, false);

        assertEqualBits(GroupQuantizer.quantize(m, 2, 65_536, spec, 2), straightforward(m, 2, 65_536, spec));
    }

    @Test
    void subnormalGroupsWhoseScaleUnderflowsTakeTheSpecsStepsAsWritten() {
        float[] m = new float[4 * 9];
        for (int i = 0; i < m.length; i++) {
            m[i] = Float.MIN_VALUE * ((i * 5) % 11 - 5);
        }
        for (QuantSpec spec : new QuantSpec[] {new QuantSpec(8, 9, false), new QuantSpec(16, 4, true)}) {
            QuantizedMatrix expected = straightforward(m, 4, 9, spec);
            assertEqualBits(GroupQuantizer.quantize(m, 4, 9, spec, 1), expected);
            assertThat(bits(GroupQuantizer.fakeQuantize(m, 4, 9, spec))).isEqualTo(bits(expected.dequantized()));
        }
    }

    @Test
    void aNaNIsSkippedInItsGroupsRangeAsFitDoes() {
        float[] m = {0.5f, Float.NaN, -1.25f, 2f, Float.NaN, Float.NaN, Float.NaN, Float.NaN,
            1f, Float.POSITIVE_INFINITY, -3f, 0.25f, -0f, 0f, -0f, -0f};
        for (QuantSpec spec : new QuantSpec[] {new QuantSpec(4, 4, false), new QuantSpec(3, 4, true)}) {
            QuantizedMatrix straightforward = straightforward(m, 4, 4, spec);
            float[] expected = straightforward.dequantized();

            assertEqualBits(GroupQuantizer.quantize(m, 4, 4, spec, 2), straightforward);
            assertThat(bits(GroupQuantizer.fakeQuantize(m, 4, 4, spec))).isEqualTo(bits(expected));
            float[] sum = new float[m.length];
            GroupQuantizer.fakeQuantizeSum(m, 0, new float[m.length], 0, sum, 0, 4, 4, spec, 2);
            assertThat(bits(sum)).isEqualTo(bits(expected));
        }
    }

    @Test
    void anEmptyMatrixHasNoGroups() {
        QuantizedMatrix q = GroupQuantizer.quantize(new float[0], 0, 5, new QuantSpec(4, 2, false), 2);

        assertThat(q.codes()).isEmpty();
        assertThat(q.scales()).isEmpty();
        assertThat(q.numGroups()).isZero();
    }

    @Test
    void illegalThreadsAndBlocksAreRefused() {
        QuantSpec spec = new QuantSpec(4, 2, false);
        assertThatThrownBy(() -> GroupQuantizer.quantize(new float[4], 2, 2, spec, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threads");
        assertThatThrownBy(() -> GroupQuantizer.quantizeSum(new float[4], (f, n, d, o) -> { }, 2, 2, 0, spec, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blockRows");
        assertThatThrownBy(() -> GroupQuantizer.quantizeSum(new float[3], (f, n, d, o) -> { }, 2, 2, 1, spec, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not fit");
        float[] base = new float[4];
        assertThatThrownBy(() -> GroupQuantizer.fakeQuantizeSum(base, 0, new float[4], 0, base, 0, 2, 2, spec, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be base");
    }

    /**
     * Equal bits, not equal values: {@code -0f} and {@code 0f} must not pass for each other. NaNs
     * count as one value: the sign bit of a NaN made by {@code 0/0} or {@code inf - inf} depends on
     * whether the interpreter or the JIT computed it, in the old quantizer as in the new.
     */
    static void assertEqualBits(QuantizedMatrix actual, QuantizedMatrix expected) {
        assertThat(actual.codes()).isEqualTo(expected.codes());
        assertThat(bits(actual.scales())).isEqualTo(bits(expected.scales()));
        assertThat(bits(actual.zeros())).isEqualTo(bits(expected.zeros()));
        assertThat(bits(actual.dequantized())).isEqualTo(bits(expected.dequantized()));
    }

    /** {@code base + delta} in float32, element by element, as the merge adds. */
    private static float[] sum(float[] base, float[] delta) {
        float[] sum = new float[base.length];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = base[i] + delta[i];
        }
        return sum;
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToIntBits(v[i]);
        }
        return b;
    }
}
