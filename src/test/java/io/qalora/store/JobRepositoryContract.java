package io.qalora.store;

import static io.qalora.store.StoreFixtures.OTHER_HYPERPARAMETERS;
import static io.qalora.store.StoreFixtures.T0;
import static io.qalora.store.StoreFixtures.mergeResult;
import static io.qalora.store.StoreFixtures.queuedMerge;
import static io.qalora.store.StoreFixtures.queuedJob;
import static io.qalora.store.StoreFixtures.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qalora.InvalidParameterException;
import io.qalora.job.BlobRef;
import io.qalora.job.Job;
import io.qalora.job.JobError;
import io.qalora.job.JobEvent;
import io.qalora.job.JobEventType;
import io.qalora.job.JobKind;
import io.qalora.job.JobRepository.Heartbeat;
import io.qalora.job.JobRepository.Keyed;
import io.qalora.job.JobStatus;
import io.qalora.job.Page;
import io.qalora.job.Progress;
import io.qalora.job.StoredResult;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.DuplicateKeyException;
import tools.jackson.databind.json.JsonMapper;

/** What every {@link io.qalora.job.JobRepository} database must do; subclasses pick the database. */
abstract class JobRepositoryContract extends DatabaseTestSupport {

    private static final Duration LEASE = Duration.ofSeconds(30);

    private JdbcJobRepository jobs;

    @BeforeAll
    void createRepository() {
        jobs = new JdbcJobRepository(jdbc, json, transactions);
    }

    private Job insertQueued(Instant createdAt) {
        Job job = queuedJob(createdAt);
        jobs.insert(job, null, null);
        return job;
    }

    private Job claim(String owner, Instant now) {
        return jobs.claimNext(owner, LEASE, now).orElseThrow();
    }

    private Job get(UUID id) {
        return jobs.find(id).orElseThrow();
    }

    private BlobRef blob(int length) {
        byte[] bytes = randomBytes(length, length);
        return blobs.write(new ByteArrayInputStream(bytes), length);
    }

    // --- insert, find, idempotency

    @Test
    void aQueuedJobReadsBackAsItWasInsertedWithHyperparametersAndMetadata() {
        Job job = queuedJob(T0);
        Job other = new Job(UUID.randomUUID(), JobStatus.QUEUED, UUID.randomUUID(), UUID.randomUUID(), null,
                OTHER_HYPERPARAMETERS, false, Map.of(), Progress.NONE, null, null, null, 0, T0.plusNanos(999), null,
                null);

        jobs.insert(job, "key-1", "hash-1");
        jobs.insert(other, null, null);

        assertThat(jobs.find(job.id())).contains(job);
        assertThat(get(other.id())).isEqualTo(new Job(other.id(), JobStatus.QUEUED, other.layerId(),
                other.trainingDatasetId(), null, OTHER_HYPERPARAMETERS, false, Map.of(), Progress.NONE, null, null,
                null, 0, T0, null, null));
        assertThat(jobs.find(UUID.randomUUID())).isEmpty();
    }

