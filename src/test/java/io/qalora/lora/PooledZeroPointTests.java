package io.qalora.lora;

import static io.qalora.lora.FiniteDifferences.assertClose;
import static io.qalora.lora.FiniteDifferences.numericGradient;
import static io.qalora.lora.FiniteDifferences.toDouble;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qalora.InvalidParameterException;
import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.quant.QuantizerKind;
import io.qalora.quant.ZeroRoundingError;
import io.qalora.tensor.DenseLayer;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.SafetensorsWriter;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * POOLED_ZERO_POINT, the QA-LoRA paper's adapter: {@code y = x deq(W)^T + b + s (pool(x) A^T) B^T}
 * with {@code A [r, in/g]}, checked against double-precision references, finite differences and the
 * spec's merge formula {@code zero' = zero - s (B A) / scale}.
 */
class PooledZeroPointTests {

    private static final int OUT = 5;
    private static final int IN = 12;
    private static final int G = 4;
    private static final int GROUPS = IN / G;
    private static final int RANK = 2;
    private static final int BATCH = 4;
    private static final float ALPHA = 6f;
    private static final QuantSpec SPEC = new QuantSpec(3, G, false);

    private final SplittableRandom random = new SplittableRandom(17);
    private final DenseLayer base = Fixtures.layer(OUT, IN, true, 11);
    private final float[] a = Fixtures.gaussian(RANK * GROUPS, 0.5, random);
    private final float[] b = Fixtures.gaussian(OUT * RANK, 0.5, random);
    private final float[] x = Fixtures.gaussian(BATCH * IN, 1, random);
    private final float[] probe = Fixtures.gaussian(BATCH * OUT, 1, random);

    private QaLoraAdapter adapter(DenseLayer layer, float[] factorA, float[] factorB) {
        return QaLoraAdapter.builder(layer).rank(RANK).alpha(ALPHA).quantSpec(SPEC)
                .quantizationTarget(QuantizationTarget.POOLED_ZERO_POINT).factors(factorA, factorB).build();
    }

    private QaLoraAdapter adapter() {
        return adapter(base, a, b);
    }

    // ---- forward and backward -----------------------------------------------------------------

    /** {@code sum(R * (x Wb^T + b + s pool(x) A^T B^T))} in double, for the base weight {@code wb}. */
    private double probeLoss(double[] wb, double[] aa, double[] bb, double[] xx) {
        double s = ALPHA / RANK;
        double loss = 0;
        for (int r = 0; r < BATCH; r++) {
            double[] pooled = new double[GROUPS];
            for (int i = 0; i < IN; i++) {
                pooled[i / G] += xx[r * IN + i];
            }
            for (int o = 0; o < OUT; o++) {
                double y = base.bias()[o];
                for (int i = 0; i < IN; i++) {
                    y += xx[r * IN + i] * wb[o * IN + i];
                }
                for (int j = 0; j < RANK; j++) {
                    double h = 0;
                    for (int k = 0; k < GROUPS; k++) {
                        h += pooled[k] * aa[j * GROUPS + k];
                    }
                    y += s * h * bb[o * RANK + j];
                }
                loss += probe[r * OUT + o] * y;
            }
        }
        return loss;
    }

    private double probe(float[] y) {
        double loss = 0;
        for (int i = 0; i < y.length; i++) {
            loss += probe[i] * y[i];
        }
        return loss;
    }

    @Test
    void forwardIsTheDequantizedBasePlusThePooledUpdate() {
        double[] deq = toDouble(GroupQuantizer.fakeQuantize(base.weight(), OUT, IN, SPEC));
        try (QaLoraAdapter adapter = adapter()) {
            assertThat(probe(adapter.forward(x, BATCH)))
                    .isCloseTo(probeLoss(deq, toDouble(a), toDouble(b), toDouble(x)), within(1e-4));
            adapter.setQuantizationEnabled(false);
            assertThat(probe(adapter.forward(x, BATCH))).as("without quantization the base is W itself")
                    .isCloseTo(probeLoss(toDouble(base.weight()), toDouble(a), toDouble(b), toDouble(x)), within(1e-4));
        }
    }

    @Test
    void gradientsOfAbAndXMatchFiniteDifferences() {
        for (boolean quantize : new boolean[] {true, false}) {
            double[] w = toDouble(quantize ? GroupQuantizer.fakeQuantize(base.weight(), OUT, IN, SPEC) : base.weight());
            double[] aa = toDouble(a);
            double[] bb = toDouble(b);
            double[] xx = toDouble(x);
            try (QaLoraAdapter adapter = adapter()) {
                adapter.setQuantizationEnabled(quantize);
                adapter.forward(x, BATCH);
                float[] dx = adapter.backward(probe);
                Gradients g = adapter.gradients();
                assertThat(g.loraA()).hasSize(RANK * GROUPS);
                assertClose(g.loraA(), numericGradient(aa, p -> probeLoss(w, p, bb, xx)));
                assertClose(g.loraB(), numericGradient(bb, p -> probeLoss(w, aa, p, xx)));
                assertClose(dx, numericGradient(xx, p -> probeLoss(w, aa, bb, p)));
                assertThat(g.weight()).isNull();
                assertThat(g.bias()).isNull();
            }
        }
    }

