package io.qalora.lora;

import io.qalora.quant.QuantSpec;
import io.qalora.tensor.DenseLayer;

/** Options of a new adapter; the defaults are those of the original class. */
public final class QaLoraAdapterBuilder {
    final DenseLayer base;
    int rank = 8;
    int bits = 4;
    int groupSize = 64;
    boolean symmetric;
    double alpha = -1;
    boolean rsLora;
    boolean freezeBase = true;
    QuantizationTarget target = QuantizationTarget.LORA_FACTORS;
    long seed;
    float[] initialA;
    float[] initialB;

    QaLoraAdapterBuilder(DenseLayer base) {
        this.base = base;
    }

    public QaLoraAdapterBuilder rank(int rank) {
        this.rank = rank;
        return this;
    }

    public QaLoraAdapterBuilder quantizationBits(int bits) {
        this.bits = bits;
        return this;
    }

    public QaLoraAdapterBuilder groupSize(int groupSize) {
        this.groupSize = groupSize;
        return this;
    }

    public QaLoraAdapterBuilder symmetric(boolean symmetric) {
        this.symmetric = symmetric;
        return this;
    }

    public QaLoraAdapterBuilder quantSpec(QuantSpec spec) {
        return quantizationBits(spec.bits()).groupSize(spec.groupSize()).symmetric(spec.symmetric());
    }

    /** LoRA alpha; {@code <= 0} means {@code rank}, so the scaling is 1. */
    public QaLoraAdapterBuilder alpha(double alpha) {
        this.alpha = alpha;
        return this;
    }

    /** rsLoRA scaling {@code alpha / sqrt(r)} (Kalajdzievski, 2023) instead of {@code alpha / r}. */
    public QaLoraAdapterBuilder rsLora(boolean rsLora) {
        this.rsLora = rsLora;
        return this;
    }

    public QaLoraAdapterBuilder freezeBaseLayer(boolean freeze) {
        this.freezeBase = freeze;
        return this;
    }

    public QaLoraAdapterBuilder quantizationTarget(QuantizationTarget target) {
        this.target = target;
        return this;
    }

    /** Seed of A's random initialisation. */
    public QaLoraAdapterBuilder seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** Starts from given factors instead of the random A and zero B. */
    public QaLoraAdapterBuilder factors(float[] a, float[] b) {
        this.initialA = a;
        this.initialB = b;
        return this;
    }

    public QaLoraAdapter build() {
        return new QaLoraAdapter(this);
    }
}
