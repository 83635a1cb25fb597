package io.qalora.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * "GPTQ is never worse than RTN on its calibration data" is false instance by instance: GPTQ is a
 * greedy heuristic (see {@code GptqQuantizerTests.gptqCanLoseToRtnOnATinyInstance}). Measured with
 * this class's generators, on {@code ||X W^T - X deq^T||^2}:
 *
 * <ul>
 *   <li>tiny layers (in 1..24, i.i.d. inputs, n below and above in): GPTQ worse on 6.3% of 3000
 *       instances, by up to 2.2x; 7% even without groups, so it is not the group refit. The worst cases are tiny
 *       symmetric groups, whose grid is refitted on the error-updated values it then quantizes;
 *   <li>realistic layers (in 32..80, n >= 4 in, inputs driven by shared factors as activations
 *       are): worse on 1 of 2000 instances, by 0.84%; the mean ratio over 4 layers was at
 *       most 0.50 in 400 batches.
 * </ul>
 *
 * <p>So the properties assert what holds robustly: a median over a batch of tiny layers, and a mean
 * ratio over a batch of realistic ones. Each try draws its batch from one seed, so jqwik's edge
 * cases cannot fill a batch with the one shape GPTQ handles worst.
 */
class GptqQuantizerProperties {

    record Layer(float[] w, int out, int in, float[] x, int n, QuantSpec spec) {

        /** GPTQ's and RTN's output error, a tie when both are within rounding of zero. */
        double[] errors() {
            double gptq = GptqReference.outputError(w, GptqQuantizer.quantize(w, out, in, x, n, spec).matrix().dequantized(),
                    out, in, x, n);
            double rtn = GptqReference.outputError(w, GroupQuantizer.quantize(w, out, in, spec).dequantized(), out, in, x, n);
            double tiny = 1e-9 * GptqReference.outputError(w, new float[w.length], out, in, x, n) + 1e-30;
            return new double[] {Math.max(gptq, tiny), Math.max(rtn, tiny)};
        }
    }

    static Layer tinyLayer(SplittableRandom r) {
        int out = r.nextInt(1, 5);
        int in = r.nextInt(1, 25);
        int n = r.nextBoolean() ? r.nextInt(in, 3 * in + 1) : r.nextInt(1, Math.max(2, in));
        boolean sym = r.nextBoolean();
        QuantSpec spec = new QuantSpec(r.nextInt(2, 9), r.nextInt(1, 10), sym);
        return new Layer(GptqQuantizerTests.gaussian(out * in, r), out, in, GptqQuantizerTests.gaussian(n * in, r), n, spec);
    }

    static Layer realisticLayer(SplittableRandom r) {
        int out = r.nextInt(2, 9);
        int in = r.nextInt(32, 81);
        int n = r.nextInt(4 * in, 6 * in + 1);
        QuantSpec spec = new QuantSpec(r.nextInt(2, 9), r.nextInt(8, 33), r.nextBoolean());
        return new Layer(GptqQuantizerTests.gaussian(out * in, r), out, in, GptqQuantizerTests.correlated(n, in, r), n, spec);
    }

    @Property(tries = 50)
    void gptqIsNoWorseThanRtnOnMostTinyLayers(@ForAll long seed) {
        // At 6.3% per layer, 11 or more losses out of 21 has a probability of about 1e-8.
        SplittableRandom r = new SplittableRandom(seed);
        double[] ratios = new double[21];
        for (int i = 0; i < ratios.length; i++) {
            double[] e = tinyLayer(r).errors();
            ratios[i] = e[0] / e[1];
        }
        Arrays.sort(ratios);
        assertThat(ratios[ratios.length / 2]).as("median GPTQ / RTN output error").isLessThanOrEqualTo(1 + 1e-6);
    }

    @Property(tries = 50)
    void gptqBeatsRtnOnAverageOnRealisticLayers(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double sum = 0;
        for (int i = 0; i < 4; i++) {
            double[] e = realisticLayer(r).errors();
            sum += e[0] / e[1];
        }
        assertThat(sum / 4).as("mean GPTQ / RTN output error").isLessThanOrEqualTo(1 + 1e-6);
    }

    record Shape(int out, int in, int group, int bits, boolean sym, int n, int blockSize, long seed) {
    }

    @Provide
    Arbitrary<Shape> shapes() {
        return Combinators.combine(
                Arbitraries.integers().between(1, 6), Arbitraries.integers().between(1, 150),
                Arbitraries.integers().between(1, 40), Arbitraries.integers().between(2, 8),
                Arbitraries.of(true, false), Arbitraries.integers().between(1, 200),
                Arbitraries.integers().between(1, 40), Arbitraries.longs())
                .as(Shape::new);
    }

    @Property(tries = 50)
    void theBlockSizeChangesNothingButRounding(@ForAll("shapes") Shape s) {
        SplittableRandom r = new SplittableRandom(s.seed());
        float[] w = GptqQuantizerTests.gaussian(s.out() * s.in(), r);
        float[] x = GptqQuantizerTests.correlated(s.n(), s.in(), r);
        QuantSpec spec = new QuantSpec(s.bits(), s.group(), s.sym());
        double[] h = GptqQuantizer.hessian(x, s.n(), s.in());
        QuantizedMatrix blocked = GptqQuantizer.quantize(w, s.out(), s.in(), h, spec, 0.01, s.blockSize()).matrix();
        QuantizedMatrix standard = GptqQuantizer.quantize(w, s.out(), s.in(), h, spec, 0.01, 128).matrix();
        assertThat(blocked.codes()).containsExactly(standard.codes());
        assertThat(blocked.scales()).containsExactly(standard.scales());
        assertThat(blocked.zeros()).containsExactly(standard.zeros());
    }

    @Property(tries = 50)
    void deadColumnsAndFewSamplesNeverGiveNaN(@ForAll("shapes") Shape s) {
        SplittableRandom r = new SplittableRandom(s.seed());
        float[] w = GptqQuantizerTests.gaussian(s.out() * s.in(), r);
        int n = 1 + s.n() % Math.max(1, s.in());
        float[] x = GptqQuantizerTests.gaussian(n * s.in(), r);
        boolean[] dead = new boolean[s.in()];
        for (int i = 0; i < s.in(); i++) {
            dead[i] = r.nextInt(4) == 0;
            for (int k = 0; dead[i] && k < n; k++) {
                x[k * s.in() + i] = 0;
            }
        }
        QuantSpec spec = new QuantSpec(s.bits(), s.group(), s.sym());
        GptqResult result = GptqQuantizer.quantize(w, s.out(), s.in(), x, n, spec);
        QuantizedMatrix q = result.matrix();
        assertThat(result.dampingUsed()).isEqualTo(GptqQuantizer.DEFAULT_DAMPING);
        GptqQuantizerTests.assertFinite(q);
        assertThat(q.dequantize()).containsExactly(q.dequantized());
        for (int i = 0; i < q.codes().length; i++) {
            assertThat((int) q.codes()[i]).isBetween(0, spec.maxq());
            if (dead[i % s.in()]) {
                assertThat(q.dequantized()[i]).isZero();
            }
        }
    }
}