    @Test
    void aFreshAdapterHasAPooledKaimingAAndChangesNothingButTheBaseQuantization() {
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(RANK).quantSpec(SPEC).seed(3)
                .quantizationTarget(QuantizationTarget.POOLED_ZERO_POINT).build()) {
            float bound = (float) (1 / Math.sqrt(GROUPS));
            assertThat(adapter.loraA()).hasSize(RANK * GROUPS);
            for (float v : adapter.loraA()) {
                assertThat(v).isBetween(-bound, bound);
            }
            assertThat(adapter.loraA()).containsExactly(QaLoraAdapter.kaimingUniform(RANK, GROUPS, 3));
            assertThat(adapter.loraB()).containsOnly(0f);
            QuantizedMatrix once = GroupQuantizer.quantize(base.weight(), OUT, IN, SPEC);
            assertThat(adapter.mergeToOriginalLayer().weight()).isEqualTo(once);
            assertThat(adapter.mergedWeight()).containsExactly(base.weight());
            float[] y = adapter.forward(x, BATCH);
            float[] expected = LayerOutputs.compute(new DenseLayer(OUT, IN, once.dequantized(), base.bias()), x, BATCH);
            for (int i = 0; i < y.length; i++) {
                assertThat(y[i]).isCloseTo(expected[i], within(1e-5f));
            }
        }
    }

    // ---- merge ----------------------------------------------------------------------------------

    /** Multiples of 1/8 keep s B A exact in float32, whatever order BLAS sums in. */
    private static float[] eighths(int n, int seed) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = ((i * 7 + seed * 13) % 17 - 8) / 8f;
        }
        return v;
    }

    @Test
    void theMergeMovesOnlyTheZeroPointsByTheSpecsFormula() {
        DenseLayer layer = new DenseLayer(OUT, IN, eighths(OUT * IN, 1), eighths(OUT, 2));
        float[] fa = eighths(RANK * GROUPS, 3);
        float[] fb = eighths(OUT * RANK, 4);
        try (QaLoraAdapter adapter = adapter(layer, fa, fb)) {
            float s = adapter.scaling();
            assertThat(s).isEqualTo(3f);
            QuantizedMatrix once = GroupQuantizer.quantize(layer.weight(), OUT, IN, SPEC);
            float[] zeros = new float[OUT * GROUPS];
            float[] deq = new float[OUT * IN];
            float[] full = layer.weight().clone();
            for (int o = 0; o < OUT; o++) {
                for (int k = 0; k < GROUPS; k++) {
                    float ba = 0;
                    for (int j = 0; j < RANK; j++) {
                        ba += fb[o * RANK + j] * fa[j * GROUPS + k];
                    }
                    float delta = s * ba;
                    int gi = o * GROUPS + k;
                    zeros[gi] = once.zeros()[gi] - delta / once.scales()[gi];
                    for (int i = k * G; i < (k + 1) * G; i++) {
                        deq[o * IN + i] = (once.codes()[o * IN + i] - zeros[gi]) * once.scales()[gi];
                        full[o * IN + i] += delta;
                    }
                }
            }
            MergedLayer merged = adapter.mergeToOriginalLayer();
            assertThat(merged.weight().codes()).containsExactly(once.codes());
            assertThat(merged.weight().scales()).containsExactly(once.scales());
            assertThat(merged.weight().zeros()).containsExactly(zeros);
            assertThat(merged.weight().dequantized()).containsExactly(deq);
            assertThat(merged.weight().hasIntegerZeros()).isFalse();
            assertThat(merged.bias()).containsExactly(layer.bias());
            assertThat(adapter.mergedWeight()).containsExactly(full);
            assertThat(adapter.mergedFullPrecision().weight()).containsExactly(full);
        }
    }

    @Test
    void theStandardAGivesThePooledUpdate() {
        try (QaLoraAdapter adapter = adapter()) {
            float[] expanded = adapter.standardLoraA();
            assertThat(expanded).hasSize(RANK * IN);
            for (int j = 0; j < RANK; j++) {
                for (int i = 0; i < IN; i++) {
                    assertThat(expanded[j * IN + i]).isEqualTo(a[j * GROUPS + i / G]);
                }
            }
            try (QaLoraAdapter standard = QaLoraAdapter.builder(base).rank(RANK).alpha(ALPHA).quantSpec(SPEC)
                    .factors(expanded, b).build()) {
                float[] pooled = adapter.mergedWeight();
                float[] plain = standard.mergedWeight();
                for (int i = 0; i < pooled.length; i++) {
                    assertThat(pooled[i]).isCloseTo(plain[i], within(1e-6f));
                }
            }
        }
    }

    @Test
    void integerZerosAreRoundedHalfToEvenAndClampedAndTheirErrorIsReported() {
        QuantSpec twoBits = new QuantSpec(2, 2, false);
        float[] scales = {0.5f, 0.25f, 1f, 2f, 0.125f};
        float[] zeros = {1.5f, 2.5f, -0.7f, 3.6f, 0.49f};
        char[] codes = {0, 3, 1, 2, 3, 3, 0, 1, 2, 0};
        float[] deq = new float[10];
        for (int i = 0; i < 10; i++) {
            deq[i] = (codes[i] - zeros[i / 2]) * scales[i / 2];
        }
        QuantizedMatrix floats = new QuantizedMatrix(twoBits, 1, 10, codes, scales, zeros, deq);
        QuantizedMatrix ints = floats.withIntegerZeros();
        assertThat(ints.zeros()).containsExactly(2f, 2f, 0f, 3f, 0f);
        assertThat(ints.codes()).containsExactly(codes);
        assertThat(ints.scales()).containsExactly(scales);
        assertThat(ints.dequantized()).containsExactly(ints.dequantize());
        assertThat(ints.hasIntegerZeros()).isTrue();
        assertThat(ints.withIntegerZeros()).isSameAs(ints);

        ZeroRoundingError e = ZeroRoundingError.of(floats);
        // Shifts per group: -0.5*0.5, 0.5*0.25, -0.7*1 (clamped), 0.6*2 (clamped), 0.49*0.125.
        assertThat(e.maxAbsError()).isCloseTo(1.2, within(1e-6));
        assertThat(e.clampedZeros()).isEqualTo(2);
        assertThat(e.zeros()).isEqualTo(5);
        double noise = 0;
        double signal = 0;
        for (int i = 0; i < 10; i++) {
            noise += Math.pow((double) ints.dequantized()[i] - deq[i], 2);
            signal += (double) deq[i] * deq[i];
        }
        assertThat(e.relativeError()).isCloseTo(Math.sqrt(noise / signal), within(1e-12));
    }

    // ---- statistics -----------------------------------------------------------------------------

    @Test
    void statisticsMeasureTheBaseQuantizationAndTheStoredFactors() {
        try (QaLoraAdapter adapter = adapter()) {
            QuantStats baseStats = GroupQuantizer.stats(base.weight(), OUT, IN, SPEC);
            assertThat(adapter.quantizationStats()).isEqualTo(baseStats);
            MergedLayer merged = adapter.mergeToOriginalLayer();
            assertThat(adapter.mergedWeightStats()).isEqualTo(merged.weight().stats(adapter.mergedWeight()));
            // The merge adds nothing of its own: the merged error is the base's, to float32 rounding.
            assertThat(adapter.mergedWeightStats().averageError()).isCloseTo(baseStats.averageError(), within(1e-6));
            assertThat(adapter.mergedWeightStats().numGroups()).isEqualTo(OUT * GROUPS);
            // A [2, 3] in groups of 4 along its columns (1 per row), B [5, 2] (1 per row).
            assertThat(adapter.loraFactorStats().numGroups()).isEqualTo(RANK + OUT);
            assertThat(adapter.loraFactorStats().elements()).isEqualTo(RANK * GROUPS + OUT * RANK);
        }
    }

    // ---- exports --------------------------------------------------------------------------------

    @Test
    void thePeftExportHoldsTheEquivalentStandardA() throws Exception {
        try (QaLoraAdapter adapter = adapter()) {
            byte[] zip = PeftExport.zip(adapter);
            PeftAdapter read = PeftImport.read(zip);
            assertThat(read.loraA()).containsExactly(adapter.standardLoraA());
            assertThat(read.loraB()).containsExactly(b);
            JsonNode config = JsonMapper.builder().build().readTree(ZipArchive.read(zip, "zip", 1 << 20)
                    .get(PeftExport.CONFIG_FILE));
            assertThat(config.get("quantization_target").asString()).isEqualTo("POOLED_ZERO_POINT");
            assertThat(config.get("qalora_group_size").asInt()).isEqualTo(G);
            assertThat(config.get("use_qalora").asBoolean()).isFalse();

            SafetensorsFile file = SafetensorsReader.read(SafetensorsWriter.toBytes(SafetensorsExport.adapter(adapter)));
            assertThat(file.require("lora_A").shape()).containsExactly(RANK, GROUPS);
            assertThat(file.metadata()).containsEntry("quantization_target", "POOLED_ZERO_POINT");
            assertThat(PeftImport.read(SafetensorsExport.adapterAsPeft(file, "dense"))).isEqualTo(read);
        }
    }

    @Test
    void theMergedFileCarriesFloatZerosAndGptqTakesTheRoundedOnes() {
        DenseLayer layer = Fixtures.layer(8, 16, true, 21);
        QuantSpec spec = new QuantSpec(4, 4, true);
        SplittableRandom r = new SplittableRandom(2);
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(layer).rank(2).quantSpec(spec)
                .quantizationTarget(QuantizationTarget.POOLED_ZERO_POINT)
                .factors(Fixtures.gaussian(2 * 4, 0.3, r), Fixtures.gaussian(8 * 2, 0.3, r)).build()) {
            MergedLayer merged = adapter.mergeToOriginalLayer();
            SafetensorsFile file = SafetensorsExport.merged(merged, Map.of());
            assertThat(file.metadata()).containsEntry("zero_points", "float");
            assertThat(SafetensorsExport.readMerged(file)).isEqualTo(merged);

            assertThatThrownBy(() -> GptqExport.zip(merged)).isInstanceOf(InvalidParameterException.class)
                    .hasMessageContaining("zeros").hasMessageContaining("withIntegerZeros");
            MergedLayer rounded = merged.withIntegerZeros();
            assertThat(SafetensorsExport.merged(rounded, Map.of()).metadata()).containsEntry("zero_points", "integer");
            SafetensorsFile gptq = GptqExport.checkpoint(rounded, "");
            assertThat(gptq.require(GptqExport.QZEROS).shape()).containsExactly(4, 1);
            float[] exported = GptqExport.exportedWeight(rounded);
            float[] deq = rounded.weight().dequantized();
            for (int i = 0; i < deq.length; i++) {
                assertThat(exported[i]).isCloseTo(deq[i], within(Math.abs(deq[i]) * 1e-3f + 1e-6f));
            }
        }
    }

    // ---- rejections -----------------------------------------------------------------------------

    @Test
    void whatThePooledTargetCannotDoIsRefusedByName() {
        QaLoraAdapterBuilder pooled = QaLoraAdapter.builder(Fixtures.layer(OUT, 10, false, 1)).rank(RANK).groupSize(4)
                .quantizationTarget(QuantizationTarget.POOLED_ZERO_POINT);
        assertThatThrownBy(pooled::build).isInstanceOf(InvalidParameterException.class)
                .hasMessageStartingWith("groupSize").hasMessageContaining("10");
        assertThatThrownBy(() -> QaLoraAdapter.builder(base).rank(RANK).quantSpec(SPEC).freezeBaseLayer(false)
                .quantizationTarget(QuantizationTarget.POOLED_ZERO_POINT).build())
                .isInstanceOf(InvalidParameterException.class).hasMessageStartingWith("freezeBaseLayer");
        assertThatThrownBy(() -> adapter(base, new float[RANK * IN], b))
                .isInstanceOf(InvalidParameterException.class).hasMessageStartingWith("loraA");
        try (QaLoraAdapter adapter = adapter()) {
            assertThatThrownBy(() -> adapter.setGroupSize(2)).hasMessageStartingWith("groupSize");
            assertThatThrownBy(() -> adapter.setQuantizationBits(4)).hasMessageStartingWith("quantizationBits");
            assertThatThrownBy(() -> adapter.setQuantizationTarget(QuantizationTarget.LORA_FACTORS))
                    .hasMessageStartingWith("quantizationTarget");
            assertThatThrownBy(() -> adapter.mergeToOriginalLayer(QuantizerKind.GPTQ, x, BATCH))
                    .isInstanceOf(InvalidParameterException.class).hasMessageStartingWith("mergeQuantizer");
            assertThat(adapter.groupSize()).isEqualTo(G);
            assertThat(adapter.quantizationBits()).isEqualTo(3);
        }
        try (QaLoraAdapter standard = new QaLoraAdapter(base, RANK, 4, 4, 1)) {
            assertThatThrownBy(() -> standard.setQuantizationTarget(QuantizationTarget.POOLED_ZERO_POINT))
                    .hasMessageStartingWith("quantizationTarget");
            standard.setQuantizationTarget(QuantizationTarget.MERGED_WEIGHTS);
            assertThat(standard.quantizationTarget()).isEqualTo(QuantizationTarget.MERGED_WEIGHTS);
        }
    }
}
