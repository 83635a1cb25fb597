package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.tensor.DenseLayer;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs whole QA-LoRA training runs: mini-batches of a per-epoch shuffle drawn from the seed, a
 * loss (MSE or cross-entropy, from the dataset's kind), the straight-through backward pass,
 * optional global-norm clipping, and Adam or SGD. A trainer holds no state of its own: each run
 * makes its adapter, optimizer and random streams, so one trainer serves many threads.
 */
public final class Trainer {

    /** Above this many bytes of {@code x W^T + b} the frozen-base cache is skipped. */
    private final long baseCacheBudgetBytes;

    public Trainer() {
        this(512L << 20);
    }

    public Trainer(long baseCacheBudgetBytes) {
        this.baseCacheBudgetBytes = baseCacheBudgetBytes;
    }

    /** Trains an adapter on {@code base} with {@code data}; the caller closes the result's adapter. */
    public TrainingResult train(DenseLayer base, Dataset data, TrainingConfig config, TrainingListener listener) {
        require(data.inFeatures() == base.inFeatures(), "inFeatures",
                "dataset has " + data.inFeatures() + " input features, the layer " + base.inFeatures());
        require(data.outFeatures() == base.outFeatures(), "outFeatures",
                "dataset has " + data.outFeatures() + " outputs, the layer " + base.outFeatures());
        QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(config.rank()).alpha(config.alpha())
                .rsLora(config.rsLora()).quantSpec(config.quant()).quantizationTarget(config.target())
                .freezeBaseLayer(config.freezeBaseLayer()).seed(config.seed()).build();
        try {
            return new Run(adapter, data, config, listener).execute();
        } catch (RuntimeException | Error e) {
            adapter.close();
            throw e;
        }
    }

    /** One run's mutable state, never shared. */
    private final class Run {
        private final QaLoraAdapter adapter;
        private final Dataset data;
        private final TrainingConfig config;
        private final TrainingListener listener;
        private final Optimizer optimizer;
        private final List<Parameter> params;
        private final int in;
        private final int out;
        private final boolean pooled;

        Run(QaLoraAdapter adapter, Dataset data, TrainingConfig config, TrainingListener listener) {
            this.adapter = adapter;
            this.data = data;
            this.config = config;
            this.listener = listener;
            this.optimizer = Optimizer.create(config.optimizer(), config.learningRate());
            this.params = adapter.parameters();
            this.in = data.inFeatures();
            this.out = data.outFeatures();
            this.pooled = config.target() == QuantizationTarget.POOLED_ZERO_POINT;
        }

        TrainingResult execute() {
            long started = System.nanoTime();
            int n = data.rows();
            int batch = Math.min(config.batchSize(), n);
            float[] baseOutputs = baseOutputCache();
            // A split stream for the shuffles, so they do not depend on how A's init used the seed.
            SplittableRandom shuffles = new SplittableRandom(config.seed()).split();
            int[] order = identity(n);
            float[] x = new float[batch * in];
            float[] y = new float[batch * out];
            float[] dy = new float[batch * out];
            float[] baseRows = baseOutputs == null ? null : new float[batch * out];
            long totalSteps = config.totalSteps(n);
            double[] epochLosses = new double[config.epochs()];
            long step = 0;
            for (int epoch = 0; epoch < config.epochs(); epoch++) {
                shuffle(order, shuffles);
                double lossSum = 0;
                for (int from = 0; from < n; from += batch) {
                    if (listener.cancelled()) {
                        throw new TrainingCancelledException(step);
                    }
                    long stepStart = System.nanoTime();
                    // The last batch may be smaller; the buffers stay full-size and only a prefix is used.
                    int size = Math.min(batch, n - from);
                    gather(data.inputs(), in, order, from, size, x);
                    boolean quantize = config.quantizationEnabled() && step >= config.quantizationWarmupSteps();
                    // A pooled base is deq(W) only while quantizing: a warm-up step recomputes x W^T.
                    boolean cached = baseOutputs != null
                            && (!pooled || quantize == config.quantizationEnabled());
                    if (cached) {
                        gather(baseOutputs, out, order, from, size, baseRows);
                    }
                    adapter.setQuantizationEnabled(quantize);
                    double learningRate = config.learningRate() * config.schedule().factor(step, totalSteps);
                    optimizer.learningRate(learningRate);
                    adapter.forward(x, size, cached ? baseRows : null, y);
                    double loss = Loss.compute(data, order, from, size, y, dy);
                    if (!Double.isFinite(loss)) {
                        throw new TrainingDivergedException(step + 1, loss);
                    }
                    adapter.backward(dy, false);
                    clipGradients();
                    optimizer.step(params);
                    adapter.parametersChanged();
                    step++;
                    lossSum += loss * size;
                    double seconds = (System.nanoTime() - stepStart) / 1e9;
                    listener.onStep(new TrainingListener.StepEvent(step, totalSteps, epoch + 1, loss, size,
                            size / seconds, seconds, quantize, learningRate));
                }
                epochLosses[epoch] = lossSum / n;
                listener.onEpoch(new TrainingListener.EpochEvent(epoch + 1, config.epochs(), epochLosses[epoch], step));
            }
            adapter.setQuantizationEnabled(config.quantizationEnabled());
            return new TrainingResult(adapter, step, epochLosses, System.nanoTime() - started, baseOutputs != null);
        }

        /**
         * {@code x W^T + b} of every row, when the base is frozen and the cache fits its budget;
         * for POOLED_ZERO_POINT with quantization on, {@code x deq(W)^T + b}, the base it trains against.
         */
        private float[] baseOutputCache() {
            if (!config.freezeBaseLayer() || !config.cacheBaseOutputs()) {
                return null;
            }
            boolean mergedAlways = config.target() == QuantizationTarget.MERGED_WEIGHTS
                    && config.quantizationEnabled() && config.quantizationWarmupSteps() == 0;
            if (mergedAlways) {
                return null;
            }
            long bytes = (long) data.rows() * out * Float.BYTES;
            if (bytes > baseCacheBudgetBytes) {
                listener.onNote("base outputs not cached: " + bytes + " bytes exceed the budget of "
                        + baseCacheBudgetBytes + "; x W^T is recomputed every step");
                return null;
            }
            boolean dequantized = pooled && config.quantizationEnabled();
            listener.onNote("base outputs cached: " + (dequantized ? "x deq(W)^T + b" : "x W^T + b")
                    + " computed once for " + data.rows() + " rows (" + bytes + " bytes)");
            return adapter.baseOutputs(data.inputs(), data.rows(), config.quantizationEnabled());
        }

        /** Scales every gradient so their global L2 norm is at most maxGradNorm (PyTorch's clip_grad_norm_). */
        private void clipGradients() {
            if (config.maxGradNorm() <= 0) {
                return;
            }
            double sumSquares = 0;
            for (Parameter p : params) {
                for (float g : p.gradient()) {
                    sumSquares += (double) g * g;
                }
            }
            double norm = Math.sqrt(sumSquares);
            double coefficient = config.maxGradNorm() / (norm + 1e-6);
            if (coefficient < 1) {
                float c = (float) coefficient;
                for (Parameter p : params) {
                    float[] g = p.gradient();
                    for (int i = 0; i < g.length; i++) {
                        g[i] *= c;
                    }
                }
            }
        }
    }

    static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    /** Fisher-Yates over the whole array. */
    private static void shuffle(int[] order, SplittableRandom random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    private static void gather(float[] source, int width, int[] order, int from, int size, float[] dst) {
        for (int r = 0; r < size; r++) {
            System.arraycopy(source, order[from + r] * width, dst, r * width, width);
        }
    }
}
