package io.qalora.job;

import io.qalora.lora.Dataset;
import java.util.SplittableRandom;

/**
 * The calibration inputs of a GPTQ merge: the job's training inputs (or a merge's calibration
 * dataset), or a seeded sample of {@value #MAX_ROWS} of them, which bounds the Hessian's cost
 * ({@code rows x in^2}).
 */
record Calibration(float[] inputs, int rows) {

    static final int MAX_ROWS = 1024;

    static Calibration of(Dataset training, long seed) {
        return of(training.inputs(), training.rows(), training.inFeatures(), seed);
    }

    /** From {@code inputs [n, in]}. */
    static Calibration of(float[] inputs, int n, int in, long seed) {
        if (n <= MAX_ROWS) {
            return new Calibration(inputs, n);
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        float[] sample = new float[MAX_ROWS * in];
        for (int i = 0; i < MAX_ROWS; i++) {
            int j = i + random.nextInt(n - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
            System.arraycopy(inputs, order[i] * in, sample, i * in, in);
        }
        return new Calibration(sample, MAX_ROWS);
    }
}
