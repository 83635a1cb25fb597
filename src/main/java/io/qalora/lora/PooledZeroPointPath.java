package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.quant.QuantizerKind;

/**
 * {@link QuantizationTarget#POOLED_ZERO_POINT}, the QA-LoRA paper's adapter (Xu et al., ICLR 2024):
 * W is quantized once, at construction, with the adapter's bits, group size {@code g} and symmetry,
 * and stays frozen as codes, scales and zeros; {@code A [r, in/g]} reads the group sums of the input,
 * {@code pool(x)[:, k] = sum_{j<g} x[:, k g + j]}:
 *
 * <pre>
 * y = x deq(W)^T + b + s (pool(x) A^T) B^T
 * </pre>
 *
 * <p>A and B are not fake-quantized. Because {@code s B A pool(x)} equals {@code x} times the
 * group-constant {@code s B A} expanded over each group's {@code g} columns, the merge is exact
 * and moves only the zero points, {@code zero' = zero - s (B A) / scale} on {@code [out, in/g]}
 * in float32, with codes and scales untouched. Without quantization (a warm-up) the base product
 * uses W itself, as every {@code fq} is then the identity.
 */
final class PooledZeroPointPath implements TargetPath {

    private final AdapterState s;
    private final int g;
    private final int groups;
    private final QuantizedMatrix base;
    private final NativeMatrix dequantized;
    private float[] pooledRows;
    private NativeMatrix pooled;
    private NativeMatrix pooledGrad;
    private boolean quantizedForward;

    PooledZeroPointPath(AdapterState state) {
        this.s = state;
        this.g = s.quant.groupSize();
        this.groups = s.in / g;
        this.base = GroupQuantizer.quantize(s.weight, s.out, s.in, s.quant);
        this.dequantized = NativeMatrix.of(base.dequantized(), s.out, s.in);
    }

    /** A pooled factor {@code [rows, groups]} as a standard one {@code [rows, groups * g]}: each column repeated g times. */
    static float[] expand(float[] pooledFactor, int rows, int groups, int g) {
        int in = groups * g;
        float[] expanded = new float[rows * in];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < in; i++) {
                expanded[r * in + i] = pooledFactor[r * groups + i / g];
            }
        }
        return expanded;
    }

    @Override
    public void forward(float[] input, BatchBuffers buf, float[] baseOutput, boolean quantize, float[] y) {
        quantizedForward = quantize;
        int n = buf.size;
        NativeMatrix p = pooled(n);
        for (int r = 0; r < n; r++) {
            int row = r * s.in;
            for (int k = 0; k < groups; k++) {
                float sum = 0f;
                for (int j = k * g; j < (k + 1) * g; j++) {
                    sum += input[row + j];
                }
                pooledRows[r * groups + k] = sum;
            }
        }
        p.load(pooledRows);
        s.factorA.load(s.loraA);
        s.factorB.load(s.loraB);
        buf.h.gemm(p, false, s.factorA, true, 1f, 0f);
        s.adaptedOutput(buf, quantize ? dequantized : s.nativeWeight, baseOutput, y);
    }

    /**
     * dB = s dy^T h, dh = s dy B, dA = dh^T pool(x); dx = dy deq(W) plus dh A spread over each
     * group's columns (pooling's adjoint). The base is frozen for this target, so no dW.
     */
    @Override
    public float[] backward(BatchBuffers buf, float[] dy, boolean inputGradient) {
        s.factorAndBaseGradients(buf, dy, pooled);
        if (!inputGradient) {
            return null;
        }
        NativeMatrix dx = buf.dx();
        dx.gemm(buf.dy, false, quantizedForward ? dequantized : s.nativeWeight, false, 1f, 0f);
        pooledGrad.gemm(buf.dh, false, s.factorA, false, 1f, 0f);
        float[] d = dx.toArray();
        float[] dp = pooledGrad.toArray();
        for (int r = 0; r < buf.size; r++) {
            for (int i = 0; i < s.in; i++) {
                d[r * s.in + i] += dp[r * groups + i / g];
            }
        }
        return d;
    }

    @Override
    public NativeMatrix forwardBase(boolean quantize) {
        return quantize ? dequantized : s.nativeWeight;
    }

    /** {@code W + s B A_exp} with the original float W: the adapter without the base's quantization. */
    @Override
    public float[] mergedWeight() {
        float[] delta = scaledDelta();
        float[] w = s.weight.clone();
        for (int o = 0; o < s.out; o++) {
            for (int i = 0; i < s.in; i++) {
                w[o * s.in + i] += delta[o * groups + i / g];
            }
        }
        return w;
    }

    /**
     * The quantized base with {@code zero' = zero - s (B A) / scale} (float32) and
     * {@code deq' = (codes - zero') * scale}; codes and scales are the base's.
     */
    @Override
    public MergedLayer merge(QuantizerKind quantizer, float[] calibration, int samples) {
        require(quantizer == QuantizerKind.RTN, "mergeQuantizer", "POOLED_ZERO_POINT merges by moving the zero "
                + "points of its base, quantized once with the spec's group quantizer (RTN), so it cannot merge with "
                + quantizer);
        float[] delta = scaledDelta();
        float[] scales = base.scales();
        float[] zeros = new float[delta.length];
        for (int k = 0; k < zeros.length; k++) {
            zeros[k] = base.zeros()[k] - delta[k] / scales[k];
        }
        char[] codes = base.codes();
        float[] deq = new float[s.out * s.in];
        for (int o = 0; o < s.out; o++) {
            for (int i = 0; i < s.in; i++) {
                int k = o * groups + i / g;
                deq[o * s.in + i] = (codes[o * s.in + i] - zeros[k]) * scales[k];
            }
        }
        QuantizedMatrix merged = new QuantizedMatrix(base.spec(), s.out, s.in, codes.clone(), scales.clone(), zeros,
                deq);
        return new MergedLayer(merged, s.bias == null ? null : s.bias.clone());
    }

    /** Error of quantizing the base W, the one tensor this target quantizes. */
    @Override
    public QuantStats quantizationStats() {
        return base.stats(s.weight);
    }

    /** The float-zero merge against {@code W + s B A_exp}: the base's quantization error, moved by the adapter. */
    @Override
    public QuantStats mergedWeightStats() {
        return merge(QuantizerKind.RTN, null, 0).weight().stats(mergedWeight());
    }

    /** {@code s B A}, {@code [out, in/g]}, in float32. */
    private float[] scaledDelta() {
        try (NativeMatrix m = NativeMatrix.zeros(s.out, groups)) {
            s.scaledDelta(m);
            return m.toArray();
        }
    }

    private NativeMatrix pooled(int size) {
        if (pooled == null || pooled.rows != size) {
            if (pooled != null) {
                // Forgotten before closing, so a failed allocation below cannot lead to a double close.
                NativeMatrix oldPooled = pooled;
                NativeMatrix oldGrad = pooledGrad;
                pooled = null;
                pooledGrad = null;
                oldPooled.close();
                oldGrad.close();
            }
            pooled = NativeMatrix.zeros(size, groups);
            pooledGrad = NativeMatrix.zeros(size, groups);
            pooledRows = new float[size * groups];
        }
        return pooled;
    }

    @Override
    public void close() {
        dequantized.close();
        if (pooled != null) {
            pooled.close();
        }
        if (pooledGrad != null) {
            pooledGrad.close();
        }
    }
}
