package io.qalora.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class FiniteValuesTests {

    private static final int ROWS = 7;
    private static final int COLS = 9;

    /** A [7, 9] tensor of finite extremes (signed zeros, subnormals, the largest values), with {@code bad} at {@code at}. */
    private static Tensor tensor(DType dtype, int at, double bad) {
        double[] values = new double[ROWS * COLS];
        double largest = switch (dtype) {
            case F64 -> Float.MAX_VALUE;
            case F32 -> Float.MAX_VALUE;
            case F16 -> 65504;
            default -> 3.3895313892515355e38;
        };
        double[] extremes = {0.0, -0.0, Double.MIN_VALUE, Float.MIN_VALUE, 6e-8, 1.0, -largest, largest};
        for (int i = 0; i < values.length; i++) {
            values[i] = extremes[i % extremes.length];
        }
        if (at >= 0) {
            values[at] = bad;
        }
        return switch (dtype) {
            case F64 -> Tensor.f64("w", new int[] {ROWS, COLS}, values);
            case F32 -> Tensor.f32("w", new int[] {ROWS, COLS}, floats(values));
            case F16 -> Tensor.f16("w", new int[] {ROWS, COLS}, floats(values));
            default -> bf16(values);
        };
    }

    private static float[] floats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    private static Tensor bf16(double[] values) {
        byte[] bytes = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits((float) values[i]) >>> 16;
            bytes[2 * i] = (byte) bits;
            bytes[2 * i + 1] = (byte) (bits >>> 8);
        }
        return new Tensor("w", DType.BF16, new int[] {ROWS, COLS}, bytes);
    }

    /** Feeds the tensor's bytes in pieces of the given lengths, in turn; returns the values checked. */
    private static long feed(Tensor t, int... pieces) {
        byte[] data = t.data();
        FiniteValues check = new FiniteValues(new TensorInfo(t.name(), t.dtype(), t.shape(), 0, data.length));
        int at = 0;
        for (int p = 0; at < data.length; p++) {
            int n = Math.min(pieces[p % pieces.length], data.length - at);
            byte[] piece = new byte[n + 6];
            System.arraycopy(data, at, piece, 3, n);
            check.check(piece, 3, n);
            at += n;
        }
        return check.checked();
    }

    @ParameterizedTest
    @EnumSource(names = {"F64", "F32", "F16", "BF16"})
    void finiteExtremesPassInPiecesOfEveryLength(DType dtype) {
        Tensor t = tensor(dtype, -1, 0);
        for (int piece = 1; piece <= 17; piece++) {
            assertThat(feed(t, piece)).as("pieces of %d bytes", piece).isEqualTo(ROWS * COLS);
        }
        assertThat(feed(t, 1, 3, 8, 2, 5, 64)).isEqualTo(ROWS * COLS);
    }

    @Test
    void anF64ValueBeyondFloat32IsNamedAndTheLargestThatFitsPasses() {
        assertThatThrownBy(() -> feed(tensor(DType.F64, 10, -1e39), 5))
                .isInstanceOf(InvalidParameterException.class)
                .hasMessage("w: value at index 10 (row 1, column 1) is -1.0E39, beyond float32's range; "
                        + "all values must fit float32");
        assertThat(feed(tensor(DType.F64, 10, Float.MAX_VALUE), 5)).isEqualTo(ROWS * COLS);
    }

    @ParameterizedTest
    @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
    void theFirstNonFiniteValueIsNamedInEveryTypeAndSplit(double bad) {
        SplittableRandom random = new SplittableRandom(5);
        for (DType dtype : List.of(DType.F64, DType.F32, DType.F16, DType.BF16)) {
            for (int trial = 0; trial < 20; trial++) {
                int at = random.nextInt(ROWS * COLS);
                int[] pieces = {1 + random.nextInt(11), 1 + random.nextInt(3), 1 + random.nextInt(40)};
                assertThatThrownBy(() -> feed(tensor(dtype, at, bad), pieces))
                        .as("%s at %d in pieces %s", dtype, at, Arrays.toString(pieces))
                        .isInstanceOf(InvalidParameterException.class)
                        .hasMessage("w: value at index %d (row %d, column %d) is %s; all values must be finite",
                                at, at / COLS, at % COLS, bad);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"I64", "I32", "U8", "BOOL"})
    void integerTensorsCannotBeChecked(DType dtype) {
        assertThatThrownBy(() -> new FiniteValues(new TensorInfo("labels", dtype, new int[] {1}, 0, dtype.byteSize())))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(dtype.isFloating()).isFalse();
    }
}
