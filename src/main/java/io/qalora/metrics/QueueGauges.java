package io.qalora.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.qalora.job.JobRepository;
import io.qalora.job.JobStatus;
import io.qalora.job.WorkerPool;
import io.qalora.lora.NativeBlas;
import org.springframework.stereotype.Component;

/**
 * Gauges read at scrape time. The queue gauges count rows of the shared database, so every
 * replica reports the same cluster-wide numbers; the worker gauges are this instance's own.
 */
@Component
public class QueueGauges implements MeterBinder {

    private final JobRepository jobs;
    private final WorkerPool workers;

    public QueueGauges(JobRepository jobs, WorkerPool workers) {
        this.jobs = jobs;
        this.workers = workers;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("qalora.jobs.queued", jobs, j -> j.countByStatus(JobStatus.QUEUED))
                .description("Jobs waiting in the shared queue").register(registry);
        Gauge.builder("qalora.jobs.running", jobs, j -> j.countByStatus(JobStatus.RUNNING))
                .description("Jobs running on any instance").register(registry);
        Gauge.builder("qalora.workers.busy", workers, WorkerPool::busyWorkers)
                .description("Workers of this instance running a job").register(registry);
        Gauge.builder("qalora.workers.threads", workers, WorkerPool::threads)
                .description("Workers of this instance").register(registry);
        Gauge.builder("qalora.nd4j.offheap", NativeBlas::offHeapBytes).baseUnit("bytes")
                .description("Off-heap bytes held by ND4J (javacpp)").register(registry);
    }
}
