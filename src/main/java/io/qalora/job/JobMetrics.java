package io.qalora.job;

import java.time.Duration;

/** What the job module reports; {@code io.qalora.metrics} binds it to Micrometer. No per-job tags. */
public interface JobMetrics {

    JobMetrics NONE = new JobMetrics() {
    };

    default void jobSubmitted() {
    }

    default void jobFinished(JobStatus status, Duration duration) {
    }

    default void trainingStep(Duration duration, int samples) {
    }

    default void mergedQuantizationError(int bits, double averageError) {
    }
}
