package io.qalora.lora;

import static io.qalora.lora.FiniteDifferences.assertClose;
import static io.qalora.lora.FiniteDifferences.numericGradient;
import static io.qalora.lora.FiniteDifferences.toDouble;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.tensor.DenseLayer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of the backward pass against a double-precision reference of the
 * forward pass, with a linear probe loss {@code L = sum(R * y)} so that dL/dy = R.
 */
class QaLoraAdapterGradientTests {

    private static final int OUT = 5;
    private static final int IN = 6;
    private static final int RANK = 3;
    private static final int BATCH = 4;
    private static final float ALPHA = 6f;

    private final SplittableRandom random = new SplittableRandom(7);
    private final DenseLayer base = Fixtures.layer(OUT, IN, true, 11);
    private final float[] a = Fixtures.gaussian(RANK * IN, 0.5, random);
    private final float[] b = Fixtures.gaussian(OUT * RANK, 0.5, random);
    private final float[] x = Fixtures.gaussian(BATCH * IN, 1, random);
    private final float[] probe = Fixtures.gaussian(BATCH * OUT, 1, random);

    private QaLoraAdapter adapter(boolean freeze, QuantizationTarget target, boolean quantize) {
        QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(RANK).alpha(ALPHA).quantizationBits(3).groupSize(4)
                .freezeBaseLayer(freeze).quantizationTarget(target).factors(a, b).build();
        adapter.setQuantizationEnabled(quantize);
        return adapter;
    }

    /** {@code sum(R * (x W^T + b + s x A^T B^T))} in double. */
    private double probeLoss(double[] w, double[] bias, double[] aa, double[] bb, double[] xx) {
        double s = ALPHA / RANK;
        double loss = 0;
        for (int r = 0; r < BATCH; r++) {
            for (int o = 0; o < OUT; o++) {
                double y = bias[o];
                for (int i = 0; i < IN; i++) {
                    double delta = 0;
                    for (int k = 0; k < RANK; k++) {
                        delta += bb[o * RANK + k] * aa[k * IN + i];
                    }
                    y += xx[r * IN + i] * (w[o * IN + i] + s * delta);
                }
                loss += probe[r * OUT + o] * y;
            }
        }
        return loss;
    }

    @Test
    void gradientsOfEveryTensorMatchFiniteDifferencesWithoutQuantization() {
        double[] w = toDouble(base.weight());
        double[] bias = toDouble(base.bias());
        double[] aa = toDouble(a);
        double[] bb = toDouble(b);
        double[] xx = toDouble(x);
        try (QaLoraAdapter adapter = adapter(false, QuantizationTarget.LORA_FACTORS, false)) {
            adapter.forward(x, BATCH);
            float[] dx = adapter.backward(probe);
            Gradients g = adapter.gradients();
            assertClose(g.loraA(), numericGradient(aa, p -> probeLoss(w, bias, p, bb, xx)));
            assertClose(g.loraB(), numericGradient(bb, p -> probeLoss(w, bias, aa, p, xx)));
            assertClose(g.weight(), numericGradient(w, p -> probeLoss(p, bias, aa, bb, xx)));
            assertClose(g.bias(), numericGradient(bias, p -> probeLoss(w, p, aa, bb, xx)));
            assertClose(dx, numericGradient(xx, p -> probeLoss(w, bias, aa, bb, p)));
        }
    }

    @Test
    void forwardMatchesTheDoublePrecisionReference() {
        try (QaLoraAdapter adapter = adapter(true, QuantizationTarget.LORA_FACTORS, false)) {
            float[] y = adapter.forward(x, BATCH);
            double loss = 0;
            for (int i = 0; i < y.length; i++) {
                loss += probe[i] * y[i];
            }
            double expected = probeLoss(toDouble(base.weight()), toDouble(base.bias()), toDouble(a), toDouble(b), toDouble(x));
            assertThat(loss).isCloseTo(expected, within(1e-4));
        }
    }

