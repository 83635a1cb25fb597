package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named tensor holding its elements as raw little-endian bytes, exactly as stored in a
 * safetensors data buffer.
 *
 * <p>The shape is copied defensively. The data array is taken over without copying, and
 * {@link #data()} returns it as is, because tensors can be hundreds of megabytes; callers must not
 * modify it afterwards.
 *
 * @param name tensor name
 * @param dtype element type
 * @param shape dimensions, outermost first; empty for a scalar
 * @param data {@code numel() * dtype.byteSize()} little-endian bytes
 */
public record Tensor(String name, DType dtype, int[] shape, byte[] data) {

    /**
     * @throws InvalidParameterException if an argument is null
     * @throws SafetensorsException {@code NEGATIVE_DIM}, {@code SIZE_OVERFLOW} or
     *     {@code LENGTH_MISMATCH} when shape and data disagree
     */
    public Tensor {
        InvalidParameterException.require(name != null, "name", "must not be null");
        InvalidParameterException.require(dtype != null, "dtype", "must not be null");
        InvalidParameterException.require(shape != null, "shape", "must not be null");
        InvalidParameterException.require(data != null, "data", "must not be null");
        shape = shape.clone();
        long expected = Shapes.byteLength(name, dtype, shape);
        if (data.length != expected) {
            throw new SafetensorsException(SafetensorsRule.LENGTH_MISMATCH, name, "has " + data.length
                    + " data bytes but shape " + Shapes.format(shape) + " of " + dtype + " needs " + expected);
        }
    }

    /** A copy of the shape. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public int dim(int i) {
        return shape[Objects.checkIndex(i, shape.length)];
    }

    /** Number of elements (1 for a scalar). */
    public long numel() {
        return Shapes.numel(name, shape);
    }

    /** F32 tensor from float values. */
    public static Tensor f32(String name, int[] shape, float[] values) {
        ByteBuffer buf = allocate(values, values == null ? 0 : values.length, 4);
        buf.asFloatBuffer().put(values);
        return new Tensor(name, DType.F32, shape, buf.array());
    }

    /** F64 tensor from double values. */
    public static Tensor f64(String name, int[] shape, double[] values) {
        ByteBuffer buf = allocate(values, values == null ? 0 : values.length, 8);
        buf.asDoubleBuffer().put(values);
        return new Tensor(name, DType.F64, shape, buf.array());
    }

    /** F16 tensor from float values, rounded to nearest-even half precision. */
    public static Tensor f16(String name, int[] shape, float[] values) {
        ByteBuffer buf = allocate(values, values == null ? 0 : values.length, 2);
        for (float v : values) {
            buf.putShort(Float16.fromFloat(v));
        }
        return new Tensor(name, DType.F16, shape, buf.array());
    }

    /** I64 tensor. */
    public static Tensor i64(String name, int[] shape, long[] values) {
        ByteBuffer buf = allocate(values, values == null ? 0 : values.length, 8);
        buf.asLongBuffer().put(values);
        return new Tensor(name, DType.I64, shape, buf.array());
    }

    /** I32 tensor. */
    public static Tensor i32(String name, int[] shape, int[] values) {
        ByteBuffer buf = allocate(values, values == null ? 0 : values.length, 4);
        buf.asIntBuffer().put(values);
        return new Tensor(name, DType.I32, shape, buf.array());
    }

    /** I16 tensor. */
    public static Tensor i16(String name, int[] shape, short[] values) {
        ByteBuffer buf = allocate(values, values == null ? 0 : values.length, 2);
        buf.asShortBuffer().put(values);
        return new Tensor(name, DType.I16, shape, buf.array());
    }

    /** I8 tensor (the bytes are copied). */
    public static Tensor i8(String name, int[] shape, byte[] values) {
        return new Tensor(name, DType.I8, shape, copy(values));
    }

    /** U8 tensor; each byte is read as unsigned 0..255 (the bytes are copied). */
    public static Tensor u8(String name, int[] shape, byte[] values) {
        return new Tensor(name, DType.U8, shape, copy(values));
    }

    /**
     * Elements converted to float32: floating types by value (F64 rounded), integer types by
     * numeric value (I64 and large I32 may round), BOOL as 0 or 1.
     */
    public float[] toFloatArray() {
        int n = data.length / dtype.byteSize();
        float[] out = new float[n];
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> buf.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) buf.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float16.toFloat(buf.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float16.bfloat16ToFloat(buf.getShort(i * 2));
                }
            }
            default -> {
                long[] longs = toLongArray();
                for (int i = 0; i < n; i++) {
                    out[i] = longs[i];
                }
            }
        }
        return out;
    }

    /**
     * Elements of an integer tensor as longs: U8 as 0..255, BOOL as 0 or 1.
     *
     * @throws SafetensorsException {@code WRONG_DTYPE} for floating dtypes
     */
    public long[] toLongArray() {
        if (dtype.isFloating()) {
            throw new SafetensorsException(SafetensorsRule.WRONG_DTYPE, name,
                    "dtype " + dtype + " is floating point; toLongArray needs an integer dtype");
        }
        int n = data.length / dtype.byteSize();
        long[] out = new long[n];
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case I64 -> buf.getLong(i * 8);
                case I32 -> buf.getInt(i * 4);
                case I16 -> buf.getShort(i * 2);
                case I8 -> data[i];
                case U8 -> data[i] & 0xff;
                case BOOL -> data[i] != 0 ? 1 : 0;
                default -> throw new IllegalStateException("unreachable: " + dtype);
            };
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape))
                + Arrays.hashCode(data);
    }

    /** Name, dtype, shape and byte count; never the data. */
    @Override
    public String toString() {
        return "Tensor[name=" + name + ", dtype=" + dtype + ", shape=" + Shapes.format(shape)
                + ", bytes=" + data.length + "]";
    }

    private static ByteBuffer allocate(Object values, int length, int byteSize) {
        InvalidParameterException.require(values != null, "values", "must not be null");
        return ByteBuffer.allocate(Math.multiplyExact(length, byteSize)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] copy(byte[] values) {
        InvalidParameterException.require(values != null, "values", "must not be null");
        return values.clone();
    }
}
