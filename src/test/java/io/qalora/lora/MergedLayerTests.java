package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.DenseLayer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The merge computes {@code s B A} a block of rows at a time, adds {@code W} and quantizes in the
 * same pass, on several threads. Whatever the blocks and threads, it must be bit for bit the
 * quantization of the full-precision merged weight computed with the same blocks, here on random
 * values whose sums round (unlike the exact eighths of {@link QaLoraAdapterMergeTests}).
 */
class MergedLayerTests {

    private static float[] gaussian(int n, long seed) {
        return Fixtures.gaussian(n, 0.05, new SplittableRandom(seed));
    }

    @Test
    void blockwiseParallelMergeEqualsQuantizingTheMergedWeight() {
        int out = 301;
        int in = 263;
        int rank = 16;
        float[] w = gaussian(out * in, 1);
        float[] a = gaussian(rank * in, 2);
        float[] b = gaussian(out * rank, 3);
        float[] bias = gaussian(out, 4);
        for (QuantSpec spec : new QuantSpec[] {new QuantSpec(4, 64, false), new QuantSpec(3, 100, true),
                new QuantSpec(8, 263, false), new QuantSpec(2, 7, true)}) {
            for (int blockRows : new int[] {1, 64, 300, out}) {
                for (int threads : new int[] {1, 2, 3}) {
                    float[] merged = MergedLayer.mergedWeight(w, a, b, 1.75f, out, in, rank, blockRows);
                    QuantizedMatrix expected = GroupQuantizer.quantize(merged, out, in, spec);

                    MergedLayer m = MergedLayer.merge(w, bias, a, b, 1.75f, out, in, rank, spec, blockRows, threads);

                    assertThat(m.weight()).as("%s, blocks of %d rows, %d threads", spec, blockRows, threads)
                            .isEqualTo(expected);
                    assertThat(m.bias()).containsExactly(bias).isNotSameAs(bias);
                }
            }
        }
    }

    @Test
    void adapterMergeEqualsQuantizingItsMergedWeight() {
        DenseLayer base = Fixtures.layer(97, 1_030, true, 5);
        try (QaLoraAdapter adapter = QaLoraAdapter.builder(base).rank(16).alpha(32).quantizationBits(4).groupSize(128)
                .factors(gaussian(16 * 1_030, 6), gaussian(97 * 16, 7)).build()) {
            QuantizedMatrix expected = GroupQuantizer.quantize(adapter.mergedWeight(), 97, 1_030,
                    new QuantSpec(4, 128, false));

            MergedLayer merged = adapter.mergeToOriginalLayer();

            assertThat(merged.weight()).isEqualTo(expected);
            assertThat(merged.bias()).containsExactly(base.bias());
        }
    }

    @Test
    void blocksHoldAboutFourMebibytesAndAtLeastOneRow() {
        assertThat(MergedLayer.blockRows(4096, 4096)).isEqualTo(256);
        assertThat(MergedLayer.blockRows(10, 4096)).isEqualTo(10);
        assertThat(MergedLayer.blockRows(5, 1 << 22)).isEqualTo(1);
    }
}
