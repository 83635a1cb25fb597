package io.qalora.flow;

import io.qalora.tensor.DenseLayer;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** A small synthetic task as safetensors files: a base layer, and rows from the base plus a low-rank change. */
final class TeacherTask {

    final int in;
    final int out;
    final DenseLayer base;
    final float[] teacher;

    TeacherTask(int out, int in, long seed) {
        this(out, in, 1, 1.0, seed);
    }

    /**
     * A task whose rank-2 change, {@code strength} times the usual, is constant over each group of
     * {@code g} inputs, as a pooled adapter's is.
     */
    TeacherTask(int out, int in, int g, double strength, long seed) {
        this.in = in;
        this.out = out;
        int groups = in / g;
        SplittableRandom random = new SplittableRandom(seed);
        float[] w = gaussian(out * in, 1 / Math.sqrt(in), random);
        float[] b = gaussian(out, 0.1, random);
        this.base = new DenseLayer(out, in, w, b);
        float[] u = gaussian(out * 2, 1, random);
        float[] v = gaussian(2 * groups, 1, random);
        this.teacher = w.clone();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                teacher[o * in + i] += (float) (strength * (u[o * 2] * v[i / g] + u[o * 2 + 1] * v[groups + i / g])
                        / Math.sqrt(2.0 * in));
            }
        }
    }

    /** The inputs {@link #regressionFile} draws for {@code seed}. */
    float[] inputs(int rows, long seed) {
        return gaussian(rows * in, 1, new SplittableRandom(seed));
    }

    byte[] layerFile() {
        return SafetensorsWriter.toBytes(Map.of(), base.toTensors());
    }

    /** Regression rows {@code y = x T^T + b}. */
    byte[] regressionFile(int rows, long seed) {
        float[] x = gaussian(rows * in, 1, new SplittableRandom(seed));
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = base.bias()[o];
                for (int i = 0; i < in; i++) {
                    sum += (double) x[r * in + i] * teacher[o * in + i];
                }
                y[r * out + o] = (float) sum;
            }
        }
        return SafetensorsWriter.toBytes(Map.of(), List.of(Tensor.f32("inputs", new int[] {rows, in}, x),
                Tensor.f32("targets", new int[] {rows, out}, y)));
    }

    static float[] gaussian(int n, double std, SplittableRandom random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return v;
    }
}
