package io.qalora.lora;

import io.qalora.tensor.DenseLayer;
import java.util.SplittableRandom;

/** Seeded random layers and the synthetic teacher tasks the engine tests train on. */
final class Fixtures {

    private Fixtures() {
    }

    static float[] gaussian(int n, double std, SplittableRandom random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (nextGaussian(random) * std);
        }
        return v;
    }

    static double nextGaussian(SplittableRandom random) {
        double u = random.nextDouble();
        double w = random.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }

    static DenseLayer layer(int out, int in, boolean bias, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return new DenseLayer(out, in, gaussian(out * in, 1 / Math.sqrt(in), random),
                bias ? gaussian(out, 0.1, random) : null);
    }

    /** The base plus a rank-{@code deltaRank} change: the weights that made a teacher task's targets. */
    static float[] teacherWeight(DenseLayer base, int deltaRank, double strength, long seed) {
        // Groups of one column: every column its own, the same draws and sums.
        return pooledTeacherWeight(base, deltaRank, 1, strength, seed);
    }

    /**
     * The base plus a rank-{@code deltaRank} change that is constant over each group of {@code g}
     * input columns: what a POOLED_ZERO_POINT adapter, whose A reads group sums, can express.
     */
    static float[] pooledTeacherWeight(DenseLayer base, int deltaRank, int g, double strength, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int out = base.outFeatures();
        int in = base.inFeatures();
        int groups = in / g;
        float[] u = gaussian(out * deltaRank, 1, random);
        float[] v = gaussian(deltaRank * groups, 1, random);
        float[] w = base.weight().clone();
        double scale = strength / Math.sqrt(deltaRank * in);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double sum = 0;
                for (int k = 0; k < deltaRank; k++) {
                    sum += u[o * deltaRank + k] * v[k * groups + i / g];
                }
                w[o * in + i] += (float) (sum * scale);
            }
        }
        return w;
    }

    /** Regression rows {@code y = x T^T + b} for the teacher weights {@code T}. */
    static Dataset regression(DenseLayer base, float[] teacher, int rows, long seed) {
        int in = base.inFeatures();
        int out = base.outFeatures();
        float[] x = gaussian(rows * in, 1, new SplittableRandom(seed));
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = base.bias() == null ? 0 : base.bias()[o];
                for (int i = 0; i < in; i++) {
                    sum += (double) x[r * in + i] * teacher[o * in + i];
                }
                y[r * out + o] = (float) sum;
            }
        }
        return Dataset.regression(x, y, rows, in, out);
    }

    /** Labels {@code argmax(x T^T)}: linearly separable by construction. */
    static Dataset classification(float[] teacher, int out, int in, int rows, long seed) {
        float[] x = gaussian(rows * in, 1, new SplittableRandom(seed));
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int o = 0; o < out; o++) {
                double sum = 0;
                for (int i = 0; i < in; i++) {
                    sum += (double) x[r * in + i] * teacher[o * in + i];
                }
                if (sum > best) {
                    best = sum;
                    labels[r] = o;
                }
            }
        }
        return Dataset.classification(x, labels, rows, in, out);
    }
}
