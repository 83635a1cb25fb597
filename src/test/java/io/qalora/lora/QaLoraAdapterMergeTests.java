package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.DenseLayer;
import org.junit.jupiter.api.Test;

class QaLoraAdapterMergeTests {

    private static final int OUT = 6;
    private static final int IN = 10;
    private static final int RANK = 2;

    /** Multiples of 1/8 keep W + sBA exact in float32, whatever order BLAS sums in. */
    private static float[] eighths(int n, int seed) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = ((i * 7 + seed * 13) % 17 - 8) / 8f;
        }
        return v;
    }

    private static QaLoraAdapter nonSquareAdapter() {
        DenseLayer base = new DenseLayer(OUT, IN, eighths(OUT * IN, 1), eighths(OUT, 2));
        return QaLoraAdapter.builder(base).rank(RANK).alpha(4).quantizationBits(4).groupSize(4)
                .factors(eighths(RANK * IN, 3), eighths(OUT * RANK, 4)).build();
    }

    private static float[] referenceMerge(QaLoraAdapter adapter) {
        float[] w = adapter.baseLayer().weight();
        float[] a = adapter.loraA();
        float[] b = adapter.loraB();
        float[] merged = new float[OUT * IN];
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < IN; i++) {
                float delta = 0;
                for (int k = 0; k < RANK; k++) {
                    delta += b[o * RANK + k] * a[k * IN + i];
                }
                merged[o * IN + i] = w[o * IN + i] + adapter.scaling() * delta;
            }
        }
        return merged;
    }

    @Test
    void mergeOnANonSquareLayerEqualsQuantizingWPlusScaledBA() {
        try (QaLoraAdapter adapter = nonSquareAdapter()) {
            assertThat(adapter.scaling()).isEqualTo(2f);
            float[] expectedWeight = referenceMerge(adapter);
            QuantizedMatrix expected = GroupQuantizer.quantize(expectedWeight, OUT, IN, new QuantSpec(4, 4, false));
            MergedLayer merged = adapter.mergeToOriginalLayer();
            assertThat(merged.outFeatures()).isEqualTo(OUT);
            assertThat(merged.inFeatures()).isEqualTo(IN);
            assertThat(adapter.mergedWeight()).containsExactly(expectedWeight);
            assertThat(merged.weight().codes()).containsExactly(expected.codes());
            assertThat(merged.weight().scales()).containsExactly(expected.scales());
            assertThat(merged.weight().zeros()).containsExactly(expected.zeros());
            assertThat(merged.weight().dequantized()).containsExactly(expected.dequantized());
            assertThat(merged.weight().numGroups()).isEqualTo(OUT * 3L);
            assertThat(merged.bias()).containsExactly(eighths(OUT, 2));
        }
    }

    @Test
    void statisticsEqualADirectComputation() {
        try (QaLoraAdapter adapter = nonSquareAdapter()) {
            float[] merged = referenceMerge(adapter);
            float[] deq = GroupQuantizer.fakeQuantize(merged, OUT, IN, new QuantSpec(4, 4, false));
            double sum = 0;
            double max = 0;
            for (int i = 0; i < merged.length; i++) {
                double err = Math.abs(merged[i] - deq[i]);
                sum += err;
                max = Math.max(max, err);
            }
            QuantStats mergedStats = adapter.mergedWeightStats();
            assertThat(mergedStats.averageError()).isEqualTo(sum / merged.length);
            assertThat(mergedStats.maxError()).isEqualTo(max);
            assertThat(mergedStats.numGroups()).isEqualTo(18);

            // LORA_FACTORS stats: A [2,10] in groups of 4 along in (3 per row), B [6,2] one group per row.
            QuantStats factors = adapter.quantizationStats();
            QuantSpec spec = new QuantSpec(4, 4, false);
            float[] a = adapter.loraA();
            float[] b = adapter.loraB();
            float[] aq = GroupQuantizer.fakeQuantize(a, RANK, IN, spec);
            float[] bq = GroupQuantizer.fakeQuantize(b, OUT, RANK, spec);
            double factorSum = 0;
            for (int i = 0; i < a.length; i++) {
                factorSum += Math.abs(a[i] - aq[i]);
            }
            for (int i = 0; i < b.length; i++) {
                factorSum += Math.abs(b[i] - bq[i]);
            }
            assertThat(factors.numGroups()).isEqualTo(2 * 3 + 6);
            assertThat(factors.averageError()).isCloseTo(factorSum / (a.length + b.length),
                    org.assertj.core.data.Offset.offset(1e-12));
        }
    }

    @Test
    void freshAdapterChangesNothing() {
        DenseLayer base = Fixtures.layer(OUT, IN, true, 5);
        try (QaLoraAdapter adapter = new QaLoraAdapter(base, RANK, 4, 4, 0)) {
            assertThat(adapter.alpha()).isEqualTo(RANK);
            assertThat(adapter.scaling()).isEqualTo(1f);
            assertThat(adapter.mergedWeight()).containsExactly(base.weight());
            float bound = (float) (1 / Math.sqrt(IN));
            for (float v : adapter.loraA()) {
                assertThat(v).isBetween(-bound, bound);
            }
            assertThat(adapter.loraB()).containsOnly(0f);
        }
    }

    @Test
    void settersChangeTheQuantizationOfTheMerge() {
        try (QaLoraAdapter adapter = nonSquareAdapter()) {
            adapter.setQuantizationBits(2);
            adapter.setGroupSize(5);
            QuantizedMatrix q = adapter.mergeToOriginalLayer().weight();
            assertThat(q.spec()).isEqualTo(new QuantSpec(2, 5, false));
            assertThat(q.numGroups()).isEqualTo(OUT * 2L);
            assertThat(java.util.Arrays.stream(q.codesAsInts()).max().getAsInt()).isEqualTo(3);
        }
    }

    @Test
    void oneBitSettingsGiveFiniteResults() {
        try (QaLoraAdapter adapter = nonSquareAdapter()) {
            adapter.setQuantizationBits(1);
            float[] y = adapter.forward(eighths(3 * IN, 5), 3);
            for (float v : y) {
                assertThat(Float.isFinite(v)).isTrue();
            }
            for (float v : adapter.mergeToOriginalLayer().weight().dequantized()) {
                assertThat(Float.isFinite(v)).isTrue();
            }
        }
    }

    @Test
    void invalidArgumentsNameTheArgument() {
        DenseLayer base = Fixtures.layer(OUT, IN, false, 1);
        assertThatThrownBy(() -> new QaLoraAdapter(null, 2, 4, 4, 1)).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("baseLayer");
        assertThatThrownBy(() -> new QaLoraAdapter(base, 0, 4, 4, 1)).hasMessageContaining("rank");
        assertThatThrownBy(() -> new QaLoraAdapter(base, 7, 4, 4, 1)).hasMessageContaining("rank")
                .hasMessageContaining("6");
        assertThatThrownBy(() -> new QaLoraAdapter(base, 2, 17, 4, 1)).hasMessageContaining("quantizationBits");
        assertThatThrownBy(() -> new QaLoraAdapter(base, 2, 0, 4, 1)).hasMessageContaining("quantizationBits");
        assertThatThrownBy(() -> new QaLoraAdapter(base, 2, 4, 0, 1)).hasMessageContaining("groupSize");
        try (QaLoraAdapter adapter = new QaLoraAdapter(base, 2, 4, 4, 1)) {
            assertThatThrownBy(() -> adapter.setGroupSize(-1)).hasMessageContaining("groupSize");
            assertThatThrownBy(() -> adapter.forward(new float[IN + 1], 1)).hasMessageContaining("input");
        }
    }
}
