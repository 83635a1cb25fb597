package io.qalora.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DenseLayerTests {

    private static final DenseLayer LAYER =
            new DenseLayer(2, 3, new float[] {1, 2, 3, 4, 5, 6}, new float[] {0.5f, -0.5f});

    private static SafetensorsFile file(Tensor... tensors) {
        return SafetensorsReader.read(SafetensorsWriter.toBytes(Map.of(), List.of(tensors)));
    }

    @Test
    void roundTripsThroughSafetensors() {
        DenseLayer read = DenseLayer.fromSafetensors(file(LAYER.toTensors().toArray(Tensor[]::new)));

        assertThat(read).isEqualTo(LAYER).hasSameHashCodeAs(LAYER);
        assertThat(read.weight(1, 0)).isEqualTo(4f);
        assertThat(LAYER.toTensors()).extracting(Tensor::name).containsExactly("weight", "bias");
    }

    @Test
    void readsALayerWithoutBiasAndIgnoresOtherTensors() {
        DenseLayer read = DenseLayer.fromSafetensors(file(
                Tensor.f32("weight", new int[] {1, 2}, new float[] {1, 2}),
                Tensor.i32("step", new int[] {1}, new int[] {100})));

        assertThat(read.hasBias()).isFalse();
        assertThat(read.toTensors()).hasSize(1);
    }

    @Test
    void convertsF64AndBf16Weights() {
        DenseLayer fromF64 = DenseLayer.fromSafetensors(file(
                Tensor.f64("weight", new int[] {1, 2}, new double[] {0.25, -1.5}),
                Tensor.f64("bias", new int[] {1}, new double[] {2.0})));
        byte[] bf16 = {(byte) 0x80, 0x3F, (byte) 0xA0, (byte) 0xC0}; // 1.0, -5.0
        DenseLayer fromBf16 = DenseLayer.fromSafetensors(file(new Tensor("weight", DType.BF16, new int[] {2, 1}, bf16)));

        assertThat(fromF64.weight()).containsExactly(0.25f, -1.5f);
        assertThat(fromF64.bias()).containsExactly(2.0f);
        assertThat(fromBf16.weight()).containsExactly(1.0f, -5.0f);
        assertThat(fromBf16.outFeatures()).isEqualTo(2);
    }

    @Test
    void rejectsAWeightThatIsNotTwoDimensional() {
        assertThatThrownBy(() -> DenseLayer.fromSafetensors(file(Tensor.f32("weight", new int[] {3}, new float[3]))))
                .isInstanceOfSatisfying(SafetensorsException.class, e -> {
                    assertThat(e.rule()).isEqualTo(SafetensorsRule.WRONG_SHAPE);
                    assertThat(e.tensorName()).isEqualTo("weight");
                })
                .hasMessageStartingWith("tensor 'weight': has shape [3]");
    }

    @Test
    void rejectsABiasThatDoesNotMatchTheOutputs() {
        assertThatThrownBy(() -> DenseLayer.fromSafetensors(file(
                        Tensor.f32("weight", new int[] {2, 1}, new float[2]),
                        Tensor.f32("bias", new int[] {3}, new float[3]))))
                .isInstanceOfSatisfying(SafetensorsException.class, e -> {
                    assertThat(e.rule()).isEqualTo(SafetensorsRule.WRONG_SHAPE);
                    assertThat(e.tensorName()).isEqualTo("bias");
                })
                .hasMessageContaining("tensor 'bias'")
                .hasMessageContaining("[2]");
    }

    @Test
    void rejectsAnIntegerWeight() {
        assertThatThrownBy(() -> DenseLayer.fromSafetensors(file(Tensor.i32("weight", new int[] {1, 1}, new int[1]))))
                .isInstanceOfSatisfying(SafetensorsException.class, e -> {
                    assertThat(e.rule()).isEqualTo(SafetensorsRule.WRONG_DTYPE);
                    assertThat(e.tensorName()).isEqualTo("weight");
                });
    }

    @Test
    void rejectsAFileWithoutWeight() {
        assertThatThrownBy(() -> DenseLayer.fromSafetensors(file()))
                .isInstanceOfSatisfying(SafetensorsException.class,
                        e -> assertThat(e.rule()).isEqualTo(SafetensorsRule.MISSING_TENSOR));
    }

    @Test
    void rejectsInvalidDimensionsAndLengths() {
        assertThatThrownBy(() -> new DenseLayer(0, 1, new float[0], null))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("outFeatures"));
        assertThatThrownBy(() -> new DenseLayer(1, 0, new float[0], null))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("inFeatures"));
        assertThatThrownBy(() -> new DenseLayer(2, 2, new float[3], null))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("weight"));
        assertThatThrownBy(() -> new DenseLayer(2, 2, new float[4], new float[1]))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("bias"));
    }

    @Test
    void rejectsNonFiniteValuesNamingTheFirstIndex() {
        assertThatThrownBy(() -> new DenseLayer(2, 2, new float[] {0, 0, Float.NaN, Float.POSITIVE_INFINITY}, null))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("weight"))
                .hasMessageContaining("index 2 (row 1, column 0) is NaN");
        assertThatThrownBy(() -> new DenseLayer(1, 1, new float[1], new float[] {Float.NEGATIVE_INFINITY}))
                .isInstanceOfSatisfying(InvalidParameterException.class,
                        e -> assertThat(e.parameter()).isEqualTo("bias"))
                .hasMessageContaining("index 0");
    }

    @Test
    void copiesDeeplyAndReplacesWeights() {
        DenseLayer copy = LAYER.copy();
        copy.weight()[0] = 42f;
        DenseLayer replaced = LAYER.withWeight(new float[6]);

        assertThat(LAYER.weight(0, 0)).isEqualTo(1f);
        assertThat(copy.bias()).isNotSameAs(LAYER.bias());
        assertThat(replaced.weight()).containsOnly(0f);
        assertThat(replaced.bias()).containsExactly(0.5f, -0.5f);
        assertThat(LAYER).hasToString("DenseLayer[outFeatures=2, inFeatures=3, bias=true]");
    }
}
