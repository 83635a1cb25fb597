package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Checks that a floating tensor holds no NaN or infinity while its bytes stream past, in order and
 * in pieces of any length (an element may straddle two pieces), so an upload is refused before it
 * is stored, rather than when a job first reads it. Only the exponent bits are looked at: all ones
 * means NaN or infinity in every IEEE format here. An F64 value must also fit float32, the engine's
 * type, which would make it infinite.
 */
public final class FiniteValues {

    private static final VarHandle LONG_LE = littleEndian(long[].class);
    private static final VarHandle INT_LE = littleEndian(int[].class);
    private static final VarHandle SHORT_LE = littleEndian(short[].class);

    private final TensorInfo tensor;
    private final int size;
    private final long exponent;
    private final byte[] carry;
    private int carried;
    private long checked;

    public FiniteValues(TensorInfo tensor) {
        if (!tensor.dtype().isFloating()) {
            throw new IllegalArgumentException(tensor.name() + " is " + tensor.dtype() + ", not floating point");
        }
        this.tensor = tensor;
        this.size = tensor.dtype().byteSize();
        this.exponent = switch (tensor.dtype()) {
            case F64 -> 0x7FF0_0000_0000_0000L;
            case F32 -> 0x7F80_0000L;
            case F16 -> 0x7C00L;
            case BF16 -> 0x7F80L;
            default -> throw new IllegalStateException(tensor.dtype().toString());
        };
        this.carry = new byte[size];
    }

    /**
     * Checks the next {@code length} bytes of the tensor's data.
     *
     * @throws InvalidParameterException naming the tensor, the first value that is not finite and its index
     */
    public void check(byte[] bytes, int offset, int length) {
        int end = offset + length;
        int at = offset;
        if (carried > 0) {
            int take = Math.min(size - carried, length);
            System.arraycopy(bytes, at, carry, carried, take);
            carried += take;
            at += take;
            if (carried < size) {
                return;
            }
            checkWhole(carry, 0, 1);
            carried = 0;
        }
        int whole = (end - at) / size;
        checkWhole(bytes, at, whole);
        at += whole * size;
        carried = end - at;
        System.arraycopy(bytes, at, carry, 0, carried);
    }

    private void checkWhole(byte[] bytes, int offset, int count) {
        switch (size) {
            case 4 -> {
                int mask = (int) exponent;
                for (int i = 0; i < count; i++) {
                    if (((int) INT_LE.get(bytes, offset + 4 * i) & mask) == mask) {
                        fail(bytes, offset, i);
                    }
                }
            }
            case 2 -> {
                for (int i = 0; i < count; i++) {
                    if (((short) SHORT_LE.get(bytes, offset + 2 * i) & exponent) == exponent) {
                        fail(bytes, offset, i);
                    }
                }
            }
            default -> {
                for (int i = 0; i < count; i++) {
                    long bits = (long) LONG_LE.get(bytes, offset + 8 * i);
                    if ((bits & exponent) == exponent || Float.isInfinite((float) Double.longBitsToDouble(bits))) {
                        fail(bytes, offset, i);
                    }
                }
            }
        }
        checked += count;
    }

    private void fail(byte[] bytes, int offset, int i) {
        int at = offset + size * i;
        double value = switch (tensor.dtype()) {
            case F64 -> Double.longBitsToDouble((long) LONG_LE.get(bytes, at));
            case F32 -> Float.intBitsToFloat((int) INT_LE.get(bytes, at));
            case F16 -> Float16.toFloat((short) SHORT_LE.get(bytes, at));
            default -> Float16.bfloat16ToFloat((short) SHORT_LE.get(bytes, at));
        };
        long index = checked + i;
        int[] shape = tensor.shape();
        String where = shape.length == 2
                ? " (row " + index / shape[1] + ", column " + index % shape[1] + ")" : "";
        String problem = Double.isFinite(value) ? ", beyond float32's range; all values must fit float32"
                : "; all values must be finite";
        throw new InvalidParameterException(tensor.name(),
                "value at index " + index + where + " is " + value + problem);
    }

    private static VarHandle littleEndian(Class<?> arrayType) {
        return MethodHandles.byteArrayViewVarHandle(arrayType, ByteOrder.LITTLE_ENDIAN);
    }

    /** How many values were checked so far. */
    public long checked() {
        return checked;
    }
}
