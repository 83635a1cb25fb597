package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.function.Function;

/** Gradient checks in double precision: central differences against the adapter's analytic gradients. */
final class FiniteDifferences {

    private FiniteDifferences() {
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** Central differences of {@code loss} with respect to every element of {@code p}. */
    static double[] numericGradient(double[] p, Function<double[], Double> loss) {
        double h = 1e-6;
        double[] grad = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            double keep = p[i];
            p[i] = keep + h;
            double up = loss.apply(p);
            p[i] = keep - h;
            double down = loss.apply(p);
            p[i] = keep;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    static void assertClose(float[] analytic, double[] numeric) {
        assertThat(analytic).hasSize(numeric.length);
        for (int i = 0; i < numeric.length; i++) {
            assertThat((double) analytic[i]).as("element %d", i)
                    .isCloseTo(numeric[i], within(1e-4 + 1e-4 * Math.abs(numeric[i])));
        }
    }
}
