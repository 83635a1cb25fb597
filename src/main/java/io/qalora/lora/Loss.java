package io.qalora.lora;

/**
 * The training loss of a batch and its gradient with respect to the layer's output: mean squared
 * error over every output element for regression targets (PyTorch's {@code MSELoss}), softmax
 * cross-entropy averaged over rows for class labels ({@code CrossEntropyLoss}).
 */
final class Loss {

    private Loss() {
    }

    /**
     * Loss of {@code y [batch, out]} against the dataset rows {@code rows[from..from+batch)}; writes
     * dLoss/dy into {@code dy} when it is not null.
     */
    static double compute(Dataset data, int[] rows, int from, int batch, float[] y, float[] dy) {
        return data.kind() == Dataset.Kind.REGRESSION
                ? meanSquaredError(data, rows, from, batch, y, dy)
                : crossEntropy(data, rows, from, batch, y, dy);
    }

    private static double meanSquaredError(Dataset data, int[] rows, int from, int batch, float[] y, float[] dy) {
        int out = data.outFeatures();
        float[] targets = data.targets();
        double sum = 0;
        float gradScale = 2f / (batch * out);
        for (int r = 0; r < batch; r++) {
            int t = rows[from + r] * out;
            for (int o = 0; o < out; o++) {
                float diff = y[r * out + o] - targets[t + o];
                sum += (double) diff * diff;
                if (dy != null) {
                    dy[r * out + o] = gradScale * diff;
                }
            }
        }
        return sum / ((double) batch * out);
    }

    private static double crossEntropy(Dataset data, int[] rows, int from, int batch, float[] y, float[] dy) {
        int out = data.outFeatures();
        double sum = 0;
        for (int r = 0; r < batch; r++) {
            int base = r * out;
            int label = data.labels()[rows[from + r]];
            float max = Float.NEGATIVE_INFINITY;
            for (int o = 0; o < out; o++) {
                max = Math.max(max, y[base + o]);
            }
            double norm = 0;
            for (int o = 0; o < out; o++) {
                norm += Math.exp(y[base + o] - max);
            }
            double logNorm = Math.log(norm) + max;
            sum += logNorm - y[base + label];
            if (dy != null) {
                for (int o = 0; o < out; o++) {
                    double p = Math.exp(y[base + o] - logNorm);
                    dy[base + o] = (float) ((p - (o == label ? 1 : 0)) / batch);
                }
            }
        }
        return sum / batch;
    }

    /** Rows of {@code y [batch, out]} whose largest output is the row's label. */
    static int correct(Dataset data, int[] rows, int from, int batch, float[] y) {
        int out = data.outFeatures();
        int hits = 0;
        for (int r = 0; r < batch; r++) {
            int best = 0;
            for (int o = 1; o < out; o++) {
                if (y[r * out + o] > y[r * out + best]) {
                    best = o;
                }
            }
            hits += best == data.labels()[rows[from + r]] ? 1 : 0;
        }
        return hits;
    }
}
