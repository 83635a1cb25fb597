package io.qalora.quant;

/**
 * GPTQ written as plainly as possible, for tests to hold the real one against: the unblocked
 * column loop of gptq.py's {@code fasterquant} (block size 1, so every group is fitted on the
 * current, error-updated columns), {@code Hinv} as gptq.py computes it (Cholesky of H, the inverse
 * from the factor, then the upper Cholesky factor of that inverse), textbook loops throughout.
 * {@code gptq_reference.py} beside this file is the same algorithm in NumPy.
 */
final class GptqReference {

    private GptqReference() {
    }

    static QuantizedMatrix quantize(float[] weight, int out, int in, float[] x, int n, QuantSpec spec,
            double percentDamping) {
        double[][] h = new double[in][in];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < in; j++) {
                    h[i][j] += (double) x[s * in + i] * x[s * in + j];
                }
            }
        }
        double[][] w = new double[out][in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                w[o][i] = weight[o * in + i];
            }
        }
        double trace = 0;
        for (int i = 0; i < in; i++) {
            for (int j = 0; j < in; j++) {
                h[i][j] *= 2.0 / n;
            }
            if (h[i][i] == 0) {
                h[i][i] = 1;
                for (int o = 0; o < out; o++) {
                    w[o][i] = 0;
                }
            }
            trace += h[i][i];
        }
        for (int i = 0; i < in; i++) {
            h[i][i] += percentDamping * trace / in;
        }
        double[][] u = hinv(h);

        int groups = spec.groupsPerRow(in);
        char[] codes = new char[out * in];
        float[] scales = new float[out * groups];
        float[] zeros = new float[out * groups];
        float[] deq = new float[out * in];
        GroupParams p = new GroupParams();
        for (int i = 0; i < in; i++) {
            int g = i / spec.groupSize();
            for (int o = 0; o < out; o++) {
                if (i % spec.groupSize() == 0) {
                    int end = Math.min(i + spec.groupSize(), in);
                    float[] window = new float[end - i];
                    for (int c = i; c < end; c++) {
                        window[c - i] = (float) w[o][c];
                    }
                    GroupQuantizer.fit(window, 0, window.length, spec, p);
                    scales[o * groups + g] = p.scale;
                    zeros[o * groups + g] = p.zero;
                }
                float scale = scales[o * groups + g];
                float zero = zeros[o * groups + g];
                float q = GroupQuantizer.code((float) w[o][i], scale, zero, spec.maxq());
                float d = (q - zero) * scale;
                codes[o * in + i] = (char) q;
                deq[o * in + i] = d;
                double err = (w[o][i] - d) / u[i][i];
                for (int j = i + 1; j < in; j++) {
                    w[o][j] -= err * u[i][j];
                }
            }
        }
        return new QuantizedMatrix(spec, out, in, codes, scales, zeros, deq);
    }

    /** {@code cholesky(cholesky_inverse(cholesky(H)), upper=True)}. */
    static double[][] hinv(double[][] h) {
        int n = h.length;
        double[][] lInv = invertLower(cholesky(h));
        double[][] inverse = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += lInv[k][i] * lInv[k][j];
                }
                inverse[i][j] = s;
            }
        }
        double[][] l = cholesky(inverse);
        double[][] upper = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                upper[i][j] = l[j][i];
            }
        }
        return upper;
    }

    /** Lower {@code L} with {@code L L^T = a} (Cholesky-Banachiewicz). */
    static double[][] cholesky(double[][] a) {
        int n = a.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        throw new ArithmeticException("not positive definite at " + i);
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        return l;
    }

    static double[][] invertLower(double[][] l) {
        int n = l.length;
        double[][] inv = new double[n][n];
        for (int j = 0; j < n; j++) {
            inv[j][j] = 1 / l[j][j];
            for (int i = j + 1; i < n; i++) {
                double s = 0;
                for (int k = j; k < i; k++) {
                    s -= l[i][k] * inv[k][j];
                }
                inv[i][j] = s / l[i][i];
            }
        }
        return inv;
    }

    /** {@code ||X W^T - X D^T||_F^2}: the layer-output error GPTQ minimizes, on the calibration rows. */
    static double outputError(float[] w, float[] deq, int out, int in, float[] x, int n) {
        double total = 0;
        for (int s = 0; s < n; s++) {
            for (int o = 0; o < out; o++) {
                double e = 0;
                for (int i = 0; i < in; i++) {
                    e += (double) x[s * in + i] * ((double) w[o * in + i] - deq[o * in + i]);
                }
                total += e * e;
            }
        }
        return total;
    }
}
