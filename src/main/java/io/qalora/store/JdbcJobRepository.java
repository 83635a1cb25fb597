package io.qalora.store;

import static io.qalora.store.Columns.instant;
import static io.qalora.store.Columns.nullableDouble;
import static io.qalora.store.Columns.nullableInt;
import static io.qalora.store.Columns.nullableLong;
import static io.qalora.store.Columns.timestamp;
import static io.qalora.store.Columns.uuid;

import io.qalora.job.BlobRef;
import io.qalora.job.Hyperparameters;
import io.qalora.job.Job;
import io.qalora.job.JobError;
import io.qalora.job.JobEvent;
import io.qalora.job.JobEventType;
import io.qalora.job.JobKind;
import io.qalora.job.JobRepository;
import io.qalora.job.JobResult;
import io.qalora.job.JobStatus;
import io.qalora.job.MergeSettings;
import io.qalora.job.Page;
import io.qalora.job.Progress;
import io.qalora.job.StoredResult;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionOperations;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The job table as the queue, after db-scheduler: a claim locks one QUEUED row with
 * {@code FOR UPDATE SKIP LOCKED} and turns it RUNNING under a lease; the lease columns are set
 * exactly while a job is RUNNING, and every later move of a RUNNING job is guarded by its owner.
 */
@Repository
public class JdbcJobRepository implements JobRepository {

    /**
     * How many of the oldest QUEUED jobs one claim considers. H2 locks every row a
     * {@code SELECT ... ORDER BY ... FOR UPDATE} reads before it sorts and limits, so a claim that
     * locked "the oldest one" would lock the whole queue there; instead a claim reads the oldest ids
     * without locking and then locks one of them by id, which both databases do row by row.
     */
    static final int CLAIM_CANDIDATES = 16;

    private static final String COLUMNS = "id, status, layer_id, training_dataset_id, validation_dataset_id,"
            + " hyperparameters, compare_with_ptq, metadata, step, total_steps, epoch, train_loss, validation_loss,"
            + " error_code, error_message, attempts, created_at, started_at, finished_at, merge_settings";

    private static final String EVENT_COLUMNS = "id, job_id, type, at, step, epoch, loss, message";

    private static final TypeReference<Map<String, String>> METADATA = new TypeReference<>() {
    };

    private static final RowMapper<JobEvent> EVENT = (rs, n) -> new JobEvent(rs.getLong("id"), uuid(rs, "job_id"),
            JobEventType.valueOf(rs.getString("type")), instant(rs, "at"), nullableLong(rs, "step"),
            nullableInt(rs, "epoch"), nullableDouble(rs, "loss"), rs.getString("message"));

    private final JdbcClient jdbc;
    private final JsonMapper json;
    private final TransactionOperations transactions;
    private final RowMapper<Job> jobMapper = this::job;

    public JdbcJobRepository(JdbcClient jdbc, JsonMapper json, TransactionOperations transactions) {
        this.jdbc = jdbc;
        this.json = json;
        this.transactions = transactions;
    }

    @Override
    public void insert(Job job, String idempotencyKey, String requestHash) {
        if (job.status() != JobStatus.QUEUED) {
            throw new IllegalArgumentException("a new job is QUEUED, not " + job.status());
        }
        insertRow(job, idempotencyKey, requestHash);
    }

    @Override
    public void insertSucceeded(Job job, String idempotencyKey, String requestHash, StoredResult result) {
        if (job.status() != JobStatus.SUCCEEDED || result == null || job.finishedAt() == null) {
            throw new IllegalArgumentException("a job inserted as finished is SUCCEEDED with a result and an end,"
                    + " not " + job.status());
        }
        transactions.executeWithoutResult(tx -> {
            insertRow(job, idempotencyKey, requestHash);
            insertResult(job.id(), result, job.finishedAt());
        });
    }