    @Test
    void frozenBaseHasNoWeightGradients() {
        try (QaLoraAdapter adapter = adapter(true, QuantizationTarget.LORA_FACTORS, true)) {
            adapter.forward(x, BATCH);
            adapter.backward(probe);
            assertThat(adapter.gradients().weight()).isNull();
            assertThat(adapter.gradients().bias()).isNull();
        }
    }

    @Test
    void loraFactorsTargetPassesGradientsStraightThroughTheQuantizedFactors() {
        QuantSpec spec = new QuantSpec(3, 4, false);
        float[] aq = GroupQuantizer.fakeQuantize(a, RANK, IN, spec);
        float[] bq = GroupQuantizer.fakeQuantize(b, OUT, RANK, spec);
        try (QaLoraAdapter quantized = adapter(false, QuantizationTarget.LORA_FACTORS, true);
                QaLoraAdapter onQuantizedFactors = QaLoraAdapter.builder(base).rank(RANK).alpha(ALPHA)
                        .quantizationBits(3).groupSize(4).freezeBaseLayer(false).factors(aq, bq).build()) {
            onQuantizedFactors.setQuantizationEnabled(false);
            float[] y = quantized.forward(x, BATCH);
            float[] dx = quantized.backward(probe);
            assertThat(y).containsExactly(onQuantizedFactors.forward(x, BATCH));
            assertThat(dx).containsExactly(onQuantizedFactors.backward(probe));
            Gradients expected = onQuantizedFactors.gradients();
            Gradients actual = quantized.gradients();
            assertThat(actual.loraA()).containsExactly(expected.loraA());
            assertThat(actual.loraB()).containsExactly(expected.loraB());
            assertThat(actual.weight()).containsExactly(expected.weight());
            assertThat(actual.bias()).containsExactly(expected.bias());
        }
    }

    @Test
    void mergedWeightsTargetPassesGradientsStraightThroughTheQuantizedMerge() {
        double s = ALPHA / RANK;
        QuantSpec spec = new QuantSpec(3, 4, false);
        try (QaLoraAdapter adapter = adapter(false, QuantizationTarget.MERGED_WEIGHTS, true)) {
            float[] y = adapter.forward(x, BATCH);
            float[] dx = adapter.backward(probe);
            Gradients g = adapter.gradients();
            float[] mq = GroupQuantizer.fakeQuantize(adapter.mergedWeight(), OUT, IN, spec);
            // dM = R^T x; STE: dW = dM, dA = s B^T dM, dB = s dM A^T; dx = R fq(M).
            double[] dm = new double[OUT * IN];
            for (int o = 0; o < OUT; o++) {
                for (int i = 0; i < IN; i++) {
                    for (int r = 0; r < BATCH; r++) {
                        dm[o * IN + i] += (double) probe[r * OUT + o] * x[r * IN + i];
                    }
                }
            }
            double[] da = new double[RANK * IN];
            double[] db = new double[OUT * RANK];
            for (int k = 0; k < RANK; k++) {
                for (int o = 0; o < OUT; o++) {
                    for (int i = 0; i < IN; i++) {
                        da[k * IN + i] += s * b[o * RANK + k] * dm[o * IN + i];
                        db[o * RANK + k] += s * dm[o * IN + i] * a[k * IN + i];
                    }
                }
            }
            double[] expectedDx = new double[BATCH * IN];
            double[] expectedY = new double[BATCH * OUT];
            for (int r = 0; r < BATCH; r++) {
                for (int o = 0; o < OUT; o++) {
                    expectedY[r * OUT + o] = base.bias()[o];
                    for (int i = 0; i < IN; i++) {
                        expectedDx[r * IN + i] += (double) probe[r * OUT + o] * mq[o * IN + i];
                        expectedY[r * OUT + o] += (double) x[r * IN + i] * mq[o * IN + i];
                    }
                }
            }
            assertClose(y, expectedY);
            assertClose(g.weight(), dm);
            assertClose(g.loraA(), da);
            assertClose(g.loraB(), db);
            assertClose(dx, expectedDx);
        }
    }
}
