package io.qalora.tensor;

/** The safetensors format rule a {@link SafetensorsException} reports as violated. */
public enum SafetensorsRule {
    /** The stream ended before the length prefix, the header or the data buffer was complete. */
    TRUNCATED,
    /** The header length prefix is zero. */
    HEADER_EMPTY,
    /** The header length prefix exceeds {@link SafetensorsHeader#MAX_HEADER_LENGTH}. */
    HEADER_TOO_LARGE,
    /** The header bytes are not valid UTF-8. */
    HEADER_NOT_UTF8,
    /** The header does not start with '{' or is not a JSON object. */
    HEADER_NOT_OBJECT,
    /** The header is not well-formed JSON (including trailing content after the object). */
    HEADER_NOT_JSON,
    /** Two tensors share a name. */
    DUPLICATE_NAME,
    /** A tensor is named {@code __metadata__}. */
    RESERVED_NAME,
    /** A tensor entry is not an object with exactly {@code dtype}, {@code shape} and {@code data_offsets}. */
    BAD_ENTRY,
    /** {@code __metadata__} is not a flat object of string values. */
    BAD_METADATA,
    /** The dtype string is not a supported {@link DType}. */
    UNKNOWN_DTYPE,
    /** A shape dimension is negative. */
    NEGATIVE_DIM,
    /** A shape dimension does not fit in a Java int. */
    DIM_TOO_LARGE,
    /** The element count or byte size of a tensor overflows 64 bits. */
    SIZE_OVERFLOW,
    /** {@code data_offsets} is not a pair of non-negative integers with begin &lt;= end. */
    INVALID_OFFSETS,
    /** The byte span of a tensor differs from element count times dtype size. */
    LENGTH_MISMATCH,
    /** Sorted by offset, the tensors do not tile the data buffer from 0 without gaps or overlaps. */
    OFFSETS_NOT_CONTIGUOUS,
    /** There are bytes after the end of the data buffer the header describes. */
    FILE_LENGTH_MISMATCH,
    /** A tensor (or a file built in memory) is too large for one Java byte array. */
    TENSOR_TOO_LARGE,
    /** A required tensor is absent. */
    MISSING_TENSOR,
    /** A tensor has a dtype the caller cannot use. */
    WRONG_DTYPE,
    /** A tensor has a shape the caller cannot use. */
    WRONG_SHAPE
}
