package io.qalora.quant;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Wall-clock time of {@link GptqQuantizer} on square layers with 1024 calibration rows. Not a test;
 * after {@code ./mvnw test-compile}:
 *
 * <pre>java -Xmx2g -cp target/classes:target/test-classes io.qalora.quant.GptqTiming [features...]</pre>
 */
public final class GptqTiming {

    private GptqTiming() {
    }

    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[] {1024, 4096} : java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        int samples = 1024;
        QuantSpec spec = new QuantSpec(4, 128, false);
        for (int size : sizes) {
            SplittableRandom random = new SplittableRandom(size);
            float[] w = GptqQuantizerTests.gaussian(size * size, random);
            float[] x = GptqQuantizerTests.correlated(samples, size, random);
            for (int rep = 0; rep < 2; rep++) {
                long t0 = System.nanoTime();
                double[] h = GptqQuantizer.hessian(x, samples, size);
                long t1 = System.nanoTime();
                GptqResult r = GptqQuantizer.quantizeWithHessian(w, size, size, h, spec);
                long t2 = System.nanoTime();
                QuantErrorStats stats = QuantErrorStats.of(w, r.matrix());
                System.out.printf(Locale.ROOT, "%dx%d n=%d threads=%d: hessian %.2f s, factor + quantize %.2f s, total %.2f s"
                        + " (relative error %.4f, SQNR %.2f dB)%n", size, size, samples,
                        Runtime.getRuntime().availableProcessors(), (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t2 - t0) / 1e9,
                        stats.relativeError(), stats.sqnrDb());
            }
        }
    }
}
