package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.DenseLayer;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Exact-merge property for POOLED_ZERO_POINT over random shapes. */
class PooledZeroPointProperties {

    /** A layer {@code [rows, groups * g]}, rank, quantization, and the seed of every value. */
    record Case(int rows, int groups, int g, int rank, QuantSpec spec, int batch, boolean bias, double spread,
            long seed) {

        int in() {
            return groups * g;
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Integer> rows = Arbitraries.integers().between(1, 12);
        Arbitrary<Integer> groups = Arbitraries.integers().between(1, 6);
        Arbitrary<Integer> g = Arbitraries.integers().between(1, 9);
        Arbitrary<Integer> bits = Arbitraries.integers().between(1, 16);
        Arbitrary<Boolean> symmetric = Arbitraries.of(true, false);
        Arbitrary<Integer> batch = Arbitraries.integers().between(1, 5);
        Arbitrary<Boolean> bias = Arbitraries.of(true, false);
        // How large the adapter's update is against W: from a nudge to many times W's range.
        Arbitrary<Double> spread = Arbitraries.of(1e-3, 0.1, 1.0, 10.0);
        Arbitrary<Long> seed = Arbitraries.longs();
        return Combinators.combine(rows, groups, g, bits, symmetric, batch, bias, spread).flatAs(
                (r, k, gs, b, sym, n, withBias, s) -> {
                    int maxRank = Math.min(r, k * gs);
                    return Combinators.combine(Arbitraries.integers().between(1, maxRank), seed).as((rank, sd) ->
                            new Case(r, k, gs, rank, new QuantSpec(sym ? Math.max(2, b) : b, gs, sym), n, withBias,
                                    s, sd));
                });
    }

    @Property(tries = 300)
    void theFloatZeroMergeReproducesTheAdaptersOutputs(@ForAll("cases") Case c) {
        SplittableRandom random = new SplittableRandom(c.seed());
        int in = c.in();
        DenseLayer base = new DenseLayer(c.rows(), in, Fixtures.gaussian(c.rows() * in, 1, random),
                c.bias() ? Fixtures.gaussian(c.rows(), 0.5, random) : null);
        float[] a = Fixtures.gaussian(c.rank() * c.groups(), c.spread(), random);
        float[] b = Fixtures.gaussian(c.rows() * c.rank(), 1, random);
        float[] x = Fixtures.gaussian(c.batch() * in, 1, random);
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(c.rank()).alpha(2 * c.rank())
                .quantSpec(c.spec()).quantizationTarget(QuantizationTarget.POOLED_ZERO_POINT).factors(a, b)
                .build()) {
            float[] expected = adapter.forward(x, c.batch());
            MergedLayer merged = adapter.mergeToOriginalLayer();
            float[] actual = LayerOutputs.compute(merged.toDenseLayer(), x, c.batch());

            double largest = 0;
            double worst = 0;
            for (int i = 0; i < expected.length; i++) {
                largest = Math.max(largest, Math.abs(expected[i]));
                worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]));
            }
            assertThat(worst).as("max |y_merged - y_adapter| against max |y| = %s", largest)
                    .isLessThanOrEqualTo(1e-5 * largest);

            // Only the zero points moved: codes and scales are those of quantizing W once.
            QuantizedMatrix once = GroupQuantizer.quantize(base.weight(), c.rows(), in, c.spec());
            QuantizedMatrix q = merged.weight();
            assertThat(q.codes()).containsExactly(once.codes());
            assertThat(q.scales()).containsExactly(once.scales());
            assertThat(q.dequantize()).containsExactly(q.dequantized());
            assertThat(merged.bias()).isEqualTo(base.bias());
        }
    }
}