    @Test
    void onlyAQueuedJobCanBeInserted() {
        Job queued = queuedJob(T0);
        Job running = new Job(queued.id(), JobStatus.RUNNING, queued.layerId(), queued.trainingDatasetId(), null,
                queued.hyperparameters(), false, Map.of(), Progress.NONE, null, null, null, 1, T0, T0, null);

        assertThatThrownBy(() -> jobs.insert(running, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(jobs.find(queued.id())).isEmpty();
    }

    @Test
    void aJobIsFoundByItsIdempotencyKeyWithItsRequestHash() {
        Job job = queuedJob(T0);
        jobs.insert(job, "client-key-42", "3f2a");

        assertThat(jobs.findByIdempotencyKey("client-key-42")).contains(new Keyed(job, "3f2a"));
        assertThat(jobs.findByIdempotencyKey("unknown")).isEmpty();
    }

    @Test
    void aDuplicateIdempotencyKeyIsRejectedButManyJobsMayHaveNone() {
        Job first = queuedJob(T0);
        jobs.insert(first, "same-key", "h1");
        jobs.insert(queuedJob(T0), null, null);
        jobs.insert(queuedJob(T0), null, null);

        assertThatThrownBy(() -> jobs.insert(queuedJob(T0.plusSeconds(1)), "same-key", "h2"))
                .isInstanceOf(DuplicateKeyException.class);
        assertThat(jobs.findByIdempotencyKey("same-key")).map(Keyed::job).contains(first);
        assertThat(jobs.countByStatus(JobStatus.QUEUED)).isEqualTo(3);
    }

    // --- listing

    @Test
    void jobsAreListedNewestFirstOptionallyOfOneStatusPageByPage() {
        List<Job> inserted = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            inserted.add(insertQueued(T0.plusSeconds(i)));
        }
        claim("w", T0.plusSeconds(10)); // the oldest two become RUNNING
        claim("w", T0.plusSeconds(10));

        Page<Job> all = jobs.list(null, null, 3, null);
        Page<Job> rest = jobs.list(null, null, 3, all.data().get(2).id());
        Page<Job> queued = jobs.list(JobStatus.QUEUED, null, 2, null);
        Page<Job> queuedRest = jobs.list(JobStatus.QUEUED, null, 2, queued.data().get(1).id());
        Page<Job> running = jobs.list(JobStatus.RUNNING, null, 10, null);

        assertThat(all.data()).extracting(Job::id).containsExactly(inserted.get(4).id(), inserted.get(3).id(),
                inserted.get(2).id());
        assertThat(all.hasMore()).isTrue();
        assertThat(rest.data()).extracting(Job::id).containsExactly(inserted.get(1).id(), inserted.get(0).id());
        assertThat(rest.hasMore()).isFalse();
        assertThat(queued.data()).extracting(Job::id).containsExactly(inserted.get(4).id(), inserted.get(3).id());
        assertThat(queued.hasMore()).isTrue();
        assertThat(queuedRest.data()).extracting(Job::id).containsExactly(inserted.get(2).id());
        assertThat(queuedRest.hasMore()).isFalse();
        assertThat(running.data()).extracting(Job::id).containsExactly(inserted.get(1).id(), inserted.get(0).id());
        assertThat(running.data()).extracting(Job::status).containsOnly(JobStatus.RUNNING);
        assertThat(jobs.list(JobStatus.CANCELLED, null, 10, null)).isEqualTo(new Page<>(List.of(), false));
    }

    @Test
    void jobsCanBeListedOfOneKindAndStatusPageByPage() {
        Job training = insertQueued(T0);
        Job merge = queuedMerge(T0.plusSeconds(1), UUID.randomUUID(), blob(30), null);
        jobs.insert(merge, null, null);
        Job newerMerge = queuedMerge(T0.plusSeconds(2), UUID.randomUUID(), blob(30), null);
        jobs.insert(newerMerge, null, null);

        Page<Job> merges = jobs.list(null, JobKind.MERGE, 1, null);
        assertThat(merges.data()).extracting(Job::id).containsExactly(newerMerge.id());
        assertThat(merges.hasMore()).isTrue();
        assertThat(jobs.list(null, JobKind.MERGE, 1, newerMerge.id())).isEqualTo(new Page<>(List.of(merge), false));
        assertThat(jobs.list(JobStatus.QUEUED, JobKind.TRAINING, 10, null)).isEqualTo(new Page<>(List.of(training), false));
        assertThat(jobs.list(JobStatus.RUNNING, JobKind.MERGE, 10, null).data()).isEmpty();
    }

    @Test
    void listingAfterAnUnknownJobIsAnInvalidParameter() {
        insertQueued(T0);

        assertThatThrownBy(() -> jobs.list(null, null, 10, UUID.randomUUID())).isInstanceOf(InvalidParameterException.class);
    }

    // --- the queue

    @Test
    void claimNextTakesTheOldestQueuedJobUnderALeaseAndThenNothing() {
        Job middle = insertQueued(T0.plusSeconds(2));
        Job oldest = insertQueued(T0.plusSeconds(1));
        Job newest = insertQueued(T0.plusSeconds(3));
        Instant now = T0.plusSeconds(60);

        Job claimed = claim("worker-a", now);

        assertThat(claimed.id()).isEqualTo(oldest.id());
        assertThat(claimed.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(claimed.attempts()).isOne();
        assertThat(claimed.startedAt()).isEqualTo(now);
        assertThat(claimed.hyperparameters()).isEqualTo(oldest.hyperparameters());
        assertThat(claim("worker-b", now).id()).isEqualTo(middle.id());
        assertThat(claim("worker-a", now).id()).isEqualTo(newest.id());
        assertThat(jobs.claimNext("worker-a", LEASE, now)).isEmpty();
    }

    @Test
    void claimNextOnAnEmptyQueueFindsNothing() {
        assertThat(jobs.claimNext("worker", LEASE, T0)).isEmpty();
    }

    @Test
    void twoConcurrentClaimersNeverClaimTheSameJob() throws Exception {
        Set<UUID> inserted = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            inserted.add(insertQueued(T0.plusMillis(i)).id());
        }
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<UUID>>> claimers = new ArrayList<>();
            for (String owner : List.of("worker-a", "worker-b")) {
                claimers.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    List<UUID> mine = new ArrayList<>();
                    for (var job = jobs.claimNext(owner, LEASE, T0.plusSeconds(1)); job.isPresent();
                            job = jobs.claimNext(owner, LEASE, T0.plusSeconds(1))) {
                        mine.add(job.get().id());
                    }
                    return mine;
                }));
            }
            List<UUID> a = claimers.get(0).get(30, TimeUnit.SECONDS);
            List<UUID> b = claimers.get(1).get(30, TimeUnit.SECONDS);

            Set<UUID> both = new HashSet<>(a);
            both.retainAll(b);
            assertThat(both).as("claimed by both").isEmpty();
            List<UUID> all = new ArrayList<>(a);
            all.addAll(b);
            assertThat(all).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(inserted);
            assertThat(inserted).allSatisfy(id -> assertThat(get(id).attempts()).isOne());
            assertThat(jobs.countByStatus(JobStatus.RUNNING)).isEqualTo(20);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aClaimWhoseTransactionIsStillOpenDoesNotHoldUpTheNextClaimer() throws Exception {
        Job oldest = insertQueued(T0);
        Job next = insertQueued(T0.plusSeconds(1));
        CountDownLatch claimed = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            // The first claim joins a transaction that stays open, so its row lock is still held.
            Future<UUID> holder = pool.submit(() -> transactions.execute(tx -> {
                UUID id = claim("worker-a", T0).id();
                claimed.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return id;
            }));
            assertThat(claimed.await(10, TimeUnit.SECONDS)).isTrue();

            var other = jobs.claimNext("worker-b", LEASE, T0);

            release.countDown();
            assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo(oldest.id());
            assertThat(other).map(Job::id).contains(next.id());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void aHeartbeatRenewsTheLeaseRecordsProgressAndReportsACancelRequest() {
        Job job = insertQueued(T0);
        claim("worker", T0);

        Heartbeat beat = jobs.heartbeat(job.id(), "worker", LEASE, T0.plusSeconds(25), new Progress(40, 300, 2), 0.25);

        assertThat(beat).isEqualTo(new Heartbeat(true, false));
        Job running = get(job.id());
        assertThat(running.progress()).isEqualTo(new Progress(40, 300, 2));
        assertThat(running.trainLoss()).isEqualTo(0.25);
        // The lease now ends at T0 + 55 s, not T0 + 30 s.
        assertThat(jobs.requeueExpired(T0.plusSeconds(50), 3)).isEmpty();

        jobs.requestCancel(job.id(), T0.plusSeconds(51));
        Heartbeat afterCancel = jobs.heartbeat(job.id(), "worker", LEASE, T0.plusSeconds(52), null, null);

        assertThat(afterCancel).isEqualTo(new Heartbeat(true, true));
        assertThat(get(job.id()).progress()).as("kept without news").isEqualTo(new Progress(40, 300, 2));
        assertThat(get(job.id()).trainLoss()).isEqualTo(0.25);
    }

    @Test
    void aHeartbeatOfAnotherOwnerHoldsNoLeaseAndChangesNothing() {
        Job job = insertQueued(T0);
        claim("worker", T0);

        Heartbeat beat = jobs.heartbeat(job.id(), "impostor", LEASE, T0.plusSeconds(20), new Progress(9, 9, 9), 1.0);

        assertThat(beat.leaseHeld()).isFalse();
        assertThat(get(job.id()).progress()).isEqualTo(Progress.NONE);
        assertThat(get(job.id()).trainLoss()).isNull();
        assertThat(jobs.requeueExpired(T0.plusSeconds(31), 3)).containsExactly(job.id());
    }

    @Test
    void cancellingAQueuedJobCancelsItAtOnce() {
        Job job = insertQueued(T0);

        Job cancelled = jobs.requestCancel(job.id(), T0.plusSeconds(5)).orElseThrow();

        assertThat(cancelled.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(cancelled.finishedAt()).isEqualTo(T0.plusSeconds(5));
        assertThat(cancelled.error()).extracting(JobError::code).isEqualTo("CANCELLED");
        assertThat(jobs.claimNext("worker", LEASE, T0.plusSeconds(6))).isEmpty();
    }

    @Test
    void cancellingARunningJobOnlyFlagsItForItsWorker() {
        Job job = insertQueued(T0);
        claim("worker", T0);

        Job flagged = jobs.requestCancel(job.id(), T0.plusSeconds(5)).orElseThrow();

        assertThat(flagged.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(flagged.finishedAt()).isNull();
        assertThat(jobs.heartbeat(job.id(), "worker", LEASE, T0.plusSeconds(6), null, null).cancelRequested())
                .isTrue();
    }

    @Test
    void cancellingAFinishedJobLeavesItAsItIsAndAnUnknownOneIsNotFound() {
        Job job = insertQueued(T0);
        claim("worker", T0);
        jobs.finish(job.id(), "worker", JobStatus.FAILED, new JobError("INTERNAL", "boom"), null, null, null,
                T0.plusSeconds(1));

        Job after = jobs.requestCancel(job.id(), T0.plusSeconds(2)).orElseThrow();

        assertThat(after).isEqualTo(get(job.id()));
        assertThat(after.status()).isEqualTo(JobStatus.FAILED);
        assertThat(after.error()).isEqualTo(new JobError("INTERNAL", "boom"));
        assertThat(jobs.heartbeat(job.id(), "worker", LEASE, T0.plusSeconds(3), null, null))
                .isEqualTo(new Heartbeat(false, false));
        assertThat(jobs.requestCancel(UUID.randomUUID(), T0)).isEmpty();
    }

    @Test
    void finishingStoresTheStatusLossesAndResultTogether() {
        Job job = insertQueued(T0);
        claim("worker", T0);
        jobs.heartbeat(job.id(), "worker", LEASE, T0.plusSeconds(1), new Progress(300, 300, 3), 0.2);
        BlobRef merged = blob(3000);
        BlobRef adapter = blob(700);
        StoredResult result = new StoredResult(StoreFixtures.regressionResult(), merged, adapter);

        boolean finished = jobs.finish(job.id(), "worker", JobStatus.SUCCEEDED, null, 0.125, 0.1875, result,
                T0.plusSeconds(2));

        assertThat(finished).isTrue();
        Job done = get(job.id());
        assertThat(done.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.trainLoss()).isEqualTo(0.125);
        assertThat(done.validationLoss()).isEqualTo(0.1875);
        assertThat(done.error()).isNull();
        assertThat(done.finishedAt()).isEqualTo(T0.plusSeconds(2));
        assertThat(done.progress()).isEqualTo(new Progress(300, 300, 3));
        assertThat(jobs.result(job.id())).contains(result);
        assertThat(jobs.result(job.id()).orElseThrow().result().evaluation().fullPrecision().accuracy()).isNull();
        assertThat(jobs.result(job.id()).orElseThrow().result().evaluation().ptqBaseline()).isNull();
        assertThat(jobs.heartbeat(job.id(), "worker", LEASE, T0.plusSeconds(3), null, null).leaseHeld()).isFalse();
    }

    @Test
    void aClassificationResultWithAccuraciesAndAPtqBaselineRoundTrips() {
        Job job = insertQueued(T0);
        claim("worker", T0);
        StoredResult result = new StoredResult(StoreFixtures.classificationResult(), blob(10), blob(20));

        jobs.finish(job.id(), "worker", JobStatus.SUCCEEDED, null, 0.3, 0.33, result, T0.plusSeconds(1));

        assertThat(jobs.result(job.id())).contains(result);
        assertThat(jobs.result(UUID.randomUUID())).isEmpty();
    }

    @Test
    void finishingIsRefusedToAnotherOwnerAndAfterTheLeaseWasLost() {
        Job job = insertQueued(T0);
        claim("worker", T0);
        StoredResult result = new StoredResult(StoreFixtures.regressionResult(), blob(10), blob(20));

        assertThat(jobs.finish(job.id(), "impostor", JobStatus.SUCCEEDED, null, 0.1, 0.1, result, T0)).isFalse();
        assertThat(get(job.id()).status()).isEqualTo(JobStatus.RUNNING);
        assertThat(jobs.result(job.id())).isEmpty();

        jobs.requeueExpired(T0.plusSeconds(31), 3);

        assertThat(jobs.finish(job.id(), "worker", JobStatus.SUCCEEDED, null, 0.1, 0.1, result, T0.plusSeconds(32)))
                .isFalse();
        assertThat(get(job.id()).status()).isEqualTo(JobStatus.QUEUED);
        assertThat(jobs.result(job.id())).isEmpty();
    }

    @Test
    void aResultThatCannotBeStoredLeavesTheJobRunning() {
        Job job = insertQueued(T0);
        claim("worker", T0);
        BlobRef missing = new BlobRef(UUID.randomUUID(), StoreFixtures.sha256(new byte[0]), 0);
        StoredResult result = new StoredResult(StoreFixtures.regressionResult(), missing, missing);

        assertThatThrownBy(() -> jobs.finish(job.id(), "worker", JobStatus.SUCCEEDED, null, 0.1, 0.1, result,
                T0.plusSeconds(1))).isInstanceOf(DataIntegrityViolationException.class);

        Job still = get(job.id());
        assertThat(still.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(still.finishedAt()).isNull();
        assertThat(jobs.heartbeat(job.id(), "worker", LEASE, T0.plusSeconds(2), null, null).leaseHeld()).isTrue();
    }

    @Test
    void finishingNeedsATerminalStatusAndOnlySuccessHasAResult() {
        Job job = insertQueued(T0);
        claim("worker", T0);
        StoredResult result = new StoredResult(StoreFixtures.regressionResult(), null, null);

        assertThatThrownBy(() -> jobs.finish(job.id(), "worker", JobStatus.QUEUED, null, null, null, null, T0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> jobs.finish(job.id(), "worker", JobStatus.FAILED, null, null, null, result, T0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(get(job.id()).status()).isEqualTo(JobStatus.RUNNING);
    }

    @Test
    void aFailedJobKeepsItsErrorAndHasNoResult() {
        Job job = insertQueued(T0);
        claim("worker", T0);

        assertThat(jobs.finish(job.id(), "worker", JobStatus.FAILED,
                new JobError("TRAINING_DIVERGED", "loss became NaN at step 12"), null, null, null, T0.plusSeconds(1)))
                .isTrue();

        Job failed = get(job.id());
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.error()).isEqualTo(new JobError("TRAINING_DIVERGED", "loss became NaN at step 12"));
        assertThat(failed.trainLoss()).isNull();
        assertThat(jobs.result(job.id())).isEmpty();
    }

    @Test
    void aReleasedJobIsQueuedAgainForTheNextClaim() {
        Job job = insertQueued(T0);
        claim("worker-a", T0);

        assertThat(jobs.release(job.id(), "impostor")).isFalse();
        assertThat(jobs.release(job.id(), "worker-a")).isTrue();
        assertThat(jobs.release(job.id(), "worker-a")).isFalse();

        assertThat(get(job.id()).status()).isEqualTo(JobStatus.QUEUED);
        Job again = claim("worker-b", T0.plusSeconds(5));
        assertThat(again.id()).isEqualTo(job.id());
        assertThat(again.attempts()).isEqualTo(2);
        assertThat(again.startedAt()).as("first start kept").isEqualTo(T0);
        assertThat(jobs.heartbeat(job.id(), "worker-a", LEASE, T0.plusSeconds(6), null, null).leaseHeld()).isFalse();
    }

    @Test
    void expiredLeasesAreRequeuedUntilTheAttemptsRunOutAndThenFail() {
        Job job = insertQueued(T0);
        Job alive = insertQueued(T0.plusSeconds(1));
        claim("worker-1", T0);
        claim("worker-2", T0.plusSeconds(20));

        assertThat(jobs.requeueExpired(T0.plusSeconds(30), 2)).as("expiry is strictly before now").isEmpty();
        assertThat(jobs.requeueExpired(T0.plusSeconds(31), 2)).containsExactly(job.id());
        assertThat(get(job.id()).status()).isEqualTo(JobStatus.QUEUED);
        assertThat(get(alive.id()).status()).isEqualTo(JobStatus.RUNNING);
        assertThat(jobs.heartbeat(job.id(), "worker-1", LEASE, T0.plusSeconds(32), null, null).leaseHeld()).isFalse();

        assertThat(claim("worker-3", T0.plusSeconds(40)).attempts()).isEqualTo(2);
        jobs.heartbeat(alive.id(), "worker-2", LEASE, T0.plusSeconds(45), null, null);
        Instant later = T0.plusSeconds(71);
        assertThat(jobs.requeueExpired(later, 2)).containsExactly(job.id());

        Job failed = get(job.id());
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.error().code()).isEqualTo("LEASE_EXPIRED");
        assertThat(failed.finishedAt()).isEqualTo(later);
        assertThat(failed.attempts()).isEqualTo(2);
        assertThat(get(alive.id()).status()).isEqualTo(JobStatus.RUNNING);
        assertThat(jobs.requeueExpired(later.plusSeconds(1), 2)).isEmpty();
    }

    @Test
    void jsonWrittenByAMapperThatOmitsNullsReadsBackTheSame() {
        // The application's mapper is configured with spring.jackson.default-property-inclusion=non_null.
        JsonMapper omitting = JsonMapper.builder()
                .changeDefaultPropertyInclusion(v -> v.withValueInclusion(JsonInclude.Include.NON_NULL)).build();
        JdbcJobRepository repository = new JdbcJobRepository(jdbc, omitting, transactions);
        Job job = queuedJob(T0);
        repository.insert(job, null, null);
        repository.claimNext("worker", LEASE, T0);
        StoredResult result = new StoredResult(StoreFixtures.regressionResult(), blob(5), blob(6));
        repository.finish(job.id(), "worker", JobStatus.SUCCEEDED, null, 0.1, null, result, T0.plusSeconds(1));

        String storedHyperparameters = jdbc.sql("SELECT hyperparameters FROM job WHERE id = :id")
                .param("id", job.id()).query(String.class).single();
        assertThat(storedHyperparameters).doesNotContain("maxGradNorm").contains("\"optimizer\":\"ADAM\"");
        assertThat(repository.find(job.id())).map(Job::hyperparameters).contains(job.hyperparameters());
        assertThat(jobs.find(job.id())).map(Job::metadata).contains(job.metadata());
        assertThat(repository.result(job.id())).contains(result);
        assertThat(jobs.result(job.id())).contains(result);
    }

    // --- events

    @Test
    void eventsAreAppendedInOrderAndReadAfterACursor() {
        Job job = insertQueued(T0);
        Job other = insertQueued(T0);
        List<JobEvent> appended = List.of(
                JobEvent.of(job.id(), JobEventType.STATE, T0, null, null, null, "QUEUED"),
                JobEvent.of(job.id(), JobEventType.STEP, T0.plusNanos(1_500), 1L, 1, 0.75, null),
                JobEvent.of(job.id(), JobEventType.EPOCH, T0.plusSeconds(1), 10L, 1, 0.5, null),
                JobEvent.of(job.id(), JobEventType.NOTE, T0.plusSeconds(2), null, null, null, "base outputs cached"));
        jobs.appendEvents(appended.subList(0, 2));
        jobs.appendEvents(List.of(JobEvent.of(other.id(), JobEventType.STATE, T0, null, null, null, "QUEUED")));
        jobs.appendEvents(appended.subList(2, 4));
        jobs.appendEvents(List.of());

        List<JobEvent> all = jobs.events(job.id(), 0, 100);

        assertThat(all).extracting(JobEvent::id).isSorted().doesNotHaveDuplicates();
        assertThat(all).usingRecursiveFieldByFieldElementComparatorIgnoringFields("id", "at")
                .containsExactlyElementsOf(appended);
        assertThat(all).extracting(JobEvent::at).containsExactly(T0, T0.plusNanos(1_000), T0.plusSeconds(1),
                T0.plusSeconds(2));
        assertThat(jobs.events(job.id(), all.get(1).id(), 100)).containsExactlyElementsOf(all.subList(2, 4));
        assertThat(jobs.events(job.id(), all.get(0).id(), 2)).containsExactlyElementsOf(all.subList(1, 3));
        assertThat(jobs.events(job.id(), all.get(3).id(), 100)).isEmpty();
        assertThat(jobs.events(other.id(), 0, 100)).singleElement().extracting(JobEvent::message).isEqualTo("QUEUED");
    }

    // --- counting and usage

    @Test
    void jobsAreCountedByStatus() {
        insertQueued(T0);
        insertQueued(T0.plusSeconds(1));
        Job cancelled = insertQueued(T0.plusSeconds(2));
        jobs.requestCancel(cancelled.id(), T0.plusSeconds(3));
        claim("worker", T0.plusSeconds(4));

        assertThat(jobs.countByStatus(JobStatus.QUEUED)).isOne();
        assertThat(jobs.countByStatus(JobStatus.RUNNING)).isOne();
        assertThat(jobs.countByStatus(JobStatus.CANCELLED)).isOne();
        assertThat(jobs.countByStatus(JobStatus.SUCCEEDED)).isZero();
    }

    @Test
    void artifactsAreInUseOnlyWhileAJobIsQueuedOrRunning() {
        UUID layer = UUID.randomUUID();
        UUID training = UUID.randomUUID();
        UUID validation = UUID.randomUUID();
        Job job = queuedJob(T0, layer, training, validation);
        jobs.insert(job, null, null);

        assertThat(jobs.layerInUse(layer)).isTrue();
        assertThat(jobs.datasetInUse(training)).isTrue();
        assertThat(jobs.datasetInUse(validation)).isTrue();
        assertThat(jobs.layerInUse(training)).isFalse();
        assertThat(jobs.datasetInUse(layer)).isFalse();

        claim("worker", T0);
        assertThat(jobs.layerInUse(layer)).isTrue();
        assertThat(jobs.datasetInUse(validation)).isTrue();

        jobs.finish(job.id(), "worker", JobStatus.CANCELLED, new JobError("CANCELLED", "asked to"), null, null, null,
                T0.plusSeconds(1));
        assertThat(jobs.layerInUse(layer)).isFalse();
        assertThat(jobs.datasetInUse(training)).isFalse();
        assertThat(jobs.datasetInUse(validation)).isFalse();
    }

    // --- merge jobs

    @Test
    void aQueuedMergeReadsBackWithItsSettingsIsClaimedAndFinishesWithItsAdapterAsTheResultsAdapter() {
        BlobRef adapter = blob(300);
        UUID calibration = UUID.randomUUID();
        Job merge = queuedMerge(T0, UUID.randomUUID(), adapter, calibration);
        jobs.insert(merge, "merge-key", "merge-hash");

        Job read = get(merge.id());
        assertThat(read).isEqualTo(merge);
        assertThat(read.kind()).isEqualTo(JobKind.MERGE);
        assertThat(read.hyperparameters()).isNull();
        assertThat(read.trainingDatasetId()).isNull();
        assertThat(read.merge().adapter()).isEqualTo(adapter);
        assertThat(jobs.findByIdempotencyKey("merge-key")).contains(new Keyed(merge, "merge-hash"));
        assertThat(jobs.datasetInUse(calibration)).isTrue();
        assertThat(jobs.layerInUse(merge.layerId())).isTrue();

        Job claimed = claim("worker", T0.plusSeconds(1));
        assertThat(claimed.id()).isEqualTo(merge.id());
        assertThat(claimed.merge()).isEqualTo(merge.merge());
        StoredResult result = new StoredResult(mergeResult(), blob(200), adapter);
        assertThat(jobs.finish(merge.id(), "worker", JobStatus.SUCCEEDED, null, null, null, result,
                T0.plusSeconds(2))).isTrue();

        assertThat(jobs.result(merge.id())).contains(result);
        assertThat(get(merge.id()).status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(jobs.datasetInUse(calibration)).isFalse();
    }

    @Test
    void aMergeDoneInItsRequestIsInsertedSucceededWithItsResult() {
        BlobRef adapter = blob(120);
        Job queued = queuedMerge(T0, UUID.randomUUID(), adapter, null);
        Job done = new Job(queued.id(), JobStatus.SUCCEEDED, queued.layerId(), null, null, null, false,
                queued.metadata(), Progress.NONE, null, null, null, 1, T0, T0, T0.plusMillis(3), queued.merge());
        StoredResult result = new StoredResult(mergeResult(), blob(90), adapter);

        transactions.executeWithoutResult(tx -> jobs.insertSucceeded(done, "k", "h", result));

        assertThat(get(done.id())).isEqualTo(done);
        assertThat(jobs.result(done.id())).contains(result);
        assertThat(jobs.countByStatus(JobStatus.SUCCEEDED)).isOne();
        assertThat(jobs.claimNext("worker", LEASE, T0.plusSeconds(1))).isEmpty();
        assertThatThrownBy(() -> jobs.insertSucceeded(queued, null, null, result))
                .isInstanceOf(IllegalArgumentException.class);
        Job again = new Job(UUID.randomUUID(), JobStatus.SUCCEEDED, done.layerId(), null, null, null, false, Map.of(),
                Progress.NONE, null, null, null, 1, T0, T0, T0, done.merge());
        assertThatThrownBy(() -> jobs.insertSucceeded(again, "k", "h2", new StoredResult(mergeResult(), blob(91),
                adapter))).isInstanceOf(DuplicateKeyException.class);
        assertThat(jobs.find(again.id())).isEmpty();
    }

    @Test
    void theSchemaRefusesAJobThatIsNeitherATrainingNorAMerge() {
        Job training = queuedJob(T0);
        Job withoutHyperparameters = new Job(UUID.randomUUID(), JobStatus.QUEUED, UUID.randomUUID(),
                UUID.randomUUID(), null, null, false, Map.of(), Progress.NONE, null, null, null, 0, T0, null, null);
        Job mergeWithTrainingData = new Job(UUID.randomUUID(), JobStatus.QUEUED, UUID.randomUUID(),
                training.trainingDatasetId(), null, null, false, Map.of(), Progress.NONE, null, null, null, 0, T0,
                null, null, queuedMerge(T0, UUID.randomUUID(), blob(10), null).merge());
        Job mergeOfAMissingBlob = queuedMerge(T0, UUID.randomUUID(),
                new BlobRef(UUID.randomUUID(), "0".repeat(64), 10), null);

        assertThatThrownBy(() -> jobs.insert(withoutHyperparameters, null, null))
                .isInstanceOf(DataIntegrityViolationException.class);
        assertThatThrownBy(() -> jobs.insert(mergeWithTrainingData, null, null))
                .isInstanceOf(DataIntegrityViolationException.class);
        assertThatThrownBy(() -> jobs.insert(mergeOfAMissingBlob, null, null))
                .isInstanceOf(DataIntegrityViolationException.class);
        assertThat(count("job")).isZero();
    }

    @Test
    void instantsAreStoredToTheMicrosecond() {
        Instant withNanos = Instant.parse("2025-03-01T10:15:30.123456789Z");
        Job job = queuedJob(withNanos);
        jobs.insert(job, null, null);

        Job claimed = claim("worker", withNanos.plusNanos(1));

        assertThat(get(job.id()).createdAt()).isEqualTo(withNanos.truncatedTo(ChronoUnit.MICROS));
        assertThat(claimed.startedAt()).isEqualTo(Instant.parse("2025-03-01T10:15:30.123456Z"));
    }
}
