/**
 * Micrometer bindings of the service's metrics ({@code qalora_*}), exposed at
 * {@code /actuator/prometheus}: the job module reports through {@link io.qalora.job.JobMetrics},
 * gauges read the queue, the worker pool and ND4J's off-heap memory. No per-job tags.
 */
package io.qalora.metrics;