    private void insertRow(Job job, String idempotencyKey, String requestHash) {
        JobError error = job.error();
        MergeSettings merge = job.merge();
        jdbc.sql("INSERT INTO job (id, status, kind, layer_id, training_dataset_id, validation_dataset_id,"
                + " hyperparameters, merge_settings, adapter_blob_id, calibration_dataset_id,"
                + " compare_with_ptq, metadata, idempotency_key, request_hash, step, total_steps, epoch, train_loss,"
                + " validation_loss, error_code, error_message, attempts, cancel_requested, created_at, started_at,"
                + " finished_at) VALUES (:id, :status, :kind, :layerId, :trainingId, :validationId, :hyperparameters,"
                + " :merge, :adapterBlobId, :calibrationId,"
                + " :compareWithPtq, :metadata, :key, :hash, :step, :totalSteps, :epoch, :trainLoss, :validationLoss,"
                + " :errorCode, :errorMessage, :attempts, FALSE, :createdAt, :startedAt, :finishedAt)")
                .param("id", job.id()).param("status", job.status().name()).param("kind", job.kind().name())
                .param("layerId", job.layerId())
                .param("trainingId", job.trainingDatasetId()).param("validationId", job.validationDatasetId())
                .param("hyperparameters", job.hyperparameters() == null ? null
                        : json.writeValueAsString(job.hyperparameters()))
                .param("merge", merge == null ? null : json.writeValueAsString(merge))
                .param("adapterBlobId", merge == null ? null : merge.adapter().id())
                .param("calibrationId", merge == null ? null : merge.calibrationDatasetId())
                .param("compareWithPtq", job.compareWithPtq()).param("metadata", json.writeValueAsString(job.metadata()))
                .param("key", idempotencyKey).param("hash", requestHash).param("step", job.progress().step())
                .param("totalSteps", job.progress().totalSteps()).param("epoch", job.progress().epoch())
                .param("trainLoss", job.trainLoss()).param("validationLoss", job.validationLoss())
                .param("errorCode", error == null ? null : error.code())
                .param("errorMessage", error == null ? null : error.message()).param("attempts", job.attempts())
                .param("createdAt", timestamp(job.createdAt())).param("startedAt", timestamp(job.startedAt()))
                .param("finishedAt", timestamp(job.finishedAt())).update();
    }

    private void insertResult(UUID jobId, StoredResult result, Instant now) {
        jdbc.sql("INSERT INTO job_result (job_id, result, merged_blob_id, adapter_blob_id, created_at)"
                + " VALUES (:jobId, :result, :merged, :adapter, :now)")
                .param("jobId", jobId).param("result", json.writeValueAsString(result.result()))
                .param("merged", result.merged() == null ? null : result.merged().id())
                .param("adapter", result.adapter() == null ? null : result.adapter().id())
                .param("now", timestamp(now)).update();
    }

