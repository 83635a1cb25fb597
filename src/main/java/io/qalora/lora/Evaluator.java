package io.qalora.lora;

import io.qalora.tensor.DenseLayer;

/** Measures layers and adapters on datasets, with the loss the dataset's kind trains with. */
public final class Evaluator {

    private Evaluator() {
    }

    /** The loss (and accuracy for labels) of {@code layer} on {@code data}. */
    public static Metrics evaluate(DenseLayer layer, Dataset data) {
        float[] y = LayerOutputs.compute(layer, data.inputs(), data.rows());
        int[] rows = Trainer.identity(data.rows());
        double loss = Loss.compute(data, rows, 0, data.rows(), y, null);
        Double accuracy = data.kind() == Dataset.Kind.CLASSIFICATION
                ? (double) Loss.correct(data, rows, 0, data.rows(), y) / data.rows() : null;
        return new Metrics(loss, accuracy);
    }

    /**
     * The trained adapter's merged layer in full precision and quantized, against the original
     * base layer, on {@code data}. For POOLED_ZERO_POINT the quantized one is the float-zero merge,
     * and full precision is {@code W + s B A_exp} with the unquantized W.
     */
    public static Evaluation evaluate(QaLoraAdapter adapter, DenseLayer originalBase, Dataset data) {
        return evaluate(adapter, adapter.mergeToOriginalLayer(), originalBase, data);
    }

    /** As {@link #evaluate(QaLoraAdapter, DenseLayer, Dataset)}, with the deployed layer already merged. */
    public static Evaluation evaluate(QaLoraAdapter adapter, MergedLayer deployed, DenseLayer originalBase,
            Dataset data) {
        return new Evaluation(evaluate(adapter.mergedFullPrecision(), data), evaluate(deployed.toDenseLayer(), data),
                evaluate(originalBase, data), null);
    }

    /**
     * The LoRA+PTQ baseline: trains the same adapter with the same config and seed but with
     * quantization disabled ({@link TrainingConfig#plainLora()}: a standard LoRA for
     * POOLED_ZERO_POINT), then merges and quantizes it with the config's bits and groups, and
     * measures that on {@code evaluationData}.
     */
    public static Metrics ptqBaseline(Trainer trainer, DenseLayer base, Dataset trainingData, Dataset evaluationData,
            TrainingConfig config, TrainingListener listener) {
        TrainingConfig plain = config.plainLora();
        TrainingResult result = trainer.train(base, trainingData, plain, listener);
        try (QaLoraAdapter adapter = result.adapter()) {
            return evaluate(adapter.mergeToOriginalLayer().toDenseLayer(), evaluationData);
        }
    }
}
