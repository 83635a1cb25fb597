package io.qalora.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qalora.InvalidParameterException;
import org.junit.jupiter.api.Test;

class QuantErrorStatsTests {

    @Test
    void errorSqnrAndClampingByHand() {
        // One group, 2 bits, scale 1, zero 1: -1.5 -> rint(-1.5) + 1 = -1, clamped to code 0 (deq -1);
        // 2.25 -> rint(2.25) + 1 = 3, in range (deq 2). Noise 0.25 + 0.0625, signal 2.25 + 5.0625.
        QuantizedMatrix q = new QuantizedMatrix(new QuantSpec(2, 2, false), 1, 2, new char[] {0, 3},
                new float[] {1f}, new float[] {1f}, new float[] {-1f, 2f});
        QuantErrorStats s = QuantErrorStats.of(new float[] {-1.5f, 2.25f}, q);
        assertThat(s.relativeError()).isCloseTo(Math.sqrt(0.3125 / 7.3125), within(1e-15));
        assertThat(s.sqnrDb()).isCloseTo(10 * Math.log10(7.3125 / 0.3125), within(1e-12));
        assertThat(s.clampedFraction()).isEqualTo(0.5);
        assertThat(s.elements()).isEqualTo(2);
        assertThat(s.exact()).isFalse();
    }

    @Test
    void groupWiseStatisticsEqualAPlainElementLoopExactly() {
        // 37 x 45 in groups of 8 (a partial group of 5 per row); every 7th value moved after
        // quantizing, so some fall outside their group's range and clamp.
        int rows = 37;
        int cols = 45;
        float[] w = GroupQuantizerParallelTests.values(rows, cols, 3);
        QuantizedMatrix q = GroupQuantizer.quantize(w, rows, cols, new QuantSpec(3, 8, false));
        float[] shifted = w.clone();
        for (int i = 0; i < shifted.length; i += 7) {
            shifted[i] = shifted[i] * 1.5f + 0.25f;
        }
        double signal = 0;
        double noise = 0;
        long clamped = 0;
        for (int i = 0; i < shifted.length; i++) {
            int gi = (i / cols) * q.groupsPerRow() + (i % cols) / 8;
            double v = shifted[i];
            double diff = v - q.dequantized()[i];
            signal += v * v;
            noise += diff * diff;
            float raw = (float) Math.rint(shifted[i] / q.scales()[gi]) + q.zeros()[gi];
            clamped += raw < 0f || raw > q.spec().maxq() ? 1 : 0;
        }

        QuantErrorStats s = QuantErrorStats.of(shifted, q);

        assertThat(clamped).isPositive();
        assertThat(s.clampedFraction()).isEqualTo((double) clamped / shifted.length);
        assertThat(s.relativeError()).isEqualTo(Math.sqrt(noise) / Math.sqrt(signal));
        assertThat(s.sqnrDb()).isEqualTo(10 * Math.log10(signal / noise));
    }

    @Test
    void anExactQuantizationHasInfiniteSqnr() {
        float[] w = {0f, 1f, 2f, 3f};
        QuantizedMatrix q = GroupQuantizer.quantize(w, 1, 4, new QuantSpec(2, 4, false));
        QuantErrorStats s = QuantErrorStats.of(w, q);
        assertThat(s.exact()).isTrue();
        assertThat(s.sqnrDb()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(s.relativeError()).isZero();
        assertThat(s.clampedFraction()).isZero();
    }

    @Test
    void anAllZeroWeightIsExactToo() {
        QuantizedMatrix q = GroupQuantizer.quantize(new float[6], 2, 3, new QuantSpec(4, 2, true));
        QuantErrorStats s = QuantErrorStats.of(new float[6], q);
        assertThat(s.exact()).isTrue();
        assertThat(s.relativeError()).isZero();
    }

    @Test
    void symmetricCodesClampThePositiveExtreme() {
        // Symmetric 2 bits: a = 0.9, scale 0.6, zero 2; 0.9 / 0.6 = 1.5 -> 2 + 2 = 4 > 3, clamped.
        float[] w = {-0.3f, 0.2f, 0.7f, 0.9f};
        QuantizedMatrix q = GroupQuantizer.quantize(w, 1, 4, new QuantSpec(2, 4, true));
        QuantErrorStats s = QuantErrorStats.of(w, q);
        assertThat(s.clampedFraction()).isEqualTo(0.25);
        assertThat(s.sqnrDb()).isCloseTo(10 * Math.log10(signal(w) / noise(w, q.dequantized())), within(1e-12));
    }

    @Test
    void rejectsAMismatchedOriginal() {
        QuantizedMatrix q = GroupQuantizer.quantize(new float[4], 2, 2, new QuantSpec(4, 2, false));
        assertThatThrownBy(() -> QuantErrorStats.of(new float[3], q)).isInstanceOf(InvalidParameterException.class);
    }

    private static double signal(float[] w) {
        double s = 0;
        for (float v : w) {
            s += (double) v * v;
        }
        return s;
    }

    private static double noise(float[] w, float[] d) {
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            double e = (double) w[i] - d[i];
            s += e * e;
        }
        return s;
    }
}
