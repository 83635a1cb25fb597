package io.qalora.job;

import io.qalora.lora.NativeBlas;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * This instance's workers: {@code qalora.workers.threads} loops that claim the oldest queued job
 * and run it, plus one scheduler that renews the leases of running jobs (and learns of cancels)
 * and requeues jobs whose lease expired elsewhere. A worker loop survives any throwable. On stop
 * the workers claim nothing more and running jobs are handed back to the queue.
 */
@Component
public class WorkerPool implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final JobRepository jobs;
    private final JobRunner runner;
    private final JobSignals signals;
    private final JobMetrics metrics;
    private final QaLoraProperties.Workers config;
    private final Clock clock;
    private final String owner;
    private final Map<UUID, RunningJob> running = new ConcurrentHashMap<>();
    private final AtomicInteger busy = new AtomicInteger();
    private volatile boolean started;
    private volatile boolean stopping;
    private ExecutorService workers;
    private ScheduledExecutorService scheduler;

    public WorkerPool(JobRepository jobs, JobRunner runner, JobSignals signals, JobMetrics metrics,
            QaLoraProperties properties, Clock clock) {
        this.jobs = jobs;
        this.runner = runner;
        this.signals = signals;
        this.metrics = metrics;
        this.config = properties.workers();
        this.clock = clock;
        this.owner = hostName() + "/" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Override
    public synchronized void start() {
        if (started || !config.enabled()) {
            return;
        }
        NativeBlas.setThreads(config.resolvedBlasThreads());
        stopping = false;
        AtomicInteger ids = new AtomicInteger();
        workers = Executors.newFixedThreadPool(config.threads(), r -> new Thread(r, "qalora-worker-" + ids.incrementAndGet()));
        for (int i = 0; i < config.threads(); i++) {
            workers.submit(this::workLoop);
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "qalora-leases"));
        long beat = config.heartbeatInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::heartbeats, beat, beat, TimeUnit.MILLISECONDS);
        long reap = config.reaperInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::requeueExpired, reap / 2, reap, TimeUnit.MILLISECONDS);
        started = true;
        log.info("{} workers started as {} with {} BLAS threads, OpenBLAS kernels {}, own kernel {}", config.threads(),
                owner, NativeBlas.threads(), NativeBlas.kernels(), NativeBlas.skinnyKernel());
    }

    private void workLoop() {
        while (!stopping) {
            try {
                Optional<Job> claimed = jobs.claimNext(owner, config.lease(), clock.instant());
                if (claimed.isEmpty()) {
                    signals.awaitQueued(config.pollInterval().toMillis());
                    continue;
                }
                runClaimed(claimed.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                log.error("worker loop error; continuing", t);
                backOff();
            }
        }
    }

    private void runClaimed(Job job) {
        RunningJob run = new RunningJob(job.id(), signals.started(job.id()));
        running.put(job.id(), run);
        busy.incrementAndGet();
        try {
            if (stopping) {
                jobs.release(job.id(), owner);
                return;
            }
            // A cancel may have landed between the claim and the flag's registration just above.
            if (jobs.heartbeat(job.id(), owner, config.lease(), clock.instant(), null, null).cancelRequested()) {
                run.cancelled.set(true);
            }
            runner.run(job, owner, run);
        } finally {
            busy.decrementAndGet();
            running.remove(job.id());
            signals.ended(job.id());
        }
    }

    private void heartbeats() {
        for (RunningJob run : running.values()) {
            try {
                JobRepository.Heartbeat beat = jobs.heartbeat(run.id, owner, config.lease(), clock.instant(),
                        run.progress, run.trainLoss);
                if (!beat.leaseHeld()) {
                    log.warn("job {} lost its lease; stopping it here", run.id);
                    run.handBack.set(true);
                } else if (beat.cancelRequested()) {
                    run.cancelled.set(true);
                }
            } catch (Throwable e) {
                // A periodic task that throws is never run again, so nothing may escape.
                log.warn("heartbeat of job {} failed: {}", run.id, e.toString());
            }
        }
    }

    private void requeueExpired() {
        try {
            var ids = jobs.requeueExpired(clock.instant(), config.maxAttempts());
            if (!ids.isEmpty()) {
                log.info("requeued or ended {} jobs whose lease expired: {}", ids.size(), ids);
                ids.forEach(this::recordExpiry);
                signals.jobQueued();
            }
        } catch (Throwable e) {
            log.warn("requeue of expired leases failed: {}", e.toString());
        }
    }

    /** The event (and, for a job that ended, the metric) of a lease that expired on another worker. */
    private void recordExpiry(UUID id) {
        jobs.find(id).ifPresent(job -> {
            String detail = job.status() == JobStatus.QUEUED ? " after its worker's lease expired"
                    : " " + (job.error() == null ? "" : job.error().code() + ": " + job.error().message());
            jobs.appendEvents(java.util.List.of(JobEvent.of(id, JobEventType.STATE, clock.instant(), null, null, null,
                    job.status().name() + detail)));
            if (job.status().terminal()) {
                metrics.jobFinished(job.status(), job.startedAt() == null ? java.time.Duration.ZERO
                        : java.time.Duration.between(job.startedAt(), clock.instant()));
            }
        });
    }

    /** Stop claiming, hand running jobs back, await; then interrupt and await again. */
    @Override
    public synchronized void stop() {
        if (!started) {
            return;
        }
        stopping = true;
        running.values().forEach(r -> r.handBack.set(true));
        signals.jobQueued();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
                workers.shutdownNow();
                workers.awaitTermination(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
        scheduler.shutdownNow();
        started = false;
        log.info("workers of {} stopped", owner);
    }

    @Override
    public boolean isRunning() {
        return started;
    }

    /** Starts after, and stops before, the web server (a higher phase starts later and stops sooner). */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 1000;
    }

    public int busyWorkers() {
        return busy.get();
    }

    public int threads() {
        return config.threads();
    }

    public String owner() {
        return owner;
    }

    private static String hostName() {
        String host = System.getenv("HOSTNAME");
        return host == null || host.isBlank() ? "local" : host;
    }

    private void backOff() {
        try {
            signals.awaitQueued(config.pollInterval().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
