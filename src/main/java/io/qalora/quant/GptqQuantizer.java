package io.qalora.quant;

import static io.qalora.InvalidParameterException.require;

import io.qalora.InvalidParameterException;
import io.qalora.quant.MatrixProducts.Block;
import io.qalora.quant.MatrixProducts.Part;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar et al., 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers"), as {@code fasterquant} in the reference {@code gptq.py} and AutoGPTQ compute it
 * with act-order off and {@code static_groups=False}, on the spec's group quantizer.
 *
 * <p>For a weight {@code W [out, in]} and calibration inputs {@code X [n, in]}:
 *
 * <pre>
 * H     = 2 X^T X / n                           (double)
 * dead  = { i : H[i][i] == 0 }:  H[i][i] = 1,  W[:, i] = 0
 * H    += damp * mean(diag(H)) * I              damp = 0.01, times 10 while the Cholesky factorization
 *                                               fails (a pivot below 1e-10 of its diagonal entry)
 * U     = upper Cholesky factor of H^-1         (U^T U = H^-1)
 * for i = 0 .. in-1:
 *     if i % g == 0: fit scale, zero of every row on the current W[:, i : i+g]
 *     q   = clamp(rint(w / scale) + zero, 0, maxq),  deq = (q - zero) * scale   (float32)
 *     err = (W[:, i] - deq) / U[i][i]
 *     W[:, j] -= err * U[i][j]   for j > i
 * </pre>
 *
 * <p>The update is applied lazily in blocks of 128 columns (the paper's lazy batch updates): inside
 * a block at once, beyond it once per block as one matrix product. That changes only rounding.
 * A group is fitted on the columns as the unblocked loop has them at that moment, with every
 * earlier column's error applied. gptq.py differs where a group starts inside a block: it fits on
 * {@code W}, which it updates only at block ends, so its fit misses the errors of the block's
 * earlier columns. The two agree when every group starts a block ({@code g} a multiple of 128, or
 * one group per row).
 *
 * <p>Rows are independent, so they run in tiles on the common fork-join pool. Dominant cost:
 * {@code in^2 out / 2} multiply-adds for the updates, {@code in^2 n / 2} for {@code H} and
 * {@code in^3 / 3} for {@code U}.
 */
public final class GptqQuantizer {

    /** gptq.py's {@code percdamp} and AutoGPTQ's {@code damp_percent}. */
    public static final double DEFAULT_DAMPING = 0.01;
    /** Columns per lazy-update block, gptq.py's {@code blocksize}. */
    public static final int DEFAULT_BLOCK_SIZE = 128;
    /** Damping tries: 0.01 up to 0.01 * 10^11 of the mean diagonal. */
    static final int DAMPING_TRIES = 12;
    private static final int ROW_TILE = 64;

    private GptqQuantizer() {
    }

    /** Quantizes {@code weight [out, in]} with GPTQ on calibration inputs {@code calibration [samples, in]}. */
    public static GptqResult quantize(float[] weight, int out, int in, float[] calibration, int samples,
            QuantSpec spec) {
        checkWeight(weight, out, in);
        return quantize(weight, out, in, hessian(calibration, samples, in), spec, DEFAULT_DAMPING, DEFAULT_BLOCK_SIZE);
    }

    /**
     * Quantizes {@code weight [out, in]} with a given Hessian {@code [in, in]}, for example one
     * accumulated over several batches. Only its upper triangle is read.
     */
    public static GptqResult quantizeWithHessian(float[] weight, int out, int in, double[] hessian, QuantSpec spec) {
        return quantize(weight, out, in, hessian, spec, DEFAULT_DAMPING, DEFAULT_BLOCK_SIZE);
    }

    /**
     * {@code H = 2 X^T X / n} for {@code X = calibration [samples, in]}, row-major {@code [in, in]},
     * accumulated in double (each product of two floats is exact in double).
     */
    public static double[] hessian(float[] calibration, int samples, int in) {
        require(calibration != null, "calibration", "must not be null");
        require(samples >= 1, "samples", "must be at least 1, was " + samples);
        require(in >= 1, "inFeatures", "must be at least 1, was " + in);
        require(calibration.length == Math.multiplyExact(samples, in), "calibration",
                "has " + calibration.length + " values but [" + samples + ", " + in + "] needs " + (long) samples * in);
        requireFinite(calibration, "calibration", in);
        double[] x = new double[calibration.length];
        double[] xt = new double[calibration.length];
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < in; i++) {
                double v = calibration[s * in + i];
                x[s * in + i] = v;
                xt[i * samples + s] = v;
            }
        }
        double[] h = new double[Math.multiplyExact(in, in)];
        MatrixProducts.multiplyAdd(1, new Block(xt, 0, samples), new Block(x, 0, in), new Block(h, 0, in),
                in, in, samples, Part.UPPER, false, true);
        double factor = 2.0 / samples;
        for (int i = 0; i < in; i++) {
            for (int j = i; j < in; j++) {
                double v = h[i * in + j] * factor;
                h[i * in + j] = v;
                h[j * in + i] = v;
            }
        }
        return h;
    }

    static GptqResult quantize(float[] weight, int out, int in, double[] hessian, QuantSpec spec, double damping,
            int blockSize) {
        checkWeight(weight, out, in);
        require(spec != null, "spec", "must not be null");
        require(hessian != null && hessian.length == (long) in * in, "hessian", "must have inFeatures^2 = "
                + (long) in * in + " values");
        require(damping > 0 && blockSize >= 1, "damping", "damping must be positive and blockSize at least 1");
        double[] h = hessian.clone();
        boolean[] dead = new boolean[in];
        double trace = 0;
        for (int i = 0; i < in; i++) {
            double d = h[i * in + i];
            if (!Double.isFinite(d) || d < 0) {
                throw new InvalidParameterException("hessian", "diagonal " + i + " is " + d
                        + "; it must be finite and >= 0");
            }
            if (d == 0) {
                dead[i] = true;
                h[i * in + i] = 1;
            }
            trace += h[i * in + i];
        }
        requireFinite(h, "hessian");
        double mean = trace / in;
        double damp = damping;
        for (int attempt = 1; ; attempt++) {
            double[] damped = h.clone();
            for (int i = 0; i < in; i++) {
                damped[i * in + i] += damp * mean;
            }
            double[] u = HessianInverse.upperCholeskyOfInverse(damped, in);
            if (u != null) {
                return new GptqResult(run(weight, out, in, dead, u, spec, blockSize), damp);
            }
            if (attempt == DAMPING_TRIES) {
                throw new InvalidParameterException("hessian", "is not positive definite even with " + damp
                        + " x its mean diagonal added");
            }
            damp *= 10;
        }
    }

    private static QuantizedMatrix run(float[] weight, int out, int in, boolean[] dead, double[] u, QuantSpec spec,
            int blockSize) {
        int groups = spec.groupsPerRow(in);
        Output o = new Output(new char[out * in], new float[out * groups], new float[out * groups], new float[out * in]);
        int tiles = (out + ROW_TILE - 1) / ROW_TILE;
        IntStream.range(0, tiles).parallel().forEach(t -> {
            int r0 = t * ROW_TILE;
            new RowTile(weight, r0, Math.min(r0 + ROW_TILE, out), in, dead, u, spec, blockSize, o).run();
        });
        return new QuantizedMatrix(spec, out, in, o.codes, o.scales, o.zeros, o.dequantized);
    }

    private record Output(char[] codes, float[] scales, float[] zeros, float[] dequantized) {
    }

    /** GPTQ on rows {@code [r0, r1)}: they share nothing with other rows but {@code U}. */
    private static final class RowTile {
        private final int r0;
        private final int rows;
        private final int in;
        private final double[] u;
        private final QuantSpec spec;
        private final int blockSize;
        private final Output out;
        private final double[] w;
        private final double[] err;
        private final float[] scale;
        private final float[] zero;
        private final float[] window;

        RowTile(float[] weight, int r0, int r1, int in, boolean[] dead, double[] u, QuantSpec spec, int blockSize,
                Output out) {
            this.r0 = r0;
            this.rows = r1 - r0;
            this.in = in;
            this.u = u;
            this.spec = spec;
            this.blockSize = blockSize;
            this.out = out;
            this.w = new double[rows * in];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < in; c++) {
                    w[r * in + c] = dead[c] ? 0 : weight[(r0 + r) * in + c];
                }
            }
            this.err = new double[rows * blockSize];
            this.scale = new float[rows];
            this.zero = new float[rows];
            this.window = new float[Math.min(spec.groupSize(), in)];
        }

        void run() {
            float maxq = spec.maxq();
            for (int i1 = 0; i1 < in; i1 += blockSize) {
                int i2 = Math.min(i1 + blockSize, in);
                for (int i = i1; i < i2; i++) {
                    if (i % spec.groupSize() == 0) {
                        fitGroup(i, i1, i2);
                    }
                    double d = u[i * in + i];
                    for (int r = 0; r < rows; r++) {
                        int at = r * in + i;
                        double wi = w[at];
                        float q = GroupQuantizer.code((float) wi, scale[r], zero[r], maxq);
                        float deq = (q - zero[r]) * scale[r];
                        int global = (r0 + r) * in + i;
                        out.codes[global] = (char) q;
                        out.dequantized[global] = deq;
                        double e = (wi - deq) / d;
                        err[r * blockSize + i - i1] = e;
                        MatrixProducts.axpy(-e, u, i * in + i + 1, w, at + 1, i2 - i - 1);
                    }
                }
                MatrixProducts.multiplyAdd(-1, new Block(err, 0, blockSize), new Block(u, i1 * in + i2, in),
                        new Block(w, i2, in), rows, in - i2, i2 - i1, Part.ALL, false, false);
            }
        }

        /**
         * Fits every row's group starting at column {@code i} on its current values: columns inside
         * the block are up to date, later ones still owe the block's lazy update for columns before i.
         */
        private void fitGroup(int i, int i1, int i2) {
            int end = Math.min(i + spec.groupSize(), in);
            int groups = spec.groupsPerRow(in);
            GroupParams p = new GroupParams();
            for (int r = 0; r < rows; r++) {
                for (int c = i; c < end; c++) {
                    double v = w[r * in + c];
                    if (c >= i2) {
                        for (int k = i1; k < i; k++) {
                            v -= err[r * blockSize + k - i1] * u[k * in + c];
                        }
                    }
                    window[c - i] = (float) v;
                }
                GroupQuantizer.fit(window, 0, end - i, spec, p);
                scale[r] = p.scale;
                zero[r] = p.zero;
                int g = (r0 + r) * groups + i / spec.groupSize();
                out.scales[g] = p.scale;
                out.zeros[g] = p.zero;
            }
        }
    }

    private static void checkWeight(float[] weight, int out, int in) {
        require(weight != null, "weight", "must not be null");
        require(out >= 1, "outFeatures", "must be at least 1, was " + out);
        require(in >= 1, "inFeatures", "must be at least 1, was " + in);
        require(weight.length == (long) out * in, "weight",
                "has " + weight.length + " values but [" + out + ", " + in + "] needs " + (long) out * in);
        requireFinite(weight, "weight", in);
    }

    private static void requireFinite(float[] v, String parameter, int cols) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new InvalidParameterException(parameter, "value at row " + i / cols + ", column " + i % cols
                        + " is " + v[i] + "; all values must be finite");
            }
        }
    }

    private static void requireFinite(double[] v, String parameter) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new InvalidParameterException(parameter, "value at index " + i + " is " + v[i]
                        + "; all values must be finite");
            }
        }
    }
}
