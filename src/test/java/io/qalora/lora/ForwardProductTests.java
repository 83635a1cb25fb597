package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.tensor.DenseLayer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The forward's product layouts against a double-precision reference: small batches run the base
 * product by the project's kernel ({@link SkinnyProduct}) or, without it, transposed
 * ({@link BatchBuffers#TRANSPOSED_MAX_ROWS}), larger ones as written, and the
 * MERGED_WEIGHTS forward multiplies the merged weight block of rows by block without ever holding
 * all of it.
 */
class ForwardProductTests {

    private static final QuantSpec SPEC = new QuantSpec(3, 16, false);
    private final SplittableRandom random = new SplittableRandom(3);

    @Test
    void loraFactorsForwardMatchesTheReferenceInBothProductLayouts() {
        int out = 40;
        int in = 48;
        DenseLayer base = Fixtures.layer(out, in, true, 5);
        float[] a = Fixtures.gaussian(4 * in, 0.3, random);
        float[] b = Fixtures.gaussian(out * 4, 0.3, random);
        float[] aq = GroupQuantizer.fakeQuantize(a, 4, in, SPEC);
        float[] bq = GroupQuantizer.fakeQuantize(b, out, 4, SPEC);
        float[] effective = effectiveWeight(base.weight(), aq, bq, out, in, 4);
        for (int batch : new int[] {1, BatchBuffers.TRANSPOSED_MAX_ROWS, BatchBuffers.TRANSPOSED_MAX_ROWS + 1, 150}) {
            float[] x = Fixtures.gaussian(batch * in, 1, random);
            try (QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(4).alpha(8).quantSpec(SPEC)
                    .quantizationTarget(QuantizationTarget.LORA_FACTORS).factors(a, b).build()) {
                assertClose(adapter.forward(x, batch), reference(x, batch, effective, base.bias(), out, in));
            }
        }
    }

    /** W + 2 B A, rounded to float32 once from a double sum. */
    private static float[] effectiveWeight(float[] w, float[] a, float[] b, int out, int in, int rank) {
        float[] effective = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double delta = 0;
                for (int k = 0; k < rank; k++) {
                    delta += (double) b[o * rank + k] * a[k * in + i];
                }
                effective[o * in + i] = (float) (w[o * in + i] + 2.0 * delta);
            }
        }
        return effective;
    }

    /** Every layout, but the project's kernel only where it was built for this CPU. */
    private static List<BatchBuffers.Layout> availableLayouts() {
        return Arrays.stream(BatchBuffers.Layout.values())
                .filter(layout -> layout != BatchBuffers.Layout.SKINNY_KERNEL || SkinnyProduct.available()).toList();
    }

    @Test
    void everyBaseProductLayoutGivesTheReferenceOutput() {
        int batch = 6;
        int in = 40;
        int out = 72;
        int rank = 3;
        float[] w = Fixtures.gaussian(out * in, 1, random);
        float[] a = Fixtures.gaussian(rank * in, 0.5, random);
        float[] b = Fixtures.gaussian(out * rank, 0.5, random);
        float[] x = Fixtures.gaussian(batch * in, 1, random);
        float[] effective = effectiveWeight(w, a, b, out, in, rank);
        double[] expected = reference(x, batch, effective, new float[out], out, in);
        try (BatchBuffers buf = new BatchBuffers(batch, in, out, rank); NativeMatrix weight = NativeMatrix.of(w, out, in);
                NativeMatrix factorA = NativeMatrix.of(a, rank, in); NativeMatrix factorB = NativeMatrix.of(b, out, rank)) {
            buf.x.load(x);
            buf.h.gemm(buf.x, false, factorA, true, 1f, 0f);
            for (BatchBuffers.Layout layout : availableLayouts()) {
                float[] y = new float[batch * out];
                buf.adaptedProduct(layout, weight, factorB, 2f, y);
                assertClose(y, expected);
            }
        }
    }

    /** dB = s dy^T h, dh = s dy B and dA = dh^T x, by the kernel and by OpenBLAS, against double sums. */
    @Test
    void everyLayoutGivesTheReferenceFactorGradients() {
        int batch = 5;
        int in = 40;
        int out = 70;
        int rank = 3;
        float scaling = 1.5f;
        float[] w = Fixtures.gaussian(out * in, 1, random);
        float[] a = Fixtures.gaussian(rank * in, 0.5, random);
        float[] b = Fixtures.gaussian(out * rank, 0.5, random);
        float[] x = Fixtures.gaussian(batch * in, 1, random);
        float[] dy = Fixtures.gaussian(batch * out, 1, random);
        double[] h = new double[batch * rank];
        double[] dh = new double[batch * rank];
        double[] gradB = new double[out * rank];
        double[] gradA = new double[rank * in];
        for (int r = 0; r < batch; r++) {
            for (int k = 0; k < rank; k++) {
                for (int i = 0; i < in; i++) {
                    h[r * rank + k] += (double) x[r * in + i] * a[k * in + i];
                }
                for (int o = 0; o < out; o++) {
                    dh[r * rank + k] += scaling * (double) dy[r * out + o] * b[o * rank + k];
                }
            }
        }
        for (int r = 0; r < batch; r++) {
            for (int k = 0; k < rank; k++) {
                for (int o = 0; o < out; o++) {
                    gradB[o * rank + k] += scaling * (double) dy[r * out + o] * h[r * rank + k];
                }
                for (int i = 0; i < in; i++) {
                    gradA[k * in + i] += dh[r * rank + k] * x[r * in + i];
                }
            }
        }
        for (BatchBuffers.Layout layout : availableLayouts()) {
            try (AdapterState state = new AdapterState(in, out, rank, in, scaling, true, SPEC, w, null, a, b);
                    BatchBuffers buf = new BatchBuffers(batch, in, out, rank, layout)) {
                state.factorA.load(a);
                state.factorB.load(b);
                buf.x.load(x);
                buf.projectInput(state.factorA);
                state.factorAndBaseGradients(buf, dy, buf.x);

                assertClose(state.gradB, gradB);
                assertClose(state.gradA, gradA);
            }
        }
    }

    @Test
    void mergedWeightsForwardAndInputGradientSpanSeveralMergeBlocks() {
        int in = 1024;
        int out = MergedLayer.blockRows(4096, in) + 76;
        int batch = 3;
        DenseLayer base = Fixtures.layer(out, in, true, 9);
        float[] a = Fixtures.gaussian(2 * in, 0.05, random);
        float[] b = Fixtures.gaussian(out * 2, 0.05, random);
        float[] x = Fixtures.gaussian(batch * in, 1, random);
        float[] probe = Fixtures.gaussian(batch * out, 1, random);
        assertThat(MergedLayer.blockRows(out, in)).as("two blocks, the last shorter")
                .isLessThan(out).isGreaterThan(out / 2);
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(2).alpha(4).quantSpec(SPEC)
                .quantizationTarget(QuantizationTarget.MERGED_WEIGHTS).factors(a, b).build()) {
            float[] mq = GroupQuantizer.fakeQuantize(adapter.mergedWeight(), out, in, SPEC);

            assertClose(adapter.forward(x, batch), reference(x, batch, mq, base.bias(), out, in));

            float[] dx = adapter.backward(probe);
            double[] expected = new double[batch * in];
            for (int r = 0; r < batch; r++) {
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        expected[r * in + i] += (double) probe[r * out + o] * mq[o * in + i];
                    }
                }
            }
            assertClose(dx, expected);
        }
    }

    @Test
    void mergedWeightsForwardQuantizesExactlyTheWeightsTheMergeDeploys() {
        int in = 1000;
        int out = MergedLayer.blockRows(4096, in) + 37;
        DenseLayer base = Fixtures.layer(out, in, false, 4);
        float[] a = Fixtures.gaussian(2 * in, 0.05, random);
        float[] b = Fixtures.gaussian(out * 2, 0.05, random);
        // One output row per batch row, in the first block, at its end and in the shorter last one.
        int[] rows = {0, MergedLayer.blockRows(out, in) - 1, MergedLayer.blockRows(out, in), out - 1};
        float[] oneHot = new float[rows.length * out];
        for (int r = 0; r < rows.length; r++) {
            oneHot[r * out + rows[r]] = 1f;
        }
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(2).alpha(4).quantSpec(new QuantSpec(4, 64, true))
                .quantizationTarget(QuantizationTarget.MERGED_WEIGHTS).factors(a, b).build()) {
            float[] deployed = adapter.mergeToOriginalLayer().weight().dequantized();
            adapter.forward(Fixtures.gaussian(rows.length * in, 1, random), rows.length);

            // dx = onehot fq(W + sBA): each row of dx is one row of the weight the forward used, exactly.
            float[] dx = adapter.backward(oneHot);
            for (int r = 0; r < rows.length; r++) {
                assertThat(Arrays.copyOfRange(dx, r * in, (r + 1) * in)).as("row %d", rows[r])
                        .containsExactly(Arrays.copyOfRange(deployed, rows[r] * in, (rows[r] + 1) * in));
            }
        }
    }

    private static double[] reference(float[] x, int batch, float[] weight, float[] bias, int out, int in) {
        double[] y = new double[batch * out];
        for (int r = 0; r < batch; r++) {
            for (int o = 0; o < out; o++) {
                double sum = bias[o];
                for (int i = 0; i < in; i++) {
                    sum += (double) x[r * in + i] * weight[o * in + i];
                }
                y[r * out + o] = sum;
            }
        }
        return y;
    }

    private static void assertClose(float[] actual, double[] expected) {
        assertThat(actual).hasSize(expected.length);
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < actual.length; i++) {
            assertThat(Math.abs(actual[i] - expected[i])).as("element %d", i).isLessThanOrEqualTo(1e-5 * scale);
        }
    }
}
