package io.qalora.lora;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters in place from their gradients. Adam follows PyTorch's {@code torch.optim.Adam}
 * (Kingma and Ba, 2015) exactly: {@code p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)} with the
 * bias corrections {@code bc = 1 - beta^t}. Each training run makes its own optimizer, so its
 * moment buffers are never shared between runs.
 */
abstract class Optimizer {

    static Optimizer create(TrainingConfig.OptimizerKind kind, double learningRate) {
        return kind == TrainingConfig.OptimizerKind.ADAM ? new Adam(learningRate, 0.9, 0.999, 1e-8) : sgd(learningRate);
    }

    static Optimizer sgd(double learningRate) {
        return new Sgd(learningRate);
    }

    abstract void step(List<Parameter> params);

    /** Sets the step size of the following steps (a schedule's value). */
    abstract void learningRate(double learningRate);

    private static final class Sgd extends Optimizer {
        private float lr;

        Sgd(double lr) {
            this.lr = (float) lr;
        }

        @Override
        void learningRate(double learningRate) {
            lr = (float) learningRate;
        }

        @Override
        void step(List<Parameter> params) {
            for (Parameter p : params) {
                float[] v = p.value();
                float[] g = p.gradient();
                for (int i = 0; i < v.length; i++) {
                    v[i] -= lr * g[i];
                }
            }
        }
    }

    private static final class Adam extends Optimizer {
        private double lr;
        private final float beta1;
        private final float beta2;
        private final float eps;
        private final Map<String, float[][]> moments = new HashMap<>();
        private int t;

        Adam(double lr, double beta1, double beta2, double eps) {
            this.lr = lr;
            this.beta1 = (float) beta1;
            this.beta2 = (float) beta2;
            this.eps = (float) eps;
        }

        @Override
        void learningRate(double learningRate) {
            lr = learningRate;
        }

        @Override
        void step(List<Parameter> params) {
            t++;
            double bc1 = 1 - Math.pow(beta1, t);
            double bc2 = 1 - Math.pow(beta2, t);
            float stepSize = (float) (lr / bc1);
            float bc2Sqrt = (float) Math.sqrt(bc2);
            for (Parameter p : params) {
                float[][] mv = moments.computeIfAbsent(p.name(), k -> new float[][] {
                        new float[p.value().length], new float[p.value().length]});
                float[] m = mv[0];
                float[] v = mv[1];
                float[] value = p.value();
                float[] g = p.gradient();
                for (int i = 0; i < value.length; i++) {
                    float gi = g[i];
                    m[i] = beta1 * m[i] + (1 - beta1) * gi;
                    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                    value[i] -= stepSize * m[i] / ((float) Math.sqrt(v[i]) / bc2Sqrt + eps);
                }
            }
        }
    }
}
