package io.qalora.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qalora.lora.TrainingConfig;
import io.qalora.quant.QuantSpec;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The README's evidence table, reproduced small: the report is computed and consistent, whoever wins. */
class QualityStudyTests {

    @ParameterizedTest
    @EnumSource(QualityTask.Kind.class)
    void theReportHasEveryMethodWithConsistentRatios(QualityTask.Kind kind) {
        QualityTask task = QualityTask.of(kind, QualityTask.Inputs.CORRELATED, 64, 256, 128, 11);
        TrainingConfig base = TrainingConfig.builder().rank(4).alpha(8).quant(new QuantSpec(3, 16, false)).epochs(4)
                .learningRate(0.01).seed(2).build();

        List<QualityStudy.Row> rows = QualityStudy.run(task, 3, base, QualityStudy.SHIPPED);

        assertThat(rows).extracting(QualityStudy.Row::method)
                .containsExactly("LoRA->RTN", "LoRA->GPTQ", "LORA_FACTORS", "MERGED_WEIGHTS", "POOLED_ZERO_POINT");
        QualityStudy.Row baseline = rows.get(0);
        assertThat(baseline.ratioToLoraRtn()).isEqualTo(1.0);
        for (QualityStudy.Row r : rows) {
            assertThat(r.task()).isEqualTo(task.name());
            assertThat(r.bits()).isEqualTo(3);
            assertThat(r.loss()).isFinite().isPositive();
            assertThat(r.ratioToLoraRtn()).isCloseTo(r.loss() / baseline.loss(), within(1e-12));
            assertThat(r.accuracy() != null).isEqualTo(kind == QualityTask.Kind.CLASSIFICATION);
        }
        QualityStudy.Row best = QualityStudy.best(rows);
        assertThat(rows).allSatisfy(r -> assertThat(r.loss()).isGreaterThanOrEqualTo(best.loss()));
        // Different methods deploy different layers; identical losses would mean a method was ignored.
        Set<Double> losses = rows.stream().map(QualityStudy.Row::loss).collect(Collectors.toSet());
        assertThat(losses).hasSize(rows.size());
    }

    @ParameterizedTest
    @EnumSource(QualityTask.Inputs.class)
    void correlatedInputsShareDirectionsAndIsotropicOnesDoNot(QualityTask.Inputs inputs) {
        QualityTask task = QualityTask.of(QualityTask.Kind.REGRESSION, inputs, 32, 2000, 10, 5);
        double meanAbsCorrelation = meanAbsCorrelation(task.train().inputs(), 2000, 32);
        if (inputs == QualityTask.Inputs.CORRELATED) {
            assertThat(meanAbsCorrelation).isGreaterThan(0.1);
        } else {
            assertThat(meanAbsCorrelation).isLessThan(0.05);
        }
    }

    private static double meanAbsCorrelation(float[] x, int rows, int cols) {
        double[] mean = new double[cols];
        double[] sd = new double[cols];
        for (int c = 0; c < cols; c++) {
            for (int r = 0; r < rows; r++) {
                mean[c] += x[r * cols + c] / (double) rows;
            }
            for (int r = 0; r < rows; r++) {
                sd[c] += Math.pow(x[r * cols + c] - mean[c], 2) / rows;
            }
            sd[c] = Math.sqrt(sd[c]);
        }
        double sum = 0;
        for (int a = 0; a < cols; a++) {
            for (int b = a + 1; b < cols; b++) {
                double cov = 0;
                for (int r = 0; r < rows; r++) {
                    cov += (x[r * cols + a] - mean[a]) * (x[r * cols + b] - mean[b]) / rows;
                }
                sum += Math.abs(cov / (sd[a] * sd[b]));
            }
        }
        return sum / (cols * (cols - 1) / 2.0);
    }
}
