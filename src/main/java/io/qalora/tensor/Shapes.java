package io.qalora.tensor;

/** Shape arithmetic shared by {@link Tensor} and {@link TensorInfo}. */
final class Shapes {

    private Shapes() {
    }

    /** Element count; a scalar (empty shape) has one element. */
    static long numel(String tensorName, int[] shape) {
        long numel = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new SafetensorsException(SafetensorsRule.NEGATIVE_DIM, tensorName,
                        "shape " + format(shape) + " has negative dimension " + d);
            }
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException e) {
                throw overflow(tensorName, shape, null);
            }
        }
        return numel;
    }

    /** Bytes needed by {@code shape} of {@code dtype}, overflow-checked. */
    static long byteLength(String tensorName, DType dtype, int[] shape) {
        try {
            return Math.multiplyExact(numel(tensorName, shape), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw overflow(tensorName, shape, dtype);
        }
    }

    private static SafetensorsException overflow(String tensorName, int[] shape, DType dtype) {
        String what = dtype == null ? "element count" : "byte size as " + dtype;
        return new SafetensorsException(SafetensorsRule.SIZE_OVERFLOW, tensorName,
                "the " + what + " of shape " + format(shape) + " overflows a 64-bit integer");
    }

    /** {@code [2,3]}: compact, like the header JSON. */
    static String format(int[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }
}
