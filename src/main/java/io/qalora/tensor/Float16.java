package io.qalora.tensor;

/**
 * Conversions between {@code float} and the 16-bit formats IEEE binary16 (F16) and bfloat16
 * (BF16), whose bits travel as {@code short}. Java 17 has no {@code Float.float16ToFloat}.
 */
public final class Float16 {

    private Float16() {
    }

    /** Decodes IEEE half bits exactly, including subnormals, infinities and NaN. */
    public static float toFloat(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            // Subnormal (or zero): mant * 2^-24, exactly representable as a float.
            float magnitude = mant * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exp + (127 - 15)) << 23) | (mant << 13));
    }

    /**
     * Encodes a float as IEEE half, rounding to nearest with ties to even; values beyond the half
     * range become infinity and NaN stays NaN.
     */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            // Keep NaN a NaN even when its payload lives only in the low bits.
            int nan = mant == 0 ? 0 : 0x200 | (mant >>> 13);
            return (short) (sign | 0x7c00 | nan);
        }
        int halfExp = exp - 127 + 15;
        if (halfExp >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (halfExp <= 0) {
            if (halfExp < -10) {
                return (short) sign; // below half the smallest subnormal: rounds to zero
            }
            return (short) (sign | roundShift(mant | 0x800000, 14 - halfExp));
        }
        // A rounding carry out of the mantissa correctly bumps the exponent, up to infinity.
        return (short) (sign | ((halfExp << 10) + roundShift(mant, 13)));
    }

    /** Decodes bfloat16 bits, which are the upper half of a float. */
    public static float bfloat16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }

    private static int roundShift(int value, int shift) {
        int kept = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (kept & 1) == 1)) {
            kept++;
        }
        return kept;
    }
}
