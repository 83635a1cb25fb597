package io.qalora.bench;

import io.qalora.lora.Evaluator;
import io.qalora.lora.LearningRateSchedule;
import io.qalora.lora.Metrics;
import io.qalora.lora.MergedLayer;
import io.qalora.lora.QaLoraAdapter;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.Trainer;
import io.qalora.lora.TrainingConfig;
import io.qalora.lora.TrainingListener;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizerKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The deployed-quality study behind the README's evidence table: on synthetic teacher tasks, the
 * held-out loss of each way to get a low-bit merged layer (LoRA then RTN, LoRA then GPTQ, and each
 * QAT target trained with the shipped defaults), and the ratio of each to LoRA then RTN.
 * Not a test: run it through the README's study command; {@code QualityStudyTests} runs it small.
 *
 * <pre>args: [--sizes 256,1024] [--bits 4,3,2] [--epochs 20] [--lr 0.01] [--rows 2048] [--kinds REGRESSION,CLASSIFICATION] [--explore]</pre>
 */
public final class QualityStudy {

    /** One way to produce a deployed layer: a change of the study's base config, and the merge quantizer. */
    record Method(String name, Change change, QuantizerKind quantizer) {
    }

    /** Changes the study's base config for a run of {@code totalSteps}. */
    interface Change {
        TrainingConfig.Builder apply(TrainingConfig.Builder builder, long totalSteps);
    }

    /** The held-out loss (and accuracy, for labels) of one method's deployed layer. */
    record Row(String task, int bits, String method, double loss, Double accuracy, double ratioToLoraRtn) {
    }

    static final String BASELINE = "LoRA->RTN";

    static final List<Method> SHIPPED = List.of(
            new Method(BASELINE, (b, steps) -> b.quantizationEnabled(false), QuantizerKind.RTN),
            new Method("LoRA->GPTQ", (b, steps) -> b.quantizationEnabled(false), QuantizerKind.GPTQ),
            new Method("LORA_FACTORS", (b, steps) -> b.target(QuantizationTarget.LORA_FACTORS), QuantizerKind.RTN),
            new Method("MERGED_WEIGHTS", (b, steps) -> b.target(QuantizationTarget.MERGED_WEIGHTS), QuantizerKind.RTN),
            new Method("POOLED_ZERO_POINT", (b, steps) -> b.target(QuantizationTarget.POOLED_ZERO_POINT),
                    QuantizerKind.RTN));

    /** Settings measured while choosing the defaults, printed with {@code --explore}. */
    static final List<Method> EXPLORED = List.of(
            new Method("LoRA->RTN, constant lr", (b, steps) -> b.quantizationEnabled(false)
                    .schedule(LearningRateSchedule.CONSTANT), QuantizerKind.RTN),
            new Method("LORA_FACTORS, constant lr", (b, steps) -> b.target(QuantizationTarget.LORA_FACTORS)
                    .schedule(LearningRateSchedule.CONSTANT), QuantizerKind.RTN),
            new Method("MERGED_WEIGHTS, constant lr", (b, steps) -> b.target(QuantizationTarget.MERGED_WEIGHTS)
                    .schedule(LearningRateSchedule.CONSTANT), QuantizerKind.RTN),
            new Method("MERGED_WEIGHTS, fp first half", (b, steps) -> b.target(QuantizationTarget.MERGED_WEIGHTS)
                    .quantizationWarmupSteps((int) steps / 2), QuantizerKind.RTN),
            new Method("MERGED_WEIGHTS->GPTQ", (b, steps) -> b.target(QuantizationTarget.MERGED_WEIGHTS), QuantizerKind.GPTQ));

    private QualityStudy() {
    }

    public static void main(String[] args) {
        List<Integer> sizes = ints(arg(args, "--sizes", "256,1024"));
        List<Integer> bits = ints(arg(args, "--bits", "4,3,2"));
        int epochs = Integer.parseInt(arg(args, "--epochs", "20"));
        double lr = Double.parseDouble(arg(args, "--lr", "0.01"));
        int trainRows = Integer.parseInt(arg(args, "--rows", "2048"));
        List<QualityTask.Kind> kinds = List.of(arg(args, "--kinds", "REGRESSION,CLASSIFICATION").split(","))
                .stream().map(QualityTask.Kind::valueOf).toList();
        List<Method> methods = new ArrayList<>(SHIPPED);
        if (List.of(args).contains("--explore")) {
            methods.addAll(EXPLORED);
        }
        System.out.println("| task | bits | method | held-out loss | accuracy | vs LoRA->RTN |");
        System.out.println("|---|---|---|---|---|---|");
        for (int size : sizes) {
            for (QualityTask.Kind kind : kinds) {
                for (QualityTask.Inputs inputs : QualityTask.Inputs.values()) {
                    QualityTask task = QualityTask.of(kind, inputs, size, trainRows, trainRows / 2, 7);
                    for (int b : bits) {
                        TrainingConfig base = TrainingConfig.builder().rank(8).alpha(16)
                                .quant(new QuantSpec(b, 32, false)).epochs(epochs).learningRate(lr).seed(1).build();
                        List<Row> rows = run(task, b, base, methods);
                        Row best = best(rows);
                        for (Row row : rows) {
                            System.out.println(markdown(row, row == best));
                        }
                    }
                }
            }
        }
    }

    /** Every method on one task and bit width; the first method is the baseline the ratios refer to. */
    static List<Row> run(QualityTask task, int bits, TrainingConfig base, List<Method> methods) {
        Trainer trainer = new Trainer();
        List<Metrics> metrics = new ArrayList<>();
        for (Method m : methods) {
            TrainingConfig config = m.change().apply(base.toBuilder(), base.totalSteps(task.train().rows())).build();
            metrics.add(deployed(trainer, task, config, m.quantizer()));
        }
        double baseline = metrics.get(0).loss();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < methods.size(); i++) {
            Metrics m = metrics.get(i);
            rows.add(new Row(task.name(), bits, methods.get(i).name(), m.loss(), m.accuracy(), m.loss() / baseline));
        }
        return rows;
    }

    private static Metrics deployed(Trainer trainer, QualityTask task, TrainingConfig config, QuantizerKind quantizer) {
        try (QaLoraAdapter adapter = trainer.train(task.base(), task.train(), config, TrainingListener.NONE)
                .adapter()) {
            MergedLayer merged = adapter.mergeToOriginalLayer(quantizer, task.train().inputs(), task.train().rows());
            return Evaluator.evaluate(merged.toDenseLayer(), task.validation());
        }
    }

    /** The row with the lowest held-out loss (the first of equals). */
    static Row best(List<Row> rows) {
        Row best = rows.get(0);
        for (Row r : rows) {
            if (r.loss() < best.loss()) {
                best = r;
            }
        }
        return best;
    }

    static String markdown(Row r, boolean best) {
        String method = best ? "**" + r.method() + "**" : r.method();
        return String.format(Locale.ROOT, "| %s | %d | %s | %.4g | %s | %.3fx |", r.task(), r.bits(), method,
                r.loss(), r.accuracy() == null ? "-" : String.format(Locale.ROOT, "%.3f", r.accuracy()),
                r.ratioToLoraRtn());
    }

    private static List<Integer> ints(String csv) {
        return List.of(csv.split(",")).stream().map(Integer::parseInt).toList();
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
