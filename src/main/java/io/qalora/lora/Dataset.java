package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.InvalidParameterException;
import java.util.Arrays;

/**
 * Training or evaluation data for a dense layer: {@code inputs [rows, inFeatures]} with either
 * regression {@code targets [rows, outFeatures]} (mean squared error) or integer class
 * {@code labels [rows]} below {@code outFeatures} (softmax cross-entropy).
 */
public record Dataset(int rows, int inFeatures, int outFeatures, float[] inputs, float[] targets, int[] labels) {

    /** What the rows are learned against. */
    public enum Kind { REGRESSION, CLASSIFICATION }

    public Dataset {
        require(rows >= 1, "rows", "must be at least 1, was " + rows);
        require(inFeatures >= 1, "inFeatures", "must be at least 1, was " + inFeatures);
        require(outFeatures >= 1, "outFeatures", "must be at least 1, was " + outFeatures);
        require((targets == null) != (labels == null), "targets", "give either targets or labels, not both or neither");
        require(inputs.length == (long) rows * inFeatures, "inputs",
                "has " + inputs.length + " values, expected rows x inFeatures = " + (long) rows * inFeatures);
        requireFinite(inputs, "inputs");
        if (targets != null) {
            require(targets.length == (long) rows * outFeatures, "targets",
                    "has " + targets.length + " values, expected rows x outFeatures = " + (long) rows * outFeatures);
            requireFinite(targets, "targets");
        } else {
            require(labels.length == rows, "labels", "has " + labels.length + " values, expected rows = " + rows);
            for (int i = 0; i < labels.length; i++) {
                int label = labels[i];
                if (label < 0 || label >= outFeatures) {
                    throw new InvalidParameterException("labels",
                            "label " + label + " at row " + i + " is outside 0.." + (outFeatures - 1));
                }
            }
        }
    }

    public static Dataset regression(float[] inputs, float[] targets, int rows, int inFeatures, int outFeatures) {
        return new Dataset(rows, inFeatures, outFeatures, inputs, targets, null);
    }

    public static Dataset classification(float[] inputs, int[] labels, int rows, int inFeatures, int numClasses) {
        return new Dataset(rows, inFeatures, numClasses, inputs, null, labels);
    }

    public Kind kind() {
        return targets != null ? Kind.REGRESSION : Kind.CLASSIFICATION;
    }

    /** Number of classes seen in the labels (the largest label + 1); 0 for regression. */
    public int numClasses() {
        return labels == null ? 0 : Arrays.stream(labels).max().orElse(-1) + 1;
    }

    private static void requireFinite(float[] values, String name) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidParameterException(name, "value at flat index " + i + " is not finite");
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dataset d && rows == d.rows && inFeatures == d.inFeatures && outFeatures == d.outFeatures
                && Arrays.equals(inputs, d.inputs) && Arrays.equals(targets, d.targets) && Arrays.equals(labels, d.labels);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(inputs) + rows;
    }

    @Override
    public String toString() {
        return "Dataset[" + kind() + ", " + rows + " x " + inFeatures + " -> " + outFeatures + "]";
    }
}
