package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A dense (linear) layer {@code y = W x + b} in float32.
 *
 * <p>The arrays are taken over and returned without copying, because weights can be large;
 * callers must not modify them afterwards. Use {@link #copy()} for an independent instance.
 *
 * @param outFeatures rows of the weight, at least 1
 * @param inFeatures columns of the weight, at least 1
 * @param weight row-major {@code [outFeatures, inFeatures]}, all finite
 * @param bias {@code [outFeatures]}, all finite, or {@code null} for no bias
 */
public record DenseLayer(int outFeatures, int inFeatures, float[] weight, float[] bias) {

    /** Name of the weight tensor in safetensors form. */
    public static final String WEIGHT = "weight";

    /** Name of the optional bias tensor in safetensors form. */
    public static final String BIAS = "bias";

    /** @throws InvalidParameterException naming the offending component */
    public DenseLayer {
        InvalidParameterException.require(outFeatures >= 1, "outFeatures", "must be >= 1, got " + outFeatures);
        InvalidParameterException.require(inFeatures >= 1, "inFeatures", "must be >= 1, got " + inFeatures);
        InvalidParameterException.require(weight != null, "weight", "must not be null");
        long size = (long) outFeatures * inFeatures;
        InvalidParameterException.require(weight.length == size, "weight",
                "has " + weight.length + " values but [" + outFeatures + "," + inFeatures + "] needs " + size);
        requireFinite(weight, "weight", inFeatures);
        if (bias != null) {
            InvalidParameterException.require(bias.length == outFeatures, "bias",
                    "has " + bias.length + " values but outFeatures is " + outFeatures);
            requireFinite(bias, "bias", 0);
        }
    }

    /** True when the layer has a bias. */
    public boolean hasBias() {
        return bias != null;
    }

    /** The weight at row {@code o}, column {@code i}. */
    public float weight(int o, int i) {
        Objects.checkIndex(o, outFeatures);
        Objects.checkIndex(i, inFeatures);
        return weight[o * inFeatures + i];
    }

    /** The same layer with another weight of the same shape (the bias is copied). */
    public DenseLayer withWeight(float[] newWeight) {
        return new DenseLayer(outFeatures, inFeatures, newWeight, bias == null ? null : bias.clone());
    }

    /** A deep copy that shares no arrays with this layer. */
    public DenseLayer copy() {
        return new DenseLayer(outFeatures, inFeatures, weight.clone(), bias == null ? null : bias.clone());
    }

    /**
     * Builds a layer from tensor {@code weight} {@code [out, in]} and optional {@code bias}
     * {@code [out]}, both of any floating dtype (converted to float32). Other tensors are ignored.
     *
     * @throws SafetensorsException {@code MISSING_TENSOR}, {@code WRONG_DTYPE} or {@code WRONG_SHAPE}
     * @throws InvalidParameterException if a value is not finite
     */
    public static DenseLayer fromSafetensors(SafetensorsFile file) {
        InvalidParameterException.require(file != null, "file", "must not be null");
        Tensor w = requireFloating(file.require(WEIGHT));
        if (w.rank() != 2 || w.dim(0) < 1 || w.dim(1) < 1) {
            throw new SafetensorsException(SafetensorsRule.WRONG_SHAPE, WEIGHT, "has shape "
                    + Shapes.format(w.shape()) + " but must be [outFeatures, inFeatures] with both at least 1");
        }
        int out = w.dim(0);
        float[] bias = null;
        Tensor b = file.find(BIAS).orElse(null);
        if (b != null) {
            requireFloating(b);
            if (b.rank() != 1 || b.dim(0) != out) {
                throw new SafetensorsException(SafetensorsRule.WRONG_SHAPE, BIAS, "has shape "
                        + Shapes.format(b.shape()) + " but the weight needs [" + out + "]");
            }
            bias = b.toFloatArray();
        }
        return new DenseLayer(out, w.dim(1), w.toFloatArray(), bias);
    }

    /** F32 tensors {@code weight} and, when present, {@code bias}. */
    public List<Tensor> toTensors() {
        List<Tensor> tensors = new ArrayList<>(2);
        tensors.add(Tensor.f32(WEIGHT, new int[] {outFeatures, inFeatures}, weight));
        if (bias != null) {
            tensors.add(Tensor.f32(BIAS, new int[] {outFeatures}, bias));
        }
        return tensors;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DenseLayer d
                && outFeatures == d.outFeatures
                && inFeatures == d.inFeatures
                && Arrays.equals(weight, d.weight)
                && Arrays.equals(bias, d.bias);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * outFeatures + inFeatures) + Arrays.hashCode(weight)) + Arrays.hashCode(bias);
    }

    /** Shape and whether there is a bias; never the values. */
    @Override
    public String toString() {
        return "DenseLayer[outFeatures=" + outFeatures + ", inFeatures=" + inFeatures + ", bias=" + hasBias() + "]";
    }

    private static Tensor requireFloating(Tensor t) {
        if (!t.dtype().isFloating()) {
            throw new SafetensorsException(SafetensorsRule.WRONG_DTYPE, t.name(),
                    "has dtype " + t.dtype() + " but must be floating point (F32, F16, BF16 or F64)");
        }
        return t;
    }

    private static void requireFinite(float[] values, String parameter, int columns) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                String at = columns == 0 ? "" : " (row " + i / columns + ", column " + i % columns + ")";
                throw new InvalidParameterException(parameter, "value at index " + i + at + " is " + values[i]
                        + "; all values must be finite");
            }
        }
    }
}
