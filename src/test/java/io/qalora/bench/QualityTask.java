package io.qalora.bench;

import io.qalora.lora.Dataset;
import io.qalora.lora.LayerOutputs;
import io.qalora.tensor.DenseLayer;
import java.util.SplittableRandom;

/**
 * A synthetic teacher task for deployed-quality studies: a frozen layer {@code W}, a rank-8 teacher
 * change {@code W* = W + U V / sqrt(8 in)}, and inputs that are either isotropic or, like real
 * activations, concentrated in a few directions (16 strong directions plus isotropic noise of
 * standard deviation 0.5). Regression targets are the teacher's outputs; class labels are the
 * arg-max of its first {@link #CLASSES} outputs, with every weight scaled by 4 so the teacher is
 * confident.
 */
record QualityTask(String name, DenseLayer base, Dataset train, Dataset validation) {

    enum Kind { REGRESSION, CLASSIFICATION }

    enum Inputs { CORRELATED, ISOTROPIC }

    private static final int TEACHER_RANK = 8;
    private static final int STRONG_DIRECTIONS = 16;
    /** Labels are the arg-max of the teacher's first 16 outputs, so 2048 rows hold enough of each class. */
    static final int CLASSES = 16;

    static QualityTask of(Kind kind, Inputs inputs, int size, int trainRows, int validationRows, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double logitScale = kind == Kind.CLASSIFICATION ? 4 : 1;
        int in = size;
        int out = size;
        float[] w = gaussian(out * in, logitScale / Math.sqrt(in), random);
        float[] b = gaussian(out, 0.1 * logitScale, random);
        float[] u = gaussian(out * TEACHER_RANK, 1, random);
        float[] v = gaussian(TEACHER_RANK * in, 1, random);
        float[] teacher = w.clone();
        double norm = logitScale / Math.sqrt((double) TEACHER_RANK * in);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double d = 0;
                for (int k = 0; k < TEACHER_RANK; k++) {
                    d += u[o * TEACHER_RANK + k] * v[k * in + i];
                }
                teacher[o * in + i] += (float) (d * norm);
            }
        }
        float[] mix = inputs == Inputs.CORRELATED ? gaussian(STRONG_DIRECTIONS * in, 1 / Math.sqrt(STRONG_DIRECTIONS),
                random) : null;
        DenseLayer teacherLayer = new DenseLayer(out, in, teacher, b);
        String name = kind.name().toLowerCase() + "/" + inputs.name().toLowerCase() + "/" + size;
        return new QualityTask(name, new DenseLayer(out, in, w, b), rows(kind, teacherLayer, mix, trainRows, random),
                rows(kind, teacherLayer, mix, validationRows, random));
    }

    private static Dataset rows(Kind kind, DenseLayer teacher, float[] mix, int rows, SplittableRandom random) {
        int in = teacher.inFeatures();
        int out = teacher.outFeatures();
        float[] x = gaussian(rows * in, mix == null ? 1 : 0.5, random);
        if (mix != null) {
            float[] z = gaussian(rows * STRONG_DIRECTIONS, 1, random);
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < STRONG_DIRECTIONS; k++) {
                    float zk = z[r * STRONG_DIRECTIONS + k];
                    for (int i = 0; i < in; i++) {
                        x[r * in + i] += zk * mix[k * in + i];
                    }
                }
            }
        }
        float[] y = LayerOutputs.compute(teacher, x, rows);
        if (kind == Kind.REGRESSION) {
            return Dataset.regression(x, y, rows, in, out);
        }
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int o = 1; o < CLASSES; o++) {
                if (y[r * out + o] > y[r * out + best]) {
                    best = o;
                }
            }
            labels[r] = best;
        }
        return Dataset.classification(x, labels, rows, in, out);
    }

    private static float[] gaussian(int n, double std, SplittableRandom random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - random.nextDouble()))
                    * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return v;
    }
}
