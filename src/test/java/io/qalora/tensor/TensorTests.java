package io.qalora.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import org.junit.jupiter.api.Test;

class TensorTests {

    @Test
    void storesF32AsLittleEndianBytes() {
        Tensor t = Tensor.f32("w", new int[] {2}, new float[] {1.0f, -2.0f});

        assertThat(t.data()).containsExactly(0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0);
        assertThat(t.numel()).isEqualTo(2);
        assertThat(t.toFloatArray()).containsExactly(1.0f, -2.0f);
    }

    @Test
    void convertsF64F16AndBf16ToFloat() {
        assertThat(Tensor.f64("d", new int[] {2}, new double[] {0.1, -3.5}).toFloatArray())
                .containsExactly(0.1f, -3.5f);
        assertThat(Tensor.f16("h", new int[] {3}, new float[] {1.0f, -2.0f, 65504f}).toFloatArray())
                .containsExactly(1.0f, -2.0f, 65504f);
        byte[] bf16 = {(byte) 0x80, 0x3F, (byte) 0xA0, (byte) 0xC0};
        assertThat(new Tensor("b", DType.BF16, new int[] {2}, bf16).toFloatArray()).containsExactly(1.0f, -5.0f);
    }

    @Test
    void storesF16AsRoundedHalfBits() {
        Tensor t = Tensor.f16("h", new int[] {2}, new float[] {1.0f + 0x1p-11f, 65520f});

        assertThat(t.data()).containsExactly(0x00, 0x3C, 0x00, 0x7C);
    }

    @Test
    void convertsIntegerDtypesToLongsAndFloats() {
        assertThat(Tensor.i64("a", new int[] {2}, new long[] {Long.MIN_VALUE, 7}).toLongArray())
                .containsExactly(Long.MIN_VALUE, 7);
        assertThat(Tensor.i32("b", new int[] {3}, new int[] {-1, 0, Integer.MAX_VALUE}).toLongArray())
                .containsExactly(-1, 0, Integer.MAX_VALUE);
        assertThat(Tensor.i16("c", new int[] {2}, new short[] {-32768, 12}).toLongArray()).containsExactly(-32768, 12);
        assertThat(Tensor.i8("d", new int[] {2}, new byte[] {-128, 127}).toLongArray()).containsExactly(-128, 127);
        assertThat(Tensor.u8("e", new int[] {2}, new byte[] {(byte) 255, 1}).toLongArray()).containsExactly(255, 1);
        assertThat(new Tensor("f", DType.BOOL, new int[] {3}, new byte[] {0, 1, 2}).toLongArray())
                .containsExactly(0, 1, 1);
        assertThat(Tensor.u8("g", new int[] {2}, new byte[] {(byte) 200, 3}).toFloatArray()).containsExactly(200f, 3f);
        assertThat(Tensor.i16("h", new int[] {1}, new short[] {-7}).toFloatArray()).containsExactly(-7f);
    }

    @Test
    void treatsAnEmptyShapeAsAScalarAndAZeroDimAsEmpty() {
        assertThat(Tensor.f32("s", new int[0], new float[] {3f}).numel()).isEqualTo(1);
        assertThat(Tensor.f32("z", new int[] {4, 0}, new float[0]).numel()).isZero();
    }

    @Test
    void refusesLongsFromAFloatingTensorNamingIt() {
        Tensor t = Tensor.f32("scales", new int[] {1}, new float[] {1f});

        assertThatThrownBy(t::toLongArray)
                .isInstanceOfSatisfying(SafetensorsException.class, e -> {
                    assertThat(e.rule()).isEqualTo(SafetensorsRule.WRONG_DTYPE);
                    assertThat(e.tensorName()).isEqualTo("scales");
                })
                .hasMessageContaining("tensor 'scales'");
    }

    @Test
    void rejectsDataWhoseLengthDoesNotMatchTheShape() {
        assertThatThrownBy(() -> Tensor.f32("w", new int[] {2, 3}, new float[5]))
                .isInstanceOfSatisfying(SafetensorsException.class,
                        e -> assertThat(e.rule()).isEqualTo(SafetensorsRule.LENGTH_MISMATCH))
                .hasMessage("tensor 'w': has 20 data bytes but shape [2,3] of F32 needs 24 (rule LENGTH_MISMATCH)");
    }

    @Test
    void rejectsANegativeDimension() {
        assertThatThrownBy(() -> new Tensor("w", DType.U8, new int[] {-1}, new byte[0]))
                .isInstanceOfSatisfying(SafetensorsException.class,
                        e -> assertThat(e.rule()).isEqualTo(SafetensorsRule.NEGATIVE_DIM))
                .hasMessageContaining("tensor 'w'");
    }

    @Test
    void rejectsANullName() {
        assertThatThrownBy(() -> Tensor.f32(null, new int[] {1}, new float[1]))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("name"));
    }

    @Test
    void comparesByContentAndCopiesTheShape() {
        int[] shape = {2};
        Tensor a = Tensor.f32("w", shape, new float[] {1f, 2f});
        shape[0] = 99;
        Tensor b = Tensor.f32("w", new int[] {2}, new float[] {1f, 2f});

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(Tensor.f32("w", new int[] {2}, new float[] {1f, 3f}));
        a.shape()[0] = 5;
        assertThat(a.shape()).containsExactly(2);
        assertThat(a).hasToString("Tensor[name=w, dtype=F32, shape=[2], bytes=8]");
    }

    @Test
    void parsesDtypesByHeaderName() {
        assertThat(DType.parse("BF16")).isEqualTo(DType.BF16);
        assertThat(DType.F64.byteSize()).isEqualTo(8);
        assertThat(DType.BOOL.isFloating()).isFalse();
        assertThat(DType.F16.isFloating()).isTrue();
        assertThatThrownBy(() -> DType.parse("f32"))
                .isInstanceOfSatisfying(SafetensorsException.class,
                        e -> assertThat(e.rule()).isEqualTo(SafetensorsRule.UNKNOWN_DTYPE));
    }
}
