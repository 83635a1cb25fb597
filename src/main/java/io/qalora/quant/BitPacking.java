package io.qalora.quant;

import static io.qalora.InvalidParameterException.require;

/**
 * Packs integer codes of 1, 2, 4 or 8 bits into bytes, low bits first: with 4 bits, code 0 fills
 * the low nibble of byte 0 and code 1 its high nibble, so a 4-bit weight takes half a byte.
 */
public final class BitPacking {

    private BitPacking() {
    }

    /** Whether {@code bits} divides a byte, so codes pack without straddling bytes. */
    public static boolean packable(int bits) {
        return bits == 1 || bits == 2 || bits == 4 || bits == 8;
    }

    /** Packed size in bytes of {@code count} codes. */
    public static int packedLength(int count, int bits) {
        requirePackable(bits);
        int perByte = 8 / bits;
        return (count + perByte - 1) / perByte;
    }

    /** Packs {@code codes}, each below {@code 2^bits}. */
    public static byte[] pack(char[] codes, int bits) {
        requirePackable(bits);
        int perByte = 8 / bits;
        int mask = (1 << bits) - 1;
        byte[] out = new byte[packedLength(codes.length, bits)];
        for (int i = 0; i < codes.length; i++) {
            if (codes[i] > mask) {
                throw new IllegalArgumentException("code " + (int) codes[i] + " at " + i + " needs more than " + bits + " bits");
            }
            out[i / perByte] |= (byte) (codes[i] << ((i % perByte) * bits));
        }
        return out;
    }

    /** Unpacks {@code count} codes from {@code packed}. */
    public static char[] unpack(byte[] packed, int bits, int count) {
        requirePackable(bits);
        int perByte = 8 / bits;
        require(packed.length >= packedLength(count, bits), "packed",
                packed.length + " bytes cannot hold " + count + " codes of " + bits + " bits");
        int mask = (1 << bits) - 1;
        char[] out = new char[count];
        for (int i = 0; i < count; i++) {
            out[i] = (char) ((packed[i / perByte] >>> ((i % perByte) * bits)) & mask);
        }
        return out;
    }

    private static void requirePackable(int bits) {
        require(packable(bits), "bits", "packing supports 1, 2, 4 or 8 bits, was " + bits);
    }
}
