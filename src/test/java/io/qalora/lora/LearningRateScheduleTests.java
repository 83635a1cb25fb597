package io.qalora.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qalora.quant.QuantSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LearningRateScheduleTests {

    @Test
    void constantKeepsTheRate() {
        assertThat(LearningRateSchedule.CONSTANT.factor(0, 100)).isEqualTo(1.0);
        assertThat(LearningRateSchedule.CONSTANT.factor(99, 100)).isEqualTo(1.0);
    }

    @Test
    void cosineStartsAtTheRateHalvesMidwayAndEndsNearZero() {
        assertThat(LearningRateSchedule.COSINE.factor(0, 100)).isEqualTo(1.0);
        assertThat(LearningRateSchedule.COSINE.factor(50, 100)).isCloseTo(0.5, within(1e-12));
        assertThat(LearningRateSchedule.COSINE.factor(99, 100)).isCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.99)),
                within(1e-12)).isLessThan(3e-4);
        assertThat(LearningRateSchedule.COSINE.factor(0, 1)).isEqualTo(1.0);
    }

    @Test
    void cosineIsNonIncreasing() {
        double previous = 2;
        for (int step = 0; step < 37; step++) {
            double f = LearningRateSchedule.COSINE.factor(step, 37);
            assertThat(f).isLessThanOrEqualTo(previous).isPositive();
            previous = f;
        }
    }

    @Test
    void theTrainerUsesTheScheduledRateAtEveryStep() {
        var base = new io.qalora.tensor.DenseLayer(1, 2, new float[] {0.5f, -0.25f}, new float[] {0});
        Dataset data = Dataset.regression(new float[] {1, 2, -1, 0.5f, 2, 1, 0.3f, -0.7f},
                new float[] {1, 0, 2, -1}, 4, 2, 1);
        TrainingConfig config = TrainingConfig.builder().rank(1).quant(new QuantSpec(8, 2, false))
                .optimizer(TrainingConfig.OptimizerKind.SGD).learningRate(0.01).epochs(3).batchSize(1).seed(3)
                .schedule(LearningRateSchedule.COSINE).build();
        List<Double> rates = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStep(StepEvent event) {
                rates.add(event.learningRate());
            }
        };
        new Trainer().train(base, data, config, listener).adapter().close();
        assertThat(rates).hasSize(12);
        for (int step = 0; step < 12; step++) {
            assertThat(rates.get(step)).isCloseTo(0.01 * 0.5 * (1 + Math.cos(Math.PI * step / 12)), within(1e-15));
        }
    }
}
