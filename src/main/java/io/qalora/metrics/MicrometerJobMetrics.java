package io.qalora.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.qalora.job.JobMetrics;
import io.qalora.job.JobStatus;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.springframework.stereotype.Component;

/** The {@code qalora_*} counters, timers and distributions that the job module reports into. */
@Component
public class MicrometerJobMetrics implements JobMetrics {

    private final MeterRegistry registry;
    private final Counter submitted;
    private final Timer stepTime;
    private final Counter steps;
    private final Counter samples;
    private final ConcurrentMap<String, Timer> durations = new ConcurrentHashMap<>();
    private final ConcurrentMap<Integer, DistributionSummary> errors = new ConcurrentHashMap<>();

    public MicrometerJobMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.submitted = Counter.builder("qalora.jobs.submitted").description("Jobs accepted").register(registry);
        this.stepTime = Timer.builder("qalora.training.step").description("Wall time of one training step")
                .publishPercentileHistogram().register(registry);
        this.steps = Counter.builder("qalora.training.steps").description("Training steps run").register(registry);
        this.samples = Counter.builder("qalora.training.samples").description("Rows trained on, over all steps")
                .register(registry);
        for (JobStatus status : JobStatus.values()) {
            if (status.terminal()) {
                finishedCounter(status);
            }
        }
    }

    private Counter finishedCounter(JobStatus status) {
        return Counter.builder("qalora.jobs.finished").tag("status", status.name())
                .description("Jobs that ended, by final status").register(registry);
    }

    @Override
    public void jobSubmitted() {
        submitted.increment();
    }

    @Override
    public void jobFinished(JobStatus status, Duration duration) {
        finishedCounter(status).increment();
        durations.computeIfAbsent(status.name(), s -> Timer.builder("qalora.job.duration").tag("status", s)
                .description("Wall time from claim to end").publishPercentileHistogram().register(registry))
                .record(duration);
    }

    @Override
    public void trainingStep(Duration duration, int rows) {
        stepTime.record(duration);
        steps.increment();
        samples.increment(rows);
    }

    @Override
    public void mergedQuantizationError(int bits, double averageError) {
        errors.computeIfAbsent(bits, b -> DistributionSummary.builder("qalora.merged.quantization.error")
                .tag("bits", Integer.toString(b)).description("Mean absolute error of the merged weights per job")
                .register(registry)).record(averageError);
    }
}
