package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.util.Arrays;

/**
 * One tensor entry of a safetensors header. Construction checks the entry on its own: dims are
 * non-negative, sizes do not overflow, and {@code end - begin} is exactly the tensor's byte size.
 *
 * @param name tensor name
 * @param dtype element type
 * @param shape dimensions (copied)
 * @param begin offset of the first byte, relative to the start of the data buffer
 * @param end offset one past the last byte
 */
public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end) {

    /** Header key reserved for file metadata; never a tensor name. */
    public static final String METADATA_KEY = "__metadata__";

    /**
     * @throws SafetensorsException {@code RESERVED_NAME}, {@code NEGATIVE_DIM}, {@code SIZE_OVERFLOW},
     *     {@code INVALID_OFFSETS} or {@code LENGTH_MISMATCH}
     */
    public TensorInfo {
        InvalidParameterException.require(name != null, "name", "must not be null");
        InvalidParameterException.require(dtype != null, "dtype", "must not be null");
        InvalidParameterException.require(shape != null, "shape", "must not be null");
        if (METADATA_KEY.equals(name)) {
            throw new SafetensorsException(SafetensorsRule.RESERVED_NAME, name,
                    "the name is reserved for file metadata");
        }
        shape = shape.clone();
        if (begin < 0 || end < begin) {
            throw new SafetensorsException(SafetensorsRule.INVALID_OFFSETS, name,
                    "data_offsets " + offsets(begin, end) + " must satisfy 0 <= begin <= end");
        }
        long needed = Shapes.byteLength(name, dtype, shape);
        if (end - begin != needed) {
            throw new SafetensorsException(SafetensorsRule.LENGTH_MISMATCH, name,
                    "data_offsets " + offsets(begin, end) + " span " + (end - begin) + " bytes but shape "
                            + Shapes.format(shape) + " of " + dtype + " needs " + needed);
        }
    }

    /** A copy of the shape. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Bytes the tensor occupies ({@code end - begin}). */
    public long byteLength() {
        return end - begin;
    }

    /** Number of elements. */
    public long numel() {
        return Shapes.numel(name, shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape))
                + Long.hashCode(begin) * 17 + Long.hashCode(end);
    }

    @Override
    public String toString() {
        return "TensorInfo[name=" + name + ", dtype=" + dtype + ", shape=" + Shapes.format(shape)
                + ", data_offsets=" + offsets(begin, end) + "]";
    }

    static String offsets(long begin, long end) {
        return "[" + begin + ", " + end + "]";
    }
}
