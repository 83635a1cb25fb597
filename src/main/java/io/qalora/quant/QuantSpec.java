package io.qalora.quant;

import static io.qalora.InvalidParameterException.require;

/**
 * How a matrix is quantized: {@code bits} per code, {@code groupSize} consecutive elements along a
 * row share one scale and zero point, and {@code symmetric} centres the range on zero.
 *
 * @param bits 1..16 when asymmetric, 2..16 when symmetric
 * @param groupSize elements per group, at least 1; a row that does not divide evenly ends with a
 *     shorter group
 * @param symmetric whether the zero point is fixed at {@code 2^(bits-1)}
 */
public record QuantSpec(int bits, int groupSize, boolean symmetric) {

    public static final int MAX_BITS = 16;

    public QuantSpec {
        int minBits = symmetric ? 2 : 1;
        require(bits >= minBits && bits <= MAX_BITS, "quantizationBits",
                "must be " + minBits + ".." + MAX_BITS + (symmetric ? " when symmetric" : "") + ", was " + bits);
        require(groupSize >= 1, "groupSize", "must be at least 1, was " + groupSize);
    }

    /** The largest code, {@code 2^bits - 1}. */
    public int maxq() {
        return (1 << bits) - 1;
    }

    /** Groups in one row of {@code cols} elements: {@code ceil(cols / groupSize)}. */
    public int groupsPerRow(int cols) {
        // Not (cols + groupSize - 1) / groupSize, which overflows for group sizes near Integer.MAX_VALUE.
        return cols / groupSize + (cols % groupSize == 0 ? 0 : 1);
    }

    /** Groups in a {@code rows x cols} matrix. */
    public long numGroups(int rows, int cols) {
        return (long) rows * groupsPerRow(cols);
    }

    public QuantSpec withBits(int newBits) {
        return new QuantSpec(newBits, groupSize, symmetric);
    }

    public QuantSpec withGroupSize(int newGroupSize) {
        return new QuantSpec(bits, newGroupSize, symmetric);
    }
}
