package io.qalora.job;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.stereotype.Component;

/**
 * In-process signals between the API side and this instance's workers: a wake-up when a job was
 * queued, and the cancel flags of the jobs running here (other instances learn of a cancel from
 * the database at their next heartbeat).
 */
@Component
public class JobSignals {

    private final Object queued = new Object();
    private final Map<UUID, AtomicBoolean> running = new ConcurrentHashMap<>();

    void jobQueued() {
        synchronized (queued) {
            queued.notifyAll();
        }
    }

    void awaitQueued(long millis) throws InterruptedException {
        synchronized (queued) {
            queued.wait(millis);
        }
    }

    AtomicBoolean started(UUID jobId) {
        AtomicBoolean flag = new AtomicBoolean();
        running.put(jobId, flag);
        return flag;
    }

    void ended(UUID jobId) {
        running.remove(jobId);
    }

    void cancel(UUID jobId) {
        AtomicBoolean flag = running.get(jobId);
        if (flag != null) {
            flag.set(true);
        }
    }

    int runningHere() {
        return running.size();
    }
}
