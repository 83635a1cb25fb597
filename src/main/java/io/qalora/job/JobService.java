package io.qalora.job;

import static io.qalora.InvalidParameterException.require;

import io.qalora.lora.QuantizationTarget;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionOperations;

/** Submits training jobs; lists, cancels and reports on jobs of every kind. */
@Service
public class JobService {

    /** Seeds below 2^53, so a JSON client in any language reads them back exactly. */
    private static final long SEED_BOUND = 1L << 53;

    private final JobRepository jobs;
    private final LayerService layers;
    private final DatasetService datasets;
    private final JobSignals signals;
    private final JobMetrics metrics;
    private final TransactionOperations tx;
    private final Clock clock;
    private final SplittableRandom seeds = new SplittableRandom();

    public JobService(JobRepository jobs, LayerService layers, DatasetService datasets, JobSignals signals,
            JobMetrics metrics, TransactionOperations tx, Clock clock) {
        this.jobs = jobs;
        this.layers = layers;
        this.datasets = datasets;
        this.signals = signals;
        this.metrics = metrics;
        this.tx = tx;
        this.clock = clock;
    }

    /** The outcome of a submission: the job, and whether it was created now or found by its idempotency key. */
    public record Submitted(Job job, boolean created) {
    }

    /**
     * Checks the request against the layer and datasets (shapes, labels, hyperparameter ranges) and
     * queues a job. With an idempotency key, a retry of the same request returns the first job and
     * a different request under the same key is a conflict.
     */
    public Submitted submit(JobSubmission request, String idempotencyKey) {
        String fingerprint = request.fingerprint();
        if (idempotencyKey != null) {
            Submissions.checkIdempotencyKey(idempotencyKey);
            Optional<Submitted> earlier = replay(idempotencyKey, fingerprint);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        Job job = validated(request);
        try {
            tx.executeWithoutResult(status -> {
                jobs.insert(job, idempotencyKey, fingerprint);
                jobs.appendEvents(List.of(JobEvent.of(job.id(), JobEventType.STATE, job.createdAt(), null, null, null,
                        JobStatus.QUEUED.name())));
            });
        } catch (DuplicateKeyException raced) {
            return replay(idempotencyKey, fingerprint).orElseThrow(() -> raced);
        }
        metrics.jobSubmitted();
        signals.jobQueued();
        return new Submitted(job, true);
    }

    private Optional<Submitted> replay(String key, String fingerprint) {
        return Submissions.replay(jobs, key, fingerprint);
    }

    private Job validated(JobSubmission request) {
        require(request.layerId() != null, "layerId", "is required");
        require(request.trainingDatasetId() != null, "trainingDatasetId", "is required");
        LayerInfo layer = layers.get(request.layerId());
        DatasetInfo training = datasets.get(request.trainingDatasetId());
        checkFits("trainingDatasetId", training, layer);
        if (request.validationDatasetId() != null) {
            DatasetInfo validation = datasets.get(request.validationDatasetId());
            checkFits("validationDatasetId", validation, layer);
            require(validation.kind() == training.kind(), "validationDatasetId",
                    "is " + validation.kind() + " but the training dataset is " + training.kind());
        }
        Hyperparameters hp = request.hyperparameters().resolve(() -> seeds.nextLong(SEED_BOUND));
        int maxRank = Math.min(layer.inFeatures(), layer.outFeatures());
        require(hp.rank() <= maxRank, "hyperparameters.rank",
                "must be at most min(inFeatures, outFeatures) = " + maxRank + ", was " + hp.rank());
        require(hp.quantizationTarget() != QuantizationTarget.POOLED_ZERO_POINT
                || layer.inFeatures() % hp.groupSize() == 0, "hyperparameters.groupSize",
                "must divide the layer's inFeatures = " + layer.inFeatures() + " with POOLED_ZERO_POINT, whose A "
                        + "reads whole groups of the input, was " + hp.groupSize());
        Map<String, String> metadata = request.metadata();
        Submissions.checkMetadata(metadata);
        return new Job(UUID.randomUUID(), JobStatus.QUEUED, layer.id(), training.id(), request.validationDatasetId(), hp,
                Boolean.TRUE.equals(request.compareWithPtq()), metadata, Progress.NONE, null, null, null, 0,
                clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS), null, null);
    }

    private static void checkFits(String field, DatasetInfo dataset, LayerInfo layer) {
        require(dataset.inFeatures() == layer.inFeatures(), field, "dataset inFeatures " + dataset.inFeatures()
                + " differs from the layer's inFeatures " + layer.inFeatures());
        if (dataset.kind() == DatasetKind.REGRESSION) {
            require(dataset.outFeatures() == layer.outFeatures(), field, "targets width " + dataset.outFeatures()
                    + " differs from the layer's outFeatures " + layer.outFeatures());
        } else {
            require(dataset.numClasses() <= layer.outFeatures(), field, "labels go up to " + (dataset.numClasses() - 1)
                    + " but the layer has only " + layer.outFeatures() + " outputs");
        }
    }

    public Job get(UUID id) {
        return jobs.find(id).orElseThrow(() -> new NotFoundException("job", id));
    }

    /** Jobs newest first; a null status or kind matches every job. */
    public Page<Job> list(JobStatus status, JobKind kind, int limit, UUID after) {
        return jobs.list(status, kind, Paging.limit(limit), after);
    }

    /** Stops a job: a queued one at once, a running one within one training step. Idempotent. */
    public Job cancel(UUID id) {
        Job before = get(id);
        Job after = jobs.requestCancel(id, clock.instant()).orElseThrow(() -> new NotFoundException("job", id));
        if (before.status() == JobStatus.QUEUED && after.status() == JobStatus.CANCELLED) {
            jobs.appendEvents(List.of(JobEvent.of(id, JobEventType.STATE, clock.instant(), null, null, null,
                    JobStatus.CANCELLED.name())));
            metrics.jobFinished(JobStatus.CANCELLED, java.time.Duration.ZERO);
        }
        signals.cancel(id);
        return after;
    }

    public List<JobEvent> events(UUID id, long after, int limit) {
        get(id);
        require(limit >= 1 && limit <= 10_000, "limit", "must be 1..10000, was " + limit);
        return jobs.events(id, after, limit);
    }

    /** The stored result of a succeeded job; 409 while it has none. */
    public StoredResult result(UUID id) {
        Job job = get(id);
        if (job.status() != JobStatus.SUCCEEDED) {
            throw new ConflictException("job " + id + " is " + job.status() + "; results exist once it SUCCEEDED");
        }
        return jobs.result(id).orElseThrow(() -> new ConflictException("job " + id + " has no stored result"));
    }
}