    @Override
    public Optional<Job> find(UUID id) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM job WHERE id = :id").param("id", id).query(jobMapper).optional();
    }

    @Override
    public Optional<Keyed> findByIdempotencyKey(String key) {
        return jdbc.sql("SELECT " + COLUMNS + ", request_hash FROM job WHERE idempotency_key = :key").param("key", key)
                .query((rs, n) -> new Keyed(job(rs, n), rs.getString("request_hash"))).optional();
    }

    @Override
    public Page<Job> list(JobStatus status, JobKind kind, int limit, UUID after) {
        Columns.requireLimit(limit);
        List<String> conditions = new ArrayList<>();
        if (status != null) {
            conditions.add("j.status = :status");
        }
        if (kind != null) {
            conditions.add("j.kind = :kind");
        }
        if (after != null) {
            conditions.add(Columns.OLDER_THAN_CURSOR.formatted("j"));
        }
        String where = conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
        JdbcClient.StatementSpec query = jdbc.sql("SELECT " + COLUMNS + " FROM job j" + where
                + " ORDER BY j.created_at DESC, j.id DESC FETCH FIRST :fetch ROWS ONLY").param("fetch", limit + 1L);
        if (status != null) {
            query = query.param("status", status.name());
        }
        if (kind != null) {
            query = query.param("kind", kind.name());
        }
        if (after != null) {
            query = query.param("cursorAt", Columns.cursorCreatedAt(jdbc, "job", after)).param("after", after);
        }
        return Columns.page(query.query(jobMapper).list(), limit);
    }

    @Override
    public Optional<Job> claimNext(String owner, Duration lease, Instant now) {
        Objects.requireNonNull(owner, "owner");
        return transactions.execute(tx -> {
            List<UUID> candidates = jdbc.sql("SELECT id FROM job WHERE status = 'QUEUED' ORDER BY created_at, id"
                    + " FETCH FIRST " + CLAIM_CANDIDATES + " ROWS ONLY").query(UUID.class).list();
            for (UUID id : candidates) {
                // Rechecks the status: another claimer may have committed since the read above.
                boolean locked = jdbc.sql("SELECT id FROM job WHERE id = :id AND status = 'QUEUED'"
                        + " FOR UPDATE SKIP LOCKED").param("id", id).query(UUID.class).optional().isPresent();
                if (locked) {
                    jdbc.sql("UPDATE job SET status = 'RUNNING', lease_owner = :owner, lease_expires_at = :expires,"
                            + " attempts = attempts + 1, started_at = COALESCE(started_at, :now) WHERE id = :id")
                            .param("owner", owner).param("expires", timestamp(now.plus(lease)))
                            .param("now", timestamp(now)).param("id", id).update();
                    return find(id);
                }
            }
            return Optional.<Job>empty();
        });
    }

    @Override
    public Heartbeat heartbeat(UUID id, String owner, Duration lease, Instant now, Progress progress,
            Double trainLoss) {
        // Null progress or loss means "nothing new": the stored values stay.
        int updated = jdbc.sql("UPDATE job SET lease_expires_at = :expires, step = COALESCE(:step, step),"
                + " total_steps = COALESCE(:totalSteps, total_steps), epoch = COALESCE(:epoch, epoch),"
                + " train_loss = COALESCE(:trainLoss, train_loss)"
                + " WHERE id = :id AND lease_owner = :owner AND status = 'RUNNING'")
                .param("expires", timestamp(now.plus(lease)))
                .param("step", progress == null ? null : progress.step())
                .param("totalSteps", progress == null ? null : progress.totalSteps())
                .param("epoch", progress == null ? null : progress.epoch())
                .param("trainLoss", trainLoss).param("id", id).param("owner", owner).update();
        boolean cancelRequested = jdbc.sql("SELECT cancel_requested FROM job WHERE id = :id").param("id", id)
                .query(Boolean.class).optional().orElse(false);
        return new Heartbeat(updated == 1, cancelRequested);
    }

    @Override
    public Optional<Job> requestCancel(UUID id, Instant now) {
        return transactions.execute(tx -> {
            int cancelled = jdbc.sql("UPDATE job SET status = 'CANCELLED', cancel_requested = TRUE,"
                    + " error_code = 'CANCELLED', error_message = 'cancelled before it started', finished_at = :now"
                    + " WHERE id = :id AND status = 'QUEUED'").param("now", timestamp(now)).param("id", id).update();
            if (cancelled == 0) {
                jdbc.sql("UPDATE job SET cancel_requested = TRUE WHERE id = :id AND status = 'RUNNING'")
                        .param("id", id).update();
            }
            return find(id);
        });
    }

    @Override
    public boolean finish(UUID id, String owner, JobStatus status, JobError error, Double trainLoss,
            Double validationLoss, StoredResult result, Instant now) {
        if (!status.terminal()) {
            throw new IllegalArgumentException("a job finishes in a terminal status, not " + status);
        }
        if (result != null && status != JobStatus.SUCCEEDED) {
            throw new IllegalArgumentException("only a SUCCEEDED job has a result, not a " + status + " one");
        }
        Boolean finished = transactions.execute(tx -> {
            int updated = jdbc.sql("UPDATE job SET status = :status, error_code = :errorCode,"
                    + " error_message = :errorMessage, train_loss = COALESCE(:trainLoss, train_loss),"
                    + " validation_loss = COALESCE(:validationLoss, validation_loss), finished_at = :now,"
                    + " lease_owner = NULL, lease_expires_at = NULL"
                    + " WHERE id = :id AND lease_owner = :owner AND status = 'RUNNING'")
                    .param("status", status.name()).param("errorCode", error == null ? null : error.code())
                    .param("errorMessage", error == null ? null : error.message()).param("trainLoss", trainLoss)
                    .param("validationLoss", validationLoss).param("now", timestamp(now)).param("id", id)
                    .param("owner", owner).update();
            if (updated == 1 && result != null) {
                insertResult(id, result, now);
            }
            return updated == 1;
        });
        return Boolean.TRUE.equals(finished);
    }

    @Override
    public boolean release(UUID id, String owner) {
        return jdbc.sql("UPDATE job SET " + REQUEUE_OR_CANCEL
                + " WHERE id = :id AND lease_owner = :owner AND status = 'RUNNING'")
                .param("id", id).param("owner", owner).param("now", timestamp(Instant.now())).update() == 1;
    }

    /** Back to the queue, unless a cancel was asked for meanwhile: then the job ends CANCELLED. */
    private static final String REQUEUE_OR_CANCEL = "lease_owner = NULL, lease_expires_at = NULL,"
            + " status = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE 'QUEUED' END,"
            + " error_code = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE error_code END,"
            + " error_message = CASE WHEN cancel_requested THEN 'cancelled while it was handed back' ELSE error_message END,"
            + " finished_at = CASE WHEN cancel_requested THEN :now ELSE finished_at END";

    @Override
    public List<UUID> requeueExpired(Instant now, int maxAttempts) {
        record Expired(UUID id, int attempts) {
        }
        return transactions.execute(tx -> {
            // No ORDER BY, so H2 too locks only the rows returned; a job being heartbeaten or reaped
            // by another replica right now is skipped and looked at next time.
            List<Expired> expired = jdbc.sql("SELECT id, attempts FROM job WHERE status = 'RUNNING'"
                    + " AND lease_expires_at < :now FOR UPDATE SKIP LOCKED").param("now", timestamp(now))
                    .query((rs, n) -> new Expired(uuid(rs, "id"), rs.getInt("attempts"))).list();
            for (Expired job : expired) {
                if (job.attempts() < maxAttempts) {
                    jdbc.sql("UPDATE job SET " + REQUEUE_OR_CANCEL + " WHERE id = :id")
                            .param("id", job.id()).param("now", timestamp(now)).update();
                } else {
                    jdbc.sql("UPDATE job SET status = 'FAILED', lease_owner = NULL, lease_expires_at = NULL,"
                            + " error_code = 'LEASE_EXPIRED', error_message = :message, finished_at = :now"
                            + " WHERE id = :id")
                            .param("message", "the worker's lease expired in each of " + job.attempts() + " attempts")
                            .param("now", timestamp(now)).param("id", job.id()).update();
                }
            }
            return expired.stream().map(Expired::id).toList();
        });
    }

    @Override
    public void appendEvents(List<JobEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        transactions.executeWithoutResult(tx -> {
            for (JobEvent event : events) {
                jdbc.sql("INSERT INTO job_event (job_id, type, at, step, epoch, loss, message)"
                        + " VALUES (:jobId, :type, :at, :step, :epoch, :loss, :message)")
                        .param("jobId", event.jobId()).param("type", event.type().name())
                        .param("at", timestamp(event.at())).param("step", event.step()).param("epoch", event.epoch())
                        .param("loss", event.loss()).param("message", event.message()).update();
            }
        });
    }

    @Override
    public List<JobEvent> events(UUID jobId, long after, int limit) {
        Columns.requireLimit(limit);
        return jdbc.sql("SELECT " + EVENT_COLUMNS + " FROM job_event WHERE job_id = :jobId AND id > :after"
                + " ORDER BY id FETCH FIRST :limit ROWS ONLY")
                .param("jobId", jobId).param("after", after).param("limit", limit).query(EVENT).list();
    }

    @Override
    public Optional<StoredResult> result(UUID jobId) {
        return jdbc.sql("SELECT r.result, r.merged_blob_id, m.sha256 AS merged_sha256, m.size_bytes AS merged_size,"
                + " r.adapter_blob_id, a.sha256 AS adapter_sha256, a.size_bytes AS adapter_size FROM job_result r"
                + " LEFT JOIN blob m ON m.id = r.merged_blob_id LEFT JOIN blob a ON a.id = r.adapter_blob_id"
                + " WHERE r.job_id = :jobId").param("jobId", jobId)
                .query((rs, n) -> new StoredResult(json.readValue(rs.getString("result"), JobResult.class),
                        blob(rs, "merged"), blob(rs, "adapter")))
                .optional();
    }

    @Override
    public long countByStatus(JobStatus status) {
        return jdbc.sql("SELECT COUNT(*) FROM job WHERE status = :status").param("status", status.name())
                .query(Long.class).single();
    }

    @Override
    public boolean layerInUse(UUID layerId) {
        return jdbc.sql("SELECT EXISTS (SELECT 1 FROM job WHERE layer_id = :id AND status IN ('QUEUED', 'RUNNING'))")
                .param("id", layerId).query(Boolean.class).single();
    }

    @Override
    public boolean datasetInUse(UUID datasetId) {
        return jdbc.sql("SELECT EXISTS (SELECT 1 FROM job WHERE (training_dataset_id = :id"
                + " OR validation_dataset_id = :id OR calibration_dataset_id = :id) AND status IN ('QUEUED', 'RUNNING'))")
                .param("id", datasetId).query(Boolean.class).single();
    }

    private static BlobRef blob(ResultSet rs, String prefix) throws SQLException {
        UUID id = uuid(rs, prefix + "_blob_id");
        return id == null ? null
                : new BlobRef(id, rs.getString(prefix + "_sha256"), rs.getLong(prefix + "_size"));
    }

    private Job job(ResultSet rs, int rowNum) throws SQLException {
        String errorCode = rs.getString("error_code");
        String hyperparameters = rs.getString("hyperparameters");
        String merge = rs.getString("merge_settings");
        return new Job(uuid(rs, "id"), JobStatus.valueOf(rs.getString("status")), uuid(rs, "layer_id"),
                uuid(rs, "training_dataset_id"), uuid(rs, "validation_dataset_id"),
                hyperparameters == null ? null : json.readValue(hyperparameters, Hyperparameters.class),
                rs.getBoolean("compare_with_ptq"),
                json.readValue(rs.getString("metadata"), METADATA),
                new Progress(rs.getLong("step"), rs.getLong("total_steps"), rs.getInt("epoch")),
                nullableDouble(rs, "train_loss"), nullableDouble(rs, "validation_loss"),
                errorCode == null ? null : new JobError(errorCode, rs.getString("error_message")),
                rs.getInt("attempts"), instant(rs, "created_at"), instant(rs, "started_at"),
                instant(rs, "finished_at"), merge == null ? null : json.readValue(merge, MergeSettings.class));
    }
}
