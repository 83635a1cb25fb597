package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.InvalidParameterException;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.ZeroRoundingError;
import io.qalora.tensor.DenseLayer;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

/** Training a POOLED_ZERO_POINT adapter on a teacher task its pooled update can express. */
class PooledZeroPointTrainingTests {

    private static final int IN = 32;
    private static final int OUT = 24;
    private static final int G = 8;

    private final Trainer trainer = new Trainer();
    private final DenseLayer base = Fixtures.layer(OUT, IN, true, 1);
    private final Dataset teacherTask = Fixtures.regression(base, Fixtures.pooledTeacherWeight(base, 2, G, 1.0, 2), 256, 3);

    private TrainingConfig.Builder config() {
        return TrainingConfig.builder().rank(4).alpha(8).quant(new QuantSpec(4, G, false)).learningRate(0.01)
                .epochs(30).batchSize(32).seed(42).target(QuantizationTarget.POOLED_ZERO_POINT);
    }

    @Test
    void lossFallsTenfoldAndTheMergedLayerDeploysWhatWasTrained() {
        double baseLoss = Evaluator.evaluate(base, teacherTask).loss();
        List<String> notes = new ArrayList<>();
        TrainingResult result = trainer.train(base, teacherTask, config().build(), new TrainingListener() {
            @Override
            public void onNote(String note) {
                notes.add(note);
            }
        });
        try (QaLoraAdapter adapter = result.adapter()) {
            assertThat(result.baseOutputsCached()).isTrue();
            assertThat(notes).anyMatch(n -> n.startsWith("base outputs cached: x deq(W)^T + b"));
            assertThat(result.finalLoss()).isLessThan(baseLoss / 10);
            assertThat(result.epochLosses()[0]).isGreaterThan(result.epochLosses()[29]);
            Evaluation evaluation = Evaluator.evaluate(adapter, base, teacherTask);
            assertThat(evaluation.quantized().loss()).isLessThan(baseLoss / 10);
            // The deployed layer computes what training saw: its loss is the last epoch's, to rounding
            // and the last epoch's steps.
            float[] trainedOutputs = adapter.forward(teacherTask.inputs(), teacherTask.rows());
            float[] deployedOutputs = LayerOutputs.compute(adapter.mergeToOriginalLayer().toDenseLayer(),
                    teacherTask.inputs(), teacherTask.rows());
            double worst = 0;
            double largest = 0;
            for (int i = 0; i < trainedOutputs.length; i++) {
                worst = Math.max(worst, Math.abs((double) trainedOutputs[i] - deployedOutputs[i]));
                largest = Math.max(largest, Math.abs(trainedOutputs[i]));
            }
            assertThat(worst).isLessThanOrEqualTo(1e-5 * largest);
            // Rounding the zero points costs half a scale per weight at most, unless the update moved a
            // group so far that its zero left [0, maxq] and was clamped; both are reported.
            MergedLayer merged = adapter.mergeToOriginalLayer();
            ZeroRoundingError rounding = ZeroRoundingError.of(merged.weight());
            assertThat(rounding.zeros()).isEqualTo(OUT * (IN / G));
            assertThat(rounding.relativeError()).isPositive();
            float[] floats = merged.weight().dequantized();
            float[] ints = merged.withIntegerZeros().weight().dequantized();
            double maxShift = 0;
            for (int i = 0; i < floats.length; i++) {
                maxShift = Math.max(maxShift, Math.abs((double) ints[i] - floats[i]));
            }
            assertThat(rounding.maxAbsError()).isEqualTo(maxShift);
        }
    }

    @Test
    void cachedDequantizedBaseOutputsTrainLikeRecomputedOnesAlsoAcrossAWarmup() {
        for (int warmup : new int[] {0, 5}) {
            TrainingConfig cfg = config().epochs(2).quantizationWarmupSteps(warmup).build();
            TrainingResult cached = trainer.train(base, teacherTask, cfg, TrainingListener.NONE);
            TrainingResult recomputed = trainer.train(base, teacherTask, cfg.toBuilder().cacheBaseOutputs(false).build(),
                    TrainingListener.NONE);
            try (QaLoraAdapter a = cached.adapter(); QaLoraAdapter b = recomputed.adapter()) {
                assertThat(cached.baseOutputsCached()).isTrue();
                for (int e = 0; e < 2; e++) {
                    assertThat(cached.epochLosses()[e]).as("warm-up %d, epoch %d", warmup, e)
                            .isCloseTo(recomputed.epochLosses()[e], Percentage.withPercentage(0.5));
                }
            }
        }
    }

    @Test
    void thePtqBaselineIsAStandardLora() {
        TrainingConfig cfg = config().epochs(5).build();
        TrainingConfig plain = cfg.plainLora();
        assertThat(plain.target()).isEqualTo(QuantizationTarget.LORA_FACTORS);
        assertThat(plain.quantizationEnabled()).isFalse();
        assertThat(config().target(QuantizationTarget.MERGED_WEIGHTS).build().plainLora().target())
                .isEqualTo(QuantizationTarget.MERGED_WEIGHTS);
        Metrics baseline = Evaluator.ptqBaseline(trainer, base, teacherTask, teacherTask, cfg, TrainingListener.NONE);
        TrainingResult direct = trainer.train(base, teacherTask, plain, TrainingListener.NONE);
        try (QaLoraAdapter adapter = direct.adapter()) {
            assertThat(adapter.loraA()).hasSize(4 * IN);
            assertThat(baseline).isEqualTo(Evaluator.evaluate(adapter.mergeToOriginalLayer().toDenseLayer(), teacherTask));
        }
    }

    @Test
    void aTrainableBaseOrAGroupSizeThatDoesNotDivideTheInputIsRefused() {
        assertThatThrownBy(() -> trainer.train(base, teacherTask, config().freezeBaseLayer(false).build(),
                TrainingListener.NONE)).isInstanceOf(InvalidParameterException.class)
                .hasMessageStartingWith("freezeBaseLayer");
        assertThatThrownBy(() -> trainer.train(base, teacherTask, config().quant(new QuantSpec(4, 12, false)).build(),
                TrainingListener.NONE)).isInstanceOf(InvalidParameterException.class)
                .hasMessageStartingWith("groupSize");
    }
}
