package io.qalora.lora;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;

/**
 * The tensors of one {@link QaLoraAdapter} that every {@link TargetPath} reads: the base layer,
 * the factors and their gradients on the heap, and their off-heap copies for the matrix products.
 * {@code A} has {@link #aCols} columns: {@code in}, or {@code in / g} when it reads group sums.
 */
final class AdapterState implements AutoCloseable {

    final int in;
    final int out;
    final int rank;
    final int aCols;
    final float scaling;
    final boolean freezeBase;
    /** Changed by the adapter's setters. */
    QuantSpec quant;

    final float[] weight;
    final float[] bias;
    final float[] loraA;
    final float[] loraB;
    final float[] gradA;
    final float[] gradB;
    final float[] gradWeight;
    final float[] gradBias;

    final NativeMatrix nativeWeight;
    final NativeMatrix factorA;
    final NativeMatrix factorB;
    final NativeMatrix nativeGradA;
    final NativeMatrix nativeGradB;
    private NativeMatrix nativeGradWeight;

    AdapterState(int in, int out, int rank, int aCols, float scaling, boolean freezeBase, QuantSpec quant,
            float[] weight, float[] bias, float[] loraA, float[] loraB) {
        this.in = in;
        this.out = out;
        this.rank = rank;
        this.aCols = aCols;
        this.scaling = scaling;
        this.freezeBase = freezeBase;
        this.quant = quant;
        this.weight = weight;
        this.bias = bias;
        this.loraA = loraA;
        this.loraB = loraB;
        this.gradA = new float[rank * aCols];
        this.gradB = new float[out * rank];
        this.gradWeight = freezeBase ? null : new float[out * in];
        this.gradBias = freezeBase || bias == null ? null : new float[out];
        this.nativeWeight = NativeMatrix.of(weight, out, in);
        this.factorA = NativeMatrix.zeros(rank, aCols);
        this.factorB = NativeMatrix.zeros(out, rank);
        this.nativeGradA = NativeMatrix.zeros(rank, aCols);
        this.nativeGradB = NativeMatrix.zeros(out, rank);
    }

    /**
     * The gradients every target shares, from {@code dy} and the forward's {@code h = u A_f^T}, where
     * {@code u} is what A read ({@code x}, or its group sums): {@code dB = s dy^T h},
     * {@code dh = s dy B_f} (left in {@code buf.dh}), {@code dA = dh^T u}, and, when the base is
     * trainable, {@code dW = dy^T x} and {@code db} the column sums of {@code dy}.
     */
    void factorAndBaseGradients(BatchBuffers buf, float[] dy, NativeMatrix aInput) {
        buf.dy.load(dy);
        if (buf.layout == BatchBuffers.Layout.SKINNY_KERNEL) {
            // Not OpenBLAS: its worker spins after each call, and on 2 cores it then took turns with
            // the kernel's helper, which halved the next base product's speed for stretches of steps.
            SkinnyProduct.transposedTimes(buf.dy, buf.h, nativeGradB, scaling);
            SkinnyProduct.times(buf.dy, factorB, buf.dh, scaling);
            SkinnyProduct.transposedTimes(buf.dh, aInput, nativeGradA, 1f);
        } else {
            nativeGradB.gemm(buf.dy, true, buf.h, false, scaling, 0f);
            buf.dh.gemm(buf.dy, false, factorB, false, scaling, 0f);
            nativeGradA.gemm(buf.dh, true, aInput, false, 1f, 0f);
        }
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
    }

    /**
     * {@code y = x W^T + b + s h B_f^T} from this forward's {@code h} and {@code factorB}, with
     * {@code weight} as W; or, when {@code baseOutput} holds {@code x W^T + b} already (the
     * frozen-base cache), only the LoRA term added to it.
     */
    void adaptedOutput(BatchBuffers buf, NativeMatrix weight, float[] baseOutput, float[] y) {
        if (baseOutput == null) {
            buf.adaptedProduct(weight, factorB, scaling, y);
            addBias(y, buf.size);
        } else {
            buf.y.load(baseOutput);
            if (buf.layout == BatchBuffers.Layout.SKINNY_KERNEL) {
                SkinnyProduct.accumulate(buf.h, factorB, scaling, buf.y, NativeBlas.threads());
            } else {
                buf.y.gemm(buf.h, false, factorB, true, scaling, 1f);
            }
            buf.y.store(y);
        }
    }

    float[] fakeQuantize(float[] factor, int rows, int cols, float[] into) {
        GroupQuantizer.fakeQuantize(factor, 0, into, 0, rows, cols, quant);
        return into;
    }

    /** {@code s B A} (unquantized factors, {@code [out, aCols]}) into {@code target}. */
    void scaledDelta(NativeMatrix target) {
        factorA.load(loraA);
        factorB.load(loraB);
        target.gemm(factorB, false, factorA, false, scaling, 0f);
    }

    void addBias(float[] y, int batchSize) {
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

    @Override
    public void close() {
        nativeWeight.close();
        factorA.close();
        factorB.close();
        nativeGradA.close();
        nativeGradB.close();
        if (nativeGradWeight != null) {
            nativeGradWeight.close();
        }
    }
}
