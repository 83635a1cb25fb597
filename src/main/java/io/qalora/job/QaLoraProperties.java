package io.qalora.job;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The service's own settings ({@code qalora.*}).
 *
 * @param workers the worker pool that claims and runs jobs
 * @param uploads limits on uploaded layers and datasets
 * @param results limits on results served as JSON
 * @param merges merges of uploaded adapters ({@code POST /v1/merges})
 * @param warmUp requests an instance sends itself before it reports ready
 */
@ConfigurationProperties("qalora")
public record QaLoraProperties(Workers workers, Uploads uploads, Results results, Merges merges, WarmUp warmUp) {

    public QaLoraProperties {
        workers = workers == null ? new Workers(true, 1, 0, null, null, null, null, 0) : workers;
        uploads = uploads == null ? new Uploads(0) : uploads;
        results = results == null ? new Results(0) : results;
        merges = merges == null ? new Merges(0) : merges;
        warmUp = warmUp == null ? new WarmUp(WarmUp.DEFAULT_REQUESTS, null) : warmUp;
    }

    /**
     * @param enabled whether this instance runs jobs at all (false: API only)
     * @param threads jobs run at once by this instance
     * @param blasThreads BLAS threads per process; 0 picks cores / threads (at least 1)
     * @param pollInterval how often an idle worker looks for a queued job
     * @param lease how long a claimed job stays this instance's without a heartbeat
     * @param heartbeatInterval how often running jobs renew their lease and learn of cancels
     * @param reaperInterval how often expired leases are requeued
     * @param maxAttempts claims of one job before a lost lease fails it
     */
    public record Workers(boolean enabled, int threads, int blasThreads, Duration pollInterval, Duration lease,
            Duration heartbeatInterval, Duration reaperInterval, int maxAttempts) {

        public Workers {
            threads = threads <= 0 ? 1 : threads;
            pollInterval = pollInterval == null ? Duration.ofMillis(500) : pollInterval;
            lease = lease == null ? Duration.ofSeconds(30) : lease;
            heartbeatInterval = heartbeatInterval == null ? Duration.ofSeconds(5) : heartbeatInterval;
            reaperInterval = reaperInterval == null ? Duration.ofSeconds(10) : reaperInterval;
            maxAttempts = maxAttempts <= 0 ? 3 : maxAttempts;
        }

        public int resolvedBlasThreads() {
            return blasThreads > 0 ? blasThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / threads);
        }
    }

    /** @param maxBytes the largest accepted upload body */
    public record Uploads(long maxBytes) {
        public Uploads {
            maxBytes = maxBytes <= 0 ? 1L << 30 : maxBytes;
        }
    }

    /** @param jsonMaxElements the largest merged layer ({@code out * in}) served as JSON */
    public record Results(long jsonMaxElements) {
        public Results {
            jsonMaxElements = jsonMaxElements <= 0 ? 1L << 20 : jsonMaxElements;
        }
    }

    /**
     * @param syncMaxElements the largest layer ({@code out * in}) merged within the request; larger
     *     ones are queued as jobs for the workers
     */
    public record Merges(long syncMaxElements) {
        public static final long DEFAULT_SYNC_MAX_ELEMENTS = 1L << 22;

        public Merges {
            syncMaxElements = syncMaxElements <= 0 ? DEFAULT_SYNC_MAX_ELEMENTS : syncMaxElements;
        }
    }

    /**
     * @param requests GET requests sent to the instance's own port before readiness; 0 turns the warm-up off
     * @param maxDuration the warm-up ends after this long even if fewer requests were sent
     */
    public record WarmUp(int requests, Duration maxDuration) {
        public static final int DEFAULT_REQUESTS = 12_000;

        public WarmUp {
            requests = Math.max(0, requests);
            maxDuration = maxDuration == null ? Duration.ofSeconds(20) : maxDuration;
        }
    }
}
