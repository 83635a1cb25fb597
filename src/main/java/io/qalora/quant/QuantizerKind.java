package io.qalora.quant;

/** How a merged weight is turned into integer codes. */
public enum QuantizerKind {
    /**
     * Round to nearest: every group fitted and rounded on its own values ({@link GroupQuantizer}),
     * the spec's deployment quantizer.
     */
    RTN,
    /**
     * GPTQ (Frantar et al., 2022): the same group quantizer, column by column, with each column's
     * rounding error pushed onto the columns not yet quantized through the inverse Hessian of
     * calibration inputs ({@link GptqQuantizer}).
     */
    GPTQ;

    /** Whether this quantizer needs calibration inputs. */
    public boolean needsCalibration() {
        return this == GPTQ;
    }
}
