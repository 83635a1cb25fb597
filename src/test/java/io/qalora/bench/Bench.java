package io.qalora.bench;

import io.qalora.lora.Dataset;
import io.qalora.lora.LayerOutputs;
import io.qalora.lora.NativeBlas;
import io.qalora.lora.QaLoraAdapter;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.Trainer;
import io.qalora.lora.TrainingConfig;
import io.qalora.lora.TrainingListener;
import io.qalora.quant.QuantSpec;
import io.qalora.tensor.DenseLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The engine side of {@code ../shared/bench/torch_peer.py}: the same workloads, shapes and
 * hyperparameters, printing the same JSON lines ({@code workload, metric, value, unit, threads}).
 * Not a test: run it through the README's bench command.
 *
 * <pre>args: [--threads 1,2] [--only NAME] [--quick]</pre>
 */
public final class Bench {

    private record StepWorkload(String name, int features, int batch, int rank, int group, QuantizationTarget target) {
    }

    private static final List<StepWorkload> STEPS = List.of(
            new StepWorkload("step-1024", 1024, 64, 8, 64, QuantizationTarget.LORA_FACTORS),
            new StepWorkload("step-1024-merged", 1024, 64, 8, 64, QuantizationTarget.MERGED_WEIGHTS),
            new StepWorkload("step-4096", 4096, 32, 16, 128, QuantizationTarget.LORA_FACTORS),
            new StepWorkload("step-4096-merged", 4096, 32, 16, 128, QuantizationTarget.MERGED_WEIGHTS));

    private Bench() {
    }

    public static void main(String[] args) {
        int[] threads = {1, 2};
        String only = null;
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--only" -> only = args[++i];
                case "--quick" -> quick = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        System.err.println("OpenBLAS kernels: " + NativeBlas.kernels() + "; skinny-product kernel: " + NativeBlas.skinnyKernel());
        for (int t : threads) {
            NativeBlas.setThreads(t);
            run(only, quick, t);
        }
    }

    private static void run(String only, boolean quick, int threads) {
        int reps = quick ? 5 : 20;
        for (StepWorkload w : STEPS) {
            if (only == null || only.equals(w.name)) {
                int wReps = w.target == QuantizationTarget.MERGED_WEIGHTS && quick ? 3 : reps;
                emit(w.name, "step_time", stepTime(w, wReps) * 1e3, "ms", threads);
            }
        }
        if (only == null || only.equals("job-4096")) {
            emit("job-4096", "job_time", jobTime(quick ? 1 : 3), "s", threads);
        }
        if (only == null || only.equals("merge-4096")) {
            emit("merge-4096", "merge_time", mergeTime(quick ? 3 : 5) * 1e3, "ms", threads);
        }
    }

    /** nn.Linear's default init for W and b, and targets from W plus a rank-4 change, as the peer makes them. */
    private static DenseLayer linear(int features, SplittableRandom random) {
        double bound = 1 / Math.sqrt(features);
        float[] w = uniform(features * features, bound, random);
        float[] b = uniform(features, bound, random);
        return new DenseLayer(features, features, w, b);
    }

    private static Dataset teacherData(DenseLayer base, int rows, SplittableRandom random) {
        int n = base.inFeatures();
        float[] x = gaussian(rows * n, random);
        float[] u = gaussian(n * 4, random);
        float[] v = gaussian(4 * n, random);
        double scale = 0.3 / Math.sqrt(4.0 * n);
        float[] teacher = base.weight().clone();
        for (int o = 0; o < n; o++) {
            for (int i = 0; i < n; i++) {
                teacher[o * n + i] += (float) (scale * (u[o * 4] * v[i] + u[o * 4 + 1] * v[n + i]
                        + u[o * 4 + 2] * v[2 * n + i] + u[o * 4 + 3] * v[3 * n + i]));
            }
        }
        float[] y = LayerOutputs.compute(new DenseLayer(n, n, teacher, base.bias()), x, rows);
        return Dataset.regression(x, y, rows, n, n);
    }

    private static TrainingConfig.Builder config(int rank, int group, QuantizationTarget target) {
        return TrainingConfig.builder().rank(rank).alpha(2.0 * rank).quant(new QuantSpec(4, group, false))
                .target(target).learningRate(1e-3).seed(0);
    }

    /**
     * Median wall time of one optimizer step, after 3 warm-up steps, in a second training run: the
     * first compiles the step's Java loops (on 2 cores the JIT needed 10-15 steps of step-4096 to
     * settle), as the job and merge workloads discard their first run.
     */
    private static double stepTime(StepWorkload w, int reps) {
        SplittableRandom random = new SplittableRandom(0);
        DenseLayer base = linear(w.features, random);
        Dataset data = teacherData(base, w.batch, random);
        List<Double> seconds = new ArrayList<>();
        // One batch per epoch, so each epoch is one step; recomputing x W^T every step as the peer does.
        TrainingConfig cfg = config(w.rank, w.group, w.target).epochs(reps + 3).batchSize(w.batch)
                .cacheBaseOutputs(false).build();
        new Trainer().train(base, data, cfg, TrainingListener.NONE).adapter().close();
        new Trainer().train(base, data, cfg, new TrainingListener() {
            @Override
            public void onStep(StepEvent event) {
                if (event.step() > 3) {
                    seconds.add(event.stepSeconds());
                }
            }
        }).adapter().close();
        return median(seconds);
    }

    /** Median wall time of the whole job-4096 training run (1024 samples, batch 32, 5 epochs). */
    private static double jobTime(int reps) {
        SplittableRandom random = new SplittableRandom(0);
        DenseLayer base = linear(4096, random);
        Dataset data = teacherData(base, 1024, random);
        TrainingConfig cfg = config(16, 128, QuantizationTarget.LORA_FACTORS).epochs(5).batchSize(32).build();
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i < reps + 1; i++) {
            long start = System.nanoTime();
            new Trainer().train(base, data, cfg, TrainingListener.NONE).adapter().close();
            if (i > 0 || reps == 1) {
                seconds.add((System.nanoTime() - start) / 1e9);
            }
        }
        return median(seconds);
    }

    /** Median wall time of W + s B A then quantizing it (codes, scales, zeros, dequantized). */
    private static double mergeTime(int reps) {
        SplittableRandom random = new SplittableRandom(0);
        float[] w = scaled(gaussian(4096 * 4096, random), 1 / 64f);
        float[] a = scaled(gaussian(16 * 4096, random), 1 / 64f);
        float[] b = scaled(gaussian(4096 * 16, random), 1 / 64f);
        List<Double> seconds = new ArrayList<>();
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(new DenseLayer(4096, 4096, w, null)).rank(16).alpha(32)
                .quantizationBits(4).groupSize(128).factors(a, b).build()) {
            for (int i = 0; i < reps + 1; i++) {
                long start = System.nanoTime();
                adapter.mergeToOriginalLayer();
                if (i > 0) {
                    seconds.add((System.nanoTime() - start) / 1e9);
                }
            }
        }
        return median(seconds);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static float[] uniform(int n, double bound, SplittableRandom random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-bound, bound);
        }
        return v;
    }

    private static float[] gaussian(int n, SplittableRandom random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return v;
    }

    private static float[] scaled(float[] v, float factor) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= factor;
        }
        return v;
    }

    private static void emit(String workload, String metric, double value, String unit, int threads) {
        System.out.printf(Locale.ROOT, "{\"workload\": \"%s\", \"metric\": \"%s\", \"value\": %.4f, \"unit\": \"%s\", \"threads\": %d}%n",
                workload, metric, value, unit, threads);
        System.out.flush();
    }
}
