package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantErrorStats;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;
import io.qalora.tensor.DenseLayer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A quantization-aware LoRA adapter on a dense layer {@code y = x W^T + b}: trainable factors
 * {@code A [r, in]} and {@code B [out, r]} with scaling {@code s = alpha / r} (Hu et al., 2021),
 * trained while the forward pass fake-quantizes group-wise where {@link QuantizationTarget} says
 * (QA-LoRA, Xu et al., ICLR 2024). Backward uses the straight-through estimator. The library face
 * of AiDotNet's {@code QALoRAAdapter<T>}, with a merge that works on any shape. With
 * {@link QuantizationTarget#POOLED_ZERO_POINT}, the paper's own form, A is {@code [r, in/g]} and
 * reads group sums of the input, and the merge moves only the zero points of the quantized base.
 *
 * <p>Each target's arithmetic lives in its own {@code TargetPath}; this class checks arguments,
 * holds the configuration and the batch buffers, and hands each call to the current target's path.
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
    private QuantizationTarget target;
    private boolean quantizationEnabled = true;

    private final AdapterState state;
    private final EnumMap<QuantizationTarget, TargetPath> paths = new EnumMap<>(QuantizationTarget.class);
    private BatchBuffers batch;
    private boolean forwardDone;
    private TargetPath forwardPath;

    QaLoraAdapter(QaLoraAdapterBuilder b) {
        require(b.base != null, "baseLayer", "must not be null");
        this.in = b.base.inFeatures();
        this.out = b.base.outFeatures();
        require(b.rank >= 1 && b.rank <= Math.min(in, out), "rank",
                "must be 1..min(inFeatures, outFeatures) = " + Math.min(in, out) + ", was " + b.rank);
        QuantSpec quant = new QuantSpec(b.bits, b.groupSize, b.symmetric);
        require(b.target != null, "quantizationTarget", "must not be null");
        require(Double.isFinite(b.alpha), "alpha", "must be finite");
        boolean pooled = b.target == QuantizationTarget.POOLED_ZERO_POINT;
        if (pooled) {
            require(in % quant.groupSize() == 0, "groupSize", "must divide inFeatures = " + in
                    + " for POOLED_ZERO_POINT, whose A reads whole groups of the input, was " + quant.groupSize());
            require(b.freezeBase, "freezeBaseLayer", "must be true for POOLED_ZERO_POINT, whose base is quantized once"
                    + " and stays frozen as integer codes");
        }
        int aCols = pooled ? in / quant.groupSize() : in;
        this.rank = b.rank;
        this.alpha = b.alpha <= 0 ? rank : (float) b.alpha;
        this.rsLora = b.rsLora;
        this.scaling = rsLora ? (float) (alpha / Math.sqrt(rank)) : alpha / rank;
        this.freezeBase = b.freezeBase;
        this.target = b.target;
        float[] loraA = b.initialA != null ? b.initialA.clone() : kaimingUniform(rank, aCols, b.seed);
        float[] loraB = b.initialB != null ? b.initialB.clone() : new float[out * rank];
        require(loraA.length == rank * aCols, "loraA", pooled
                ? "must have rank x inFeatures / groupSize values for POOLED_ZERO_POINT"
                : "must have rank x inFeatures values");
        require(loraB.length == out * rank, "loraB", "must have outFeatures x rank values");
        this.state = new AdapterState(in, out, rank, aCols, scaling, freezeBase, quant, b.base.weight().clone(),
                b.base.bias() == null ? null : b.base.bias().clone(), loraA, loraB);
        if (pooled) {
            try {
                paths.put(target, new PooledZeroPointPath(state));
            } catch (RuntimeException | Error e) {
                state.close();
                throw e;
            }
        }
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

    /**
     * {@code A ~ U(-1/sqrt(cols), 1/sqrt(cols))}, PEFT's kaiming-uniform default with fan-in
     * {@code cols} ({@code in}, or {@code in / g} for a pooled A), from {@code seed}.
     */
    static float[] kaimingUniform(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double bound = 1.0 / Math.sqrt(cols);
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextDouble(-bound, bound);
        }
        return a;
    }

    /** The arithmetic of {@code t}, made on first use; LORA_FACTORS and MERGED_WEIGHTS share their tensors. */
    private TargetPath path(QuantizationTarget t) {
        TargetPath p = paths.get(t);
        if (p == null) {
            p = switch (t) {
                case LORA_FACTORS -> new LoraFactorsPath(state);
                case MERGED_WEIGHTS -> new MergedWeightsPath(state, (LoraFactorsPath) path(QuantizationTarget.LORA_FACTORS));
                case POOLED_ZERO_POINT -> throw new IllegalStateException("a pooled path is made with its adapter");
            };
            paths.put(t, p);
        }
        return p;
    }

    private TargetPath path() {
        return path(target);
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
     * these rows, with the W of {@link #baseOutputs} (a frozen base computed once per sample),
     * and the base product is skipped. The arrays may be longer than the batch needs; only their
     * prefix is used.
     */
    void forward(float[] input, int batchSize, float[] baseOutput, float[] y) {
        require(input.length >= batchSize * in, "input", "must have batch x inFeatures = " + batchSize * in + " values");
        BatchBuffers buf = buffers(batchSize);
        buf.x.load(input);
        forwardPath = path();
        forwardPath.forward(input, buf, baseOutput, quantizationEnabled, y);
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
        require(dy.length >= batch.size * out, "outputGradient", "must have batch x outFeatures = " + batch.size * out + " values");
        return forwardPath.backward(batch, dy, inputGradient);
    }

    /**
     * {@code inputs [rows, in]} through the base layer the forward adds, as a frozen-base cache must
     * hold it: the base itself, or for POOLED_ZERO_POINT with quantization on its dequantized
     * weight. It reads the adapter's off-heap copy of that weight, so no second copy is made.
     */
    float[] baseOutputs(float[] inputs, int rows, boolean quantize) {
        return LayerOutputs.compute(path().forwardBase(quantize), state.bias, inputs, rows);
    }

    /** Copies of the gradients from the last backward pass. */
    public Gradients gradients() {
        return new Gradients(state.gradA.clone(), state.gradB.clone(),
                state.gradWeight == null ? null : state.gradWeight.clone(),
                state.gradBias == null ? null : state.gradBias.clone());
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
        params.add(new Parameter("lora_A", state.loraA, state.gradA));
        params.add(new Parameter("lora_B", state.loraB, state.gradB));
        if (!freezeBase) {
            params.add(new Parameter("weight", state.weight, state.gradWeight));
            if (state.bias != null) {
                params.add(new Parameter("bias", state.bias, state.gradBias));
            }
        }
        return params;
    }

    /** Re-syncs the off-heap copy of W after an optimizer changed the heap one. */
    void parametersChanged() {
        if (!freezeBase) {
            state.nativeWeight.load(state.weight);
        }
    }

    // ---- merge and statistics -------------------------------------------------------------

    /**
     * The merged layer, quantized with this adapter's bits, group size and symmetry: codes, scales,
     * zeros, the dequantized weight, and the float32 bias. For LORA_FACTORS and MERGED_WEIGHTS it
     * is {@code W' = W + s B A} quantized with the spec's group quantizer. For POOLED_ZERO_POINT it
     * is the base's codes and scales with float zero points {@code zero' = zero - s (B A) / scale},
     * which reproduces this adapter's forward exactly (up to float32 rounding).
     */
    public MergedLayer mergeToOriginalLayer() {
        return path().merge(QuantizerKind.RTN, null, 0);
    }

    /**
     * The merged layer quantized by {@code quantizer}: RTN as {@link #mergeToOriginalLayer()}, or
     * GPTQ (Frantar et al., 2022) calibrated on {@code calibration [samples, in]}, which uses the
     * inputs' second moments to push each column's rounding error onto the columns not yet quantized.
     * POOLED_ZERO_POINT takes only RTN: its merge moves zero points and quantizes nothing anew.
     */
    public MergedLayer mergeToOriginalLayer(QuantizerKind quantizer, float[] calibration, int samples) {
        return path().merge(quantizer, calibration, samples);
    }

    /** {@code W + s B A} in full precision (for POOLED_ZERO_POINT with A expanded, {@link #standardLoraA()}). */
    public float[] mergedWeight() {
        return path().mergedWeight();
    }

    /** The full-precision merged layer {@code (W + s B A, b)}. */
    public DenseLayer mergedFullPrecision() {
        return new DenseLayer(out, in, mergedWeight(), state.bias == null ? null : state.bias.clone());
    }

    /**
     * Quantization error of the tensors the current target quantizes: A (groups along {@code in})
     * and B (groups along {@code r}) for LORA_FACTORS, the merged weight for MERGED_WEIGHTS, the
     * base weight W (quantized once) for POOLED_ZERO_POINT.
     */
    public QuantStats quantizationStats() {
        return path().quantizationStats();
    }

    /**
     * Error of quantizing A and B group-wise as they are stored: {@code A [r, in]} (for
     * POOLED_ZERO_POINT {@code [r, in/g]}) with groups along its columns, B along {@code r}. Only
     * LORA_FACTORS deploys quantized factors; for the other targets it is what that would cost.
     */
    public QuantStats loraFactorStats() {
        return GroupQuantizer.stats(state.loraA, rank, state.aCols, state.quant)
                .combine(GroupQuantizer.stats(state.loraB, out, rank, state.quant));
    }

    /**
     * The merged weight's RTN quantization in the papers' measures: relative Frobenius error, SQNR
     * in dB and the fraction of clamped values ({@link QuantErrorStats}), against {@link #mergedWeight()}.
     */
    public QuantErrorStats mergedWeightErrorStats() {
        return QuantErrorStats.of(mergedWeight(), mergeToOriginalLayer().weight());
    }

    /**
     * Error of the merged layer's weight against {@link #mergedWeight()}: quantizing
     * {@code W + s B A}, or for POOLED_ZERO_POINT the base's quantization error that the float-zero
     * merge carries (the merge itself adds none).
     */
    public QuantStats mergedWeightStats() {
        return path().mergedWeightStats();
    }

    // ---- internals --------------------------------------------------------------------------

    private BatchBuffers buffers(int size) {
        require(size >= 1, "batchSize", "must be at least 1, was " + size);
        if (batch == null || batch.size != size) {
            if (batch != null) {
                // Forget the closed buffers first: if the new ones fail to allocate, close() must not
                // close these twice (a raw cblas pointer after close is a native crash).
                BatchBuffers old = batch;
                batch = null;
                old.close();
            }
            batch = new BatchBuffers(size, in, out, rank);
        }
        return batch;
    }

    @Override
    public void close() {
        paths.values().forEach(TargetPath::close);
        state.close();
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
        return state.quant;
    }

    public int quantizationBits() {
        return state.quant.bits();
    }

    /** Changes the bits of later fake quantizations and merges; POOLED_ZERO_POINT fixed its base's at build. */
    public void setQuantizationBits(int bits) {
        QuantSpec changed = state.quant.withBits(bits);
        requireNotPooled("quantizationBits");
        state.quant = changed;
    }

    public int groupSize() {
        return state.quant.groupSize();
    }

    /** Changes the group size of later fake quantizations and merges; POOLED_ZERO_POINT fixed its groups at build. */
    public void setGroupSize(int groupSize) {
        QuantSpec changed = state.quant.withGroupSize(groupSize);
        requireNotPooled("groupSize");
        state.quant = changed;
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

    /** Switches between LORA_FACTORS and MERGED_WEIGHTS; an adapter is POOLED_ZERO_POINT from build to close or never. */
    public void setQuantizationTarget(QuantizationTarget target) {
        require(target != null, "quantizationTarget", "must not be null");
        boolean pooled = this.target == QuantizationTarget.POOLED_ZERO_POINT;
        require(pooled == (target == QuantizationTarget.POOLED_ZERO_POINT), "quantizationTarget",
                "cannot change between POOLED_ZERO_POINT and another target after build: its A is [r, inFeatures / "
                        + "groupSize] and its base quantized at build; build a new adapter");
        this.target = target;
    }

    private void requireNotPooled(String field) {
        require(target != QuantizationTarget.POOLED_ZERO_POINT, field, "is fixed at build for POOLED_ZERO_POINT, "
                + "whose base is quantized once and whose A has inFeatures / groupSize columns");
    }

    /** A copy of {@code A}: {@code [r, in]}, or {@code [r, in/g]} for POOLED_ZERO_POINT. */
    public float[] loraA() {
        return state.loraA.clone();
    }

    /**
     * A as a standard LoRA factor {@code [r, in]} with the same update {@code s B A}: for
     * POOLED_ZERO_POINT each pooled column repeated over its group, {@code A_exp[:, i] = A[:, i / g]}
     * (then {@code pool(x) A^T = x A_exp^T}); for the other targets a copy of A.
     */
    public float[] standardLoraA() {
        return target == QuantizationTarget.POOLED_ZERO_POINT
                ? PooledZeroPointPath.expand(state.loraA, rank, state.aCols, state.quant.groupSize())
                : state.loraA.clone();
    }

    /** A copy of {@code B [out, r]}. */
    public float[] loraB() {
        return state.loraB.clone();
    }

    /** The base layer as it is now (changed by training only when not frozen). */
    public DenseLayer baseLayer() {
        return new DenseLayer(out, in, state.weight.clone(), state.bias == null ? null : state.bias.clone());
    }
}
