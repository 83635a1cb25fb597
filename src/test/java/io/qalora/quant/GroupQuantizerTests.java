package io.qalora.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import org.junit.jupiter.api.Test;

/** Golden values worked out by hand from the spec's formulas (and cross-checked with NumPy float32). */
class GroupQuantizerTests {

    @Test
    void asymmetricFourBitGroupMatchesTheSpecByHand() {
        // lo=-1, hi=3: scale=4/15, zero=rint(3.75)=4; 2/scale is 7.4999995 in float32, so it rounds to 7.
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {-1f, 0.5f, 2f, 3f}, 1, 4, new QuantSpec(4, 4, false));
        assertThat(q.scales()).containsExactly(0.26666668f);
        assertThat(q.zeros()).containsExactly(4f);
        assertThat(q.codesAsInts()).containsExactly(0, 6, 11, 15);
        assertThat(q.dequantized()).containsExactly(-1.0666667f, 0.53333336f, 1.8666668f, 2.9333334f);
    }

    @Test
    void symmetricFourBitGroupCentresTheZeroPoint() {
        // a=max(1,3)=3: scale=6/15=0.4, zero=8; 3/0.4=7.5 ties to 8 -> 16, clamped to 15.
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {-1f, 0.5f, 2f, 3f}, 1, 4, new QuantSpec(4, 4, true));
        assertThat(q.scales()).containsExactly(0.4f);
        assertThat(q.zeros()).containsExactly(8f);
        assertThat(q.codesAsInts()).containsExactly(6, 9, 13, 15);
        assertThat(q.dequantized()).containsExactly(-0.8f, 0.4f, 2.0f, 2.8f);
    }

    @Test
    void exactTiesRoundHalfToEven() {
        // lo=0, hi=3, 2 bits: scale=1, zero=0; 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {0.5f, 1.5f, 2.5f, 3f}, 1, 4, new QuantSpec(2, 4, false));
        assertThat(q.scales()).containsExactly(1f);
        assertThat(q.zeros()).containsExactly(0f);
        assertThat(q.codesAsInts()).containsExactly(0, 2, 2, 3);
        assertThat(q.dequantized()).containsExactly(0f, 2f, 2f, 3f);
    }

    @Test
    void oneBitAsymmetricKeepsZeroAndTheLowEnd() {
        // lo=-0.9, hi=0.7: scale=1.6 (1.5999999 in float32), zero=rint(0.5625)=1.
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {-0.3f, 0.2f, 0.7f, -0.9f}, 1, 4, new QuantSpec(1, 4, false));
        assertThat(q.scales()).containsExactly(1.5999999f);
        assertThat(q.zeros()).containsExactly(1f);
        assertThat(q.codesAsInts()).containsExactly(1, 1, 1, 0);
        assertThat(q.dequantized()).containsExactly(0f, 0f, 0f, -1.5999999f);
    }

    @Test
    void twoBitSymmetricUsesZeroPointTwo() {
        // a=0.9: scale=1.8/3, zero=2.
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {-0.3f, 0.2f, 0.7f, -0.9f}, 1, 4, new QuantSpec(2, 4, true));
        assertThat(q.scales()).containsExactly(0.59999996f);
        assertThat(q.zeros()).containsExactly(2f);
        assertThat(q.codesAsInts()).containsExactly(1, 2, 3, 0);
        assertThat(q.dequantized()).containsExactly(-0.59999996f, 0f, 0.59999996f, -1.1999999f);
    }

    @Test
    void eightBitRowWithAPartialLastGroup() {
        // groups [0.1, -0.25], [0.5, 1.0], [-2.0] (the short last group).
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {0.1f, -0.25f, 0.5f, 1f, -2f}, 1, 5, new QuantSpec(8, 2, false));
        assertThat(q.groupsPerRow()).isEqualTo(3);
        assertThat(q.scales()).containsExactly(0.001372549f, 0.003921569f, 0.007843138f);
        assertThat(q.zeros()).containsExactly(182f, 0f, 255f);
        assertThat(q.codesAsInts()).containsExactly(255, 0, 127, 255, 0);
        assertThat(q.dequantized()).containsExactly(0.10019608f, -0.24980392f, 0.49803925f, 1f, -2f);
    }

    @Test
    void allZeroGroupUsesTheUnitRange() {
        QuantizedMatrix asym = GroupQuantizer.quantize(new float[4], 1, 4, new QuantSpec(4, 4, false));
        assertThat(asym.scales()).containsExactly(0.13333334f);
        assertThat(asym.zeros()).containsExactly(7f);
        assertThat(asym.codesAsInts()).containsExactly(7, 7, 7, 7);
        assertThat(asym.dequantized()).containsOnly(0f);
        QuantizedMatrix sym = GroupQuantizer.quantize(new float[4], 1, 4, new QuantSpec(4, 4, true));
        assertThat(sym.zeros()).containsExactly(8f);
        assertThat(sym.dequantized()).containsOnly(0f);
    }

    @Test
    void constantGroupIsRepresentedExactlyWhenPositive() {
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {2f, 2f, 2f}, 1, 3, new QuantSpec(4, 3, false));
        assertThat(q.scales()).containsExactly(0.13333334f);
        assertThat(q.zeros()).containsExactly(0f);
        assertThat(q.codesAsInts()).containsExactly(15, 15, 15);
        assertThat(q.dequantized()).containsOnly(2f);
    }

    @Test
    void constantNegativeGroupSymmetricThreeBits() {
        // a=2: scale=4/7, zero=4; -2/scale=-3.5 ties to -4 -> code 0, deq -4*scale.
        QuantizedMatrix q = GroupQuantizer.quantize(new float[] {-2f, -2f, -2f}, 1, 3, new QuantSpec(3, 3, true));
        assertThat(q.scales()).containsExactly(0.5714286f);
        assertThat(q.codesAsInts()).containsExactly(1, 1, 1);
        assertThat(q.dequantized()).containsOnly(-1.7142859f);
    }

    @Test
    void symmetricFakeQuantizationShrinksAPositiveExtreme() {
        // The spec calls fq idempotent, but with symmetric codes the largest positive level is
        // (2^(b-1) - 1) * scale < a, so a positive extreme a maps to 2a/3 at 2 bits, then to 4a/9.
        QuantSpec spec = new QuantSpec(2, 4, true);
        float[] once = GroupQuantizer.fakeQuantize(new float[] {0.9f}, 1, 1, spec);
        float[] twice = GroupQuantizer.fakeQuantize(once, 1, 1, spec);
        assertThat(once).containsExactly(0.59999996f);
        assertThat(twice).containsExactly(0.39999998f);
    }

    @Test
    void asymmetricFakeQuantizationChangesScaleWhenBothEndsTieDownward() {
        // 6 bits, lo=-32.5, hi=30.5: scale=1, zero=rint(32.5)=32, hi -> rint(30.5)+32 = 62, not 63.
        // fq gives [-32, 30], whose refit has scale 62/63: the spec's idempotence needs the top code.
        QuantSpec spec = new QuantSpec(6, 2, false);
        float[] once = GroupQuantizer.fakeQuantize(new float[] {-32.5f, 30.5f}, 1, 2, spec);
        assertThat(once).containsExactly(-32f, 30f);
        assertThat(GroupQuantizer.quantize(once, 1, 2, spec).scales()).containsExactly(62f / 63f);
    }

    @Test
    void groupsRunAlongRowsNotAcrossThem() {
        // Two rows of 3 with groups of 2: each row has groups [2] + [1], four groups in all.
        float[] m = {1f, 2f, 3f, -4f, -5f, -6f};
        QuantizedMatrix q = GroupQuantizer.quantize(m, 2, 3, new QuantSpec(4, 2, false));
        assertThat(q.numGroups()).isEqualTo(4);
        assertThat(q.scales()).containsExactly(2f / 15, 3f / 15, 5f / 15, 6f / 15);
        assertThat(q.dequantize()).containsExactly(q.dequantized());
    }

    @Test
    void fakeQuantizeEqualsTheDequantizedMatrixAndWorksInPlace() {
        float[] m = {0.3f, -1.2f, 0.05f, 2.2f, -0.7f, 0.9f};
        QuantSpec spec = new QuantSpec(3, 4, false);
        float[] expected = GroupQuantizer.quantize(m, 2, 3, spec).dequantized();
        assertThat(GroupQuantizer.fakeQuantize(m, 2, 3, spec)).containsExactly(expected);
        GroupQuantizer.fakeQuantize(m, 0, m, 0, 2, 3, spec);
        assertThat(m).containsExactly(expected);
    }

    @Test
    void statisticsAreTheMeanAndMaxAbsoluteError() {
        float[] m = {-1f, 0.5f, 2f, 3f};
        QuantStats stats = GroupQuantizer.stats(m, 1, 4, new QuantSpec(4, 4, false));
        double expectedAvg = (Math.abs(-1f - -1.0666667f) + Math.abs(0.5f - 0.53333336f)
                + Math.abs(2f - 1.8666668f) + Math.abs(3f - 2.9333334f)) / 4;
        assertThat(stats.averageError()).isCloseTo(expectedAvg, org.assertj.core.data.Offset.offset(1e-7));
        assertThat(stats.maxError()).isEqualTo(Math.abs(2f - 1.8666668f));
        assertThat(stats.numGroups()).isEqualTo(1);
    }

    @Test
    void statisticsCombineAsOneTensorSet() {
        QuantStats a = new QuantStats(1.0, 2.0, 3, 10);
        QuantStats b = new QuantStats(4.0, 1.0, 5, 30);
        assertThat(a.combine(b)).isEqualTo(new QuantStats(3.25, 2.0, 8, 40));
    }

    @Test
    void illegalSpecsNameTheArgument() {
        assertThatThrownBy(() -> new QuantSpec(1, 4, true)).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("quantizationBits");
        assertThatThrownBy(() -> new QuantSpec(0, 4, false)).hasMessageContaining("quantizationBits");
        assertThatThrownBy(() -> new QuantSpec(17, 4, false)).hasMessageContaining("quantizationBits");
        assertThatThrownBy(() -> new QuantSpec(4, 0, false)).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("groupSize");
    }
}
