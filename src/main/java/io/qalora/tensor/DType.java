package io.qalora.tensor;

/** Element type of a tensor, named exactly as in the safetensors header ({@code "F32"}, ...). */
public enum DType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloating() {
        return floating;
    }

    /** The name used in the header, e.g. {@code "BF16"}. */
    public String headerName() {
        return name();
    }

    /**
     * Parses a header dtype string (case-sensitive, as the reference implementation is).
     *
     * @throws SafetensorsException with rule {@link SafetensorsRule#UNKNOWN_DTYPE}
     */
    public static DType parse(String dtype) {
        return parse(dtype, null);
    }

    static DType parse(String dtype, String tensorName) {
        for (DType t : values()) {
            if (t.name().equals(dtype)) {
                return t;
            }
        }
        throw new SafetensorsException(SafetensorsRule.UNKNOWN_DTYPE, tensorName,
                "dtype '" + dtype + "' is not one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL");
    }
}
