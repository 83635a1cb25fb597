package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.quant.GptqQuantizer;
import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantErrorStats;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;
import io.qalora.tensor.DenseLayer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A quantization-aware LoRA adapter on a dense layer {@code y = x W^T + b}: trainable factors
 * {@code A [r, in]} and {@code B [out, r]} with scaling {@code s = alpha / r} (Hu et al., 2021),
 * trained while the forward pass fake-quantizes group-wise where {@link QuantizationTarget} says
 * (QA-LoRA, Xu et al., ICLR 2024). Backward uses the straight-through estimator. The library face
 * of AiDotNet's {@code QALoRAAdapter<T>}, with a merge that works on any shape.
 *
 * <p>{@link #forward} remembers its input for the next {@link #backward}. An adapter is not
 * thread-safe; it owns off-heap memory, so close it when done.
 */
public final class QaLoraAdapter implements AutoCloseable {

    private final int in;
    private final int out;
    private final int rank;
    private final float alpha;
    private final float scaling;
    private final boolean freezeBase;
    private final boolean rsLora;
    private QuantSpec quant;
    private QuantizationTarget target;
    private boolean quantizationEnabled = true;

    final float[] weight;
    final float[] bias;
    final float[] loraA;
    final float[] loraB;
    private final float[] gradA;
    private final float[] gradB;
    private final float[] gradWeight;
    private final float[] gradBias;

    private final NativeMatrix nativeWeight;
    private final NativeMatrix factorA;
    private final NativeMatrix factorB;
    private final NativeMatrix nativeGradA;
    private final NativeMatrix nativeGradB;
    private final float[] quantizedA;
    private final float[] quantizedB;
    private NativeMatrix merged;
    private NativeMatrix nativeGradWeight;
    private BatchBuffers batch;
    private boolean forwardDone;
    private QuantizationTarget forwardPath;

    QaLoraAdapter(QaLoraAdapterBuilder b) {
        require(b.base != null, "baseLayer", "must not be null");
        this.in = b.base.inFeatures();
        this.out = b.base.outFeatures();
        require(b.rank >= 1 && b.rank <= Math.min(in, out), "rank",
                "must be 1..min(inFeatures, outFeatures) = " + Math.min(in, out) + ", was " + b.rank);
        this.quant = new QuantSpec(b.bits, b.groupSize, b.symmetric);
        require(b.target != null, "quantizationTarget", "must not be null");
        require(Double.isFinite(b.alpha), "alpha", "must be finite");
        this.rank = b.rank;
        this.alpha = b.alpha <= 0 ? rank : (float) b.alpha;
        this.rsLora = b.rsLora;
        this.scaling = rsLora ? (float) (alpha / Math.sqrt(rank)) : alpha / rank;
        this.freezeBase = b.freezeBase;
        this.target = b.target;
        this.weight = b.base.weight().clone();
        this.bias = b.base.bias() == null ? null : b.base.bias().clone();
        this.loraA = b.initialA != null ? b.initialA.clone() : kaimingUniform(rank, in, b.seed);
        this.loraB = b.initialB != null ? b.initialB.clone() : new float[out * rank];
        require(loraA.length == rank * in, "loraA", "must have rank x inFeatures values");
        require(loraB.length == out * rank, "loraB", "must have outFeatures x rank values");
        this.gradA = new float[rank * in];
        this.gradB = new float[out * rank];
        this.gradWeight = freezeBase ? null : new float[out * in];
        this.gradBias = freezeBase || bias == null ? null : new float[out];
        this.quantizedA = new float[rank * in];
        this.quantizedB = new float[out * rank];
        this.nativeWeight = NativeMatrix.of(weight, out, in);
        this.factorA = NativeMatrix.zeros(rank, in);
        this.factorB = NativeMatrix.zeros(out, rank);
        this.nativeGradA = NativeMatrix.zeros(rank, in);
        this.nativeGradB = NativeMatrix.zeros(out, rank);
    }

    /** The original constructor: base layer frozen, asymmetric quantization, LORA_FACTORS target. */
    public QaLoraAdapter(DenseLayer baseLayer, int rank, int quantizationBits, int groupSize, double alpha) {
        this(baseLayer, rank, quantizationBits, groupSize, alpha, true);
    }

    public QaLoraAdapter(DenseLayer baseLayer, int rank, int quantizationBits, int groupSize, double alpha,
            boolean freezeBaseLayer) {
        this(builder(baseLayer).rank(rank).quantizationBits(quantizationBits).groupSize(groupSize).alpha(alpha)
                .freezeBaseLayer(freezeBaseLayer));
    }

    public static QaLoraAdapterBuilder builder(DenseLayer baseLayer) {
        return new QaLoraAdapterBuilder(baseLayer);
    }

    /** {@code A ~ U(-1/sqrt(in), 1/sqrt(in))}, PEFT's kaiming-uniform default, from {@code seed}. */
    static float[] kaimingUniform(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double bound = 1.0 / Math.sqrt(cols);
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextDouble(-bound, bound);
        }
        return a;
    }

    // ---- forward and backward -------------------------------------------------------------

    /** The adapted layer's output {@code [batch, out]} for {@code input [batch, in]}. */
    public float[] forward(float[] input, int batchSize) {
        require(input.length == batchSize * in, "input", "must have batch x inFeatures = " + batchSize * in + " values");
        float[] y = new float[batchSize * out];
        forward(input, batchSize, null, y);
        return y;
    }

    /**
     * Forward into {@code y}. When {@code baseOutput} is given it must hold {@code x W^T + b} for
     * these rows (a frozen base computed once per sample), and the base product is skipped. The
     * arrays may be longer than the batch needs; only their prefix is used.
     */
    void forward(float[] input, int batchSize, float[] baseOutput, float[] y) {
        require(input.length >= batchSize * in, "input", "must have batch x inFeatures = " + batchSize * in + " values");
        BatchBuffers buf = buffers(batchSize);
        buf.x.load(input);
        boolean quantize = quantizationEnabled;
        forwardPath = target == QuantizationTarget.MERGED_WEIGHTS && quantize
                ? QuantizationTarget.MERGED_WEIGHTS : QuantizationTarget.LORA_FACTORS;
        boolean quantizeFactors = quantize && target == QuantizationTarget.LORA_FACTORS;
        // The factors as this forward uses them, fq'd or not; backward reuses them (the STE).
        factorA.load(quantizeFactors ? fakeQuantize(loraA, rank, in, quantizedA) : loraA);
        factorB.load(quantizeFactors ? fakeQuantize(loraB, out, rank, quantizedB) : loraB);
        buf.h.gemm(buf.x, false, factorA, true, 1f, 0f);
        if (forwardPath == QuantizationTarget.MERGED_WEIGHTS) {
            // The merged path quantizes W + sBA as a whole, so the base product cannot be reused.
            mergeInto(merged(), true);
            buf.y.gemm(buf.x, false, merged, true, 1f, 0f);
        } else {
            if (baseOutput == null) {
                buf.y.gemm(buf.x, false, nativeWeight, true, 1f, 0f);
            } else {
                buf.y.load(baseOutput);
            }
            buf.y.gemm(buf.h, false, factorB, true, scaling, 1f);
        }
        buf.y.store(y);
        if (baseOutput == null || forwardPath == QuantizationTarget.MERGED_WEIGHTS) {
            addBias(y, batchSize);
        }
        forwardDone = true;
    }

    /**
     * Backpropagates {@code outputGradient [batch, out]} (dLoss/dy) through the last forward:
     * stores the gradients of A, B and, when trainable, W and b (see {@link #gradients()}), and
     * returns dLoss/dx {@code [batch, in]}. Fake quantization passes gradients straight through.
     */
    public float[] backward(float[] outputGradient) {
        require(forwardDone && outputGradient.length == batch.size * out, "outputGradient",
                "must have batch x outFeatures values of the last forward");
        return backward(outputGradient, true);
    }

    float[] backward(float[] dy, boolean inputGradient) {
        require(forwardDone, "forward", "backward needs a forward pass first");
        BatchBuffers buf = batch;
        require(dy.length >= buf.size * out, "outputGradient", "must have batch x outFeatures = " + buf.size * out + " values");
        buf.dy.load(dy);
        // dB = s dy^T h, dh = s dy B_f, dA = dh^T x, with h = x A_f^T from the forward.
        nativeGradB.gemm(buf.dy, true, buf.h, false, scaling, 0f);
        buf.dh.gemm(buf.dy, false, factorB, false, scaling, 0f);
        nativeGradA.gemm(buf.dh, true, buf.x, false, 1f, 0f);
        nativeGradA.store(gradA);
        nativeGradB.store(gradB);
        if (!freezeBase) {
            if (nativeGradWeight == null) {
                nativeGradWeight = NativeMatrix.zeros(out, in);
            }
            nativeGradWeight.gemm(buf.dy, true, buf.x, false, 1f, 0f);
            nativeGradWeight.store(gradWeight);
            if (gradBias != null) {
                columnSums(dy, buf.size, gradBias);
            }
        }
        if (!inputGradient) {
            return null;
        }
        NativeMatrix dx = buf.dx();
        if (forwardPath == QuantizationTarget.MERGED_WEIGHTS) {
            dx.gemm(buf.dy, false, merged, false, 1f, 0f);
        } else {
            dx.gemm(buf.dy, false, nativeWeight, false, 1f, 0f);
            dx.gemm(buf.dh, false, factorA, false, 1f, 1f);
        }
        return dx.toArray();
    }

    /** Copies of the gradients from the last backward pass. */
    public Gradients gradients() {
        return new Gradients(gradA.clone(), gradB.clone(), gradWeight == null ? null : gradWeight.clone(),
                gradBias == null ? null : gradBias.clone());
    }

    /** One plain SGD step on every trainable tensor: {@code p -= learningRate * grad}. */
    public void updateParameters(double learningRate) {
        Optimizer sgd = Optimizer.sgd(learningRate);
        sgd.step(parameters());
        parametersChanged();
    }

    /** The trainable tensors with their gradient buffers. */
    List<Parameter> parameters() {
        List<Parameter> params = new ArrayList<>(4);
        params.add(new Parameter("lora_A", loraA, gradA));
        params.add(new Parameter("lora_B", loraB, gradB));
        if (!freezeBase) {
            params.add(new Parameter("weight", weight, gradWeight));
            if (bias != null) {
                params.add(new Parameter("bias", bias, gradBias));
            }
        }
        return params;
    }

    /** Re-syncs the off-heap copy of W after an optimizer changed the heap one. */
    void parametersChanged() {
        if (!freezeBase) {
            nativeWeight.load(weight);
        }
    }

    // ---- merge and statistics -------------------------------------------------------------

    /**
     * The merged weight {@code W' = W + s B A}, quantized with this adapter's bits, group size and
     * symmetry: codes, scales, zeros, the dequantized weight, and the float32 bias.
     */
    public MergedLayer mergeToOriginalLayer() {
        return MergedLayer.merge(weight, bias, loraA, loraB, scaling, out, in, rank, quant);
    }

    /**
     * The merged layer quantized by {@code quantizer}: RTN as {@link #mergeToOriginalLayer()}, or
     * GPTQ (Frantar et al., 2022) calibrated on {@code calibration [samples, in]}, which uses the
     * inputs' second moments to push each column's rounding error onto the columns not yet quantized.
     */
    public MergedLayer mergeToOriginalLayer(QuantizerKind quantizer, float[] calibration, int samples) {
        if (quantizer == QuantizerKind.RTN) {
            return mergeToOriginalLayer();
        }
        var gptq = GptqQuantizer.quantize(mergedWeight(), out, in, calibration, samples, quant);
        return new MergedLayer(gptq.matrix(), bias == null ? null : bias.clone());
    }

    /** {@code W + s B A} in full precision. */
    public float[] mergedWeight() {
        return MergedLayer.mergedWeight(weight, loraA, loraB, scaling, out, in, rank);
    }

    /** The full-precision merged layer {@code (W + s B A, b)}. */
    public DenseLayer mergedFullPrecision() {
        return new DenseLayer(out, in, mergedWeight(), bias == null ? null : bias.clone());
    }

    /**
     * Quantization error of the tensors the current target quantizes: A (groups along {@code in})
     * and B (groups along {@code r}) for LORA_FACTORS, the merged weight for MERGED_WEIGHTS.
     */
    public QuantStats quantizationStats() {
        return target == QuantizationTarget.LORA_FACTORS ? loraFactorStats() : mergedWeightStats();
    }

    /** Error of quantizing A and B, as LORA_FACTORS deploys them. */
    public QuantStats loraFactorStats() {
        return GroupQuantizer.stats(loraA, rank, in, quant).combine(GroupQuantizer.stats(loraB, out, rank, quant));
    }

    /**
     * The merged weight's RTN quantization in the papers' measures: relative Frobenius error, SQNR
     * in dB and the fraction of clamped values ({@link QuantErrorStats}).
     */
    public QuantErrorStats mergedWeightErrorStats() {
        return QuantErrorStats.of(mergedWeight(), mergeToOriginalLayer().weight());
    }

    /** Error of quantizing the merged weight {@code W + s B A}. */
    public QuantStats mergedWeightStats() {
        return GroupQuantizer.stats(mergedWeight(), out, in, quant);
    }

    // ---- internals --------------------------------------------------------------------------

    private float[] fakeQuantize(float[] factor, int rows, int cols, float[] into) {
        GroupQuantizer.fakeQuantize(factor, 0, into, 0, rows, cols, quant);
        return into;
    }

    /** {@code s B A} (unquantized factors) into {@code target}. */
    private void scaledDelta(NativeMatrix target) {
        factorA.load(loraA);
        factorB.load(loraB);
        target.gemm(factorB, false, factorA, false, scaling, 0f);
    }

    private NativeMatrix merged() {
        if (merged == null) {
            merged = NativeMatrix.zeros(out, in);
        }
        return merged;
    }

    /** Fills {@code merged} with {@code W + s B A}, fake-quantized row by row when asked. */
    private void mergeInto(NativeMatrix target, boolean fakeQuantize) {
        scaledDelta(target);
        float[] row = new float[in];
        for (int o = 0; o < out; o++) {
            target.storeRow(o, row, 0);
            int base = o * in;
            for (int i = 0; i < in; i++) {
                row[i] += weight[base + i];
            }
            if (fakeQuantize) {
                GroupQuantizer.fakeQuantize(row, 0, row, 0, 1, in, quant);
            }
            target.loadRow(o, row, 0);
        }
    }

    private void addBias(float[] y, int batchSize) {
        if (bias == null) {
            return;
        }
        for (int r = 0; r < batchSize; r++) {
            int base = r * out;
            for (int o = 0; o < out; o++) {
                y[base + o] += bias[o];
            }
        }
    }

    private void columnSums(float[] m, int rows, float[] sums) {
        java.util.Arrays.fill(sums, 0f);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                sums[o] += m[r * out + o];
            }
        }
    }

    private BatchBuffers buffers(int size) {
        require(size >= 1, "batchSize", "must be at least 1, was " + size);
        if (batch == null || batch.size != size) {
            if (batch != null) {
                batch.close();
            }
            batch = new BatchBuffers(size, in, out, rank);
        }
        return batch;
    }

    @Override
    public void close() {
        nativeWeight.close();
        factorA.close();
        factorB.close();
        nativeGradA.close();
        nativeGradB.close();
        if (merged != null) {
            merged.close();
        }
        if (nativeGradWeight != null) {
            nativeGradWeight.close();
        }
        if (batch != null) {
            batch.close();
        }
    }

    // ---- configuration ----------------------------------------------------------------------

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public int rank() {
        return rank;
    }

    /** The resolved alpha: the given one, or {@code rank} when it was {@code <= 0}. */
    public float alpha() {
        return alpha;
    }

    /** {@code alpha / rank}, or {@code alpha / sqrt(rank)} with rsLoRA. */
    public float scaling() {
        return scaling;
    }

    public boolean rsLora() {
        return rsLora;
    }

    public boolean freezeBaseLayer() {
        return freezeBase;
    }

    public QuantSpec quantSpec() {
        return quant;
    }

    public int quantizationBits() {
        return quant.bits();
    }

    public void setQuantizationBits(int bits) {
        quant = quant.withBits(bits);
    }

    public int groupSize() {
        return quant.groupSize();
    }

    public void setGroupSize(int groupSize) {
        quant = quant.withGroupSize(groupSize);
    }

    public boolean isQuantizationEnabled() {
        return quantizationEnabled;
    }

    public void setQuantizationEnabled(boolean enabled) {
        this.quantizationEnabled = enabled;
    }

    public QuantizationTarget quantizationTarget() {
        return target;
    }

    public void setQuantizationTarget(QuantizationTarget target) {
        require(target != null, "quantizationTarget", "must not be null");
        this.target = target;
    }

    /** A copy of {@code A [r, in]}. */
    public float[] loraA() {
        return loraA.clone();
    }

    /** A copy of {@code B [out, r]}. */
    public float[] loraB() {
        return loraB.clone();
    }

    /** The base layer as it is now (changed by training only when not frozen). */
    public DenseLayer baseLayer() {
        return new DenseLayer(out, in, weight.clone(), bias == null ? null : bias.clone());
    }
}
