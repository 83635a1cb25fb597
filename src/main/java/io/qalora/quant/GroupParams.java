package io.qalora.quant;

/** The scale and zero point of one group, filled by {@link GroupQuantizer#fit}. */
final class GroupParams {
    float scale;
    float zero;
}
