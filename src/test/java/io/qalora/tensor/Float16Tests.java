package io.qalora.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class Float16Tests {

    @Test
    void decodesKnownHalfBitPatterns() {
        assertThat(Float16.toFloat((short) 0x3C00)).isEqualTo(1.0f);
        assertThat(Float16.toFloat((short) 0xC000)).isEqualTo(-2.0f);
        assertThat(Float16.toFloat((short) 0x7BFF)).isEqualTo(65504f);
        assertThat(Float16.toFloat((short) 0x3555)).isEqualTo(0.333251953125f);
        assertThat(Float16.toFloat((short) 0x0400)).isEqualTo(6.103515625e-5f);
    }

    @Test
    void decodesHalfSubnormalsExactly() {
        assertThat((double) Float16.toFloat((short) 0x0001)).isEqualTo(5.960464477539063e-8);
        assertThat(Float16.toFloat((short) 0x03FF)).isEqualTo(1023 * 0x1p-24f);
        assertThat(Float16.toFloat((short) 0x8001)).isEqualTo(-0x1p-24f);
    }

    @Test
    void decodesHalfZerosInfinitiesAndNan() {
        assertThat(Float.floatToIntBits(Float16.toFloat((short) 0x0000))).isEqualTo(Float.floatToIntBits(0.0f));
        assertThat(Float.floatToIntBits(Float16.toFloat((short) 0x8000))).isEqualTo(Float.floatToIntBits(-0.0f));
        assertThat(Float16.toFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Float16.toFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(Float16.toFloat((short) 0x7E00)).isNaN();
        assertThat(Float16.toFloat((short) 0x7C01)).isNaN();
    }

    @Test
    void decodesKnownBfloat16BitPatterns() {
        assertThat(Float16.bfloat16ToFloat((short) 0x3F80)).isEqualTo(1.0f);
        assertThat(Float16.bfloat16ToFloat((short) 0xC0A0)).isEqualTo(-5.0f);
        assertThat(Float16.bfloat16ToFloat((short) 0x7F80)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Float16.bfloat16ToFloat((short) 0x0001)).isEqualTo(Float.intBitsToFloat(0x00010000));
    }

    @Test
    void encodesExactlyRepresentableValuesExactly() {
        assertThat(Float16.fromFloat(1.0f)).isEqualTo((short) 0x3C00);
        assertThat(Float16.fromFloat(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(Float16.fromFloat(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(Float16.fromFloat(1.0009765625f)).isEqualTo((short) 0x3C01);
        assertThat(Float16.fromFloat(0x1p-24f)).isEqualTo((short) 0x0001);
        assertThat(Float16.fromFloat(-0.0f)).isEqualTo((short) 0x8000);
    }

    @Test
    void encodesTiesToEven() {
        // 1 + 2^-11 is halfway between 1.0 (even) and 1 + 2^-10 (odd).
        assertThat(Float16.fromFloat(1.0f + 0x1p-11f)).isEqualTo((short) 0x3C00);
        // 1 + 3 * 2^-11 is halfway between 0x3C01 (odd) and 0x3C02 (even).
        assertThat(Float16.fromFloat(1.0f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
        // Just above the tie rounds up.
        assertThat(Float16.fromFloat(Math.nextUp(1.0f + 0x1p-11f))).isEqualTo((short) 0x3C01);
    }

    @Test
    void encodesOverflowAsInfinity() {
        assertThat(Float16.fromFloat(65519f)).isEqualTo((short) 0x7BFF);
        assertThat(Float16.fromFloat(65520f)).isEqualTo((short) 0x7C00);
        assertThat(Float16.fromFloat(-1e10f)).isEqualTo((short) 0xFC00);
        assertThat(Float16.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7C00);
        assertThat(Float16.toFloat(Float16.fromFloat(Float.NaN))).isNaN();
    }

    @Test
    void encodesSubnormalsWithTiesToEven() {
        assertThat(Float16.fromFloat(0x1p-25f)).isEqualTo((short) 0x0000); // tie with 0 (even)
        assertThat(Float16.fromFloat(Math.nextUp(0x1p-25f))).isEqualTo((short) 0x0001);
        assertThat(Float16.fromFloat(3 * 0x1p-25f)).isEqualTo((short) 0x0002); // tie 1 vs 2: even
        assertThat(Float16.fromFloat(1e-10f)).isEqualTo((short) 0x0000);
        // The largest subnormal rounding up lands exactly on the smallest normal.
        assertThat(Float16.fromFloat(0x1p-14f - 0x1p-26f)).isEqualTo((short) 0x0400);
    }

    @Test
    void everyFiniteHalfSurvivesARoundTripThroughFloat() {
        for (int bits = 0; bits < 0x10000; bits++) {
            if ((bits & 0x7C00) == 0x7C00) {
                continue;
            }
            assertThat(Float16.fromFloat(Float16.toFloat((short) bits))).isEqualTo((short) bits);
        }
    }
}
