/**
 * Group-wise low-bit quantization exactly as {@code shared/spec/QUANTIZATION.md} fixes it: the
 * GPTQ min-max quantizer on groups of consecutive elements along each row, in IEEE float32 with
 * round-half-to-even, plus fake quantization, error statistics and bit packing of the codes; and
 * GPTQ (Frantar et al., 2022), which quantizes the same groups column by column and pushes each
 * rounding error through the inverse Hessian of calibration inputs.
 * Plain Java over {@code float[]}; it depends on nothing but {@code io.qalora} and never on Spring.
 */
package io.qalora.quant;
