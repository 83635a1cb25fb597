package io.qalora.job;

import io.qalora.InvalidParameterException;
import io.qalora.lora.Dataset;
import io.qalora.lora.EngineInfo;
import io.qalora.lora.Evaluation;
import io.qalora.lora.Evaluator;
import io.qalora.lora.MergedLayer;
import io.qalora.lora.Metrics;
import io.qalora.lora.NativeBlas;
import io.qalora.lora.PeftAdapter;
import io.qalora.lora.QaLoraAdapter;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.SafetensorsExport;
import io.qalora.lora.Trainer;
import io.qalora.lora.TrainingCancelledException;
import io.qalora.lora.TrainingConfig;
import io.qalora.lora.TrainingDivergedException;
import io.qalora.lora.TrainingResult;
import io.qalora.quant.QuantErrorStats;
import io.qalora.quant.QuantizerKind;
import io.qalora.quant.ZeroRoundingError;
import io.qalora.tensor.DenseLayer;
import io.qalora.tensor.SafetensorsException;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.SafetensorsWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionException;
import org.springframework.transaction.support.TransactionOperations;

/**
 * Runs one claimed job with the engine, start to end: loads the layer and datasets, trains,
 * evaluates, merges (or, for a MERGE job, only merges the stored adapter), and writes the result
 * files together with the status change in one transaction. Every failure ends as a FAILED job
 * with a code, never as a thrown exception.
 */
@Component
public class JobRunner {

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

    private final JobRepository jobs;
    private final LayerService layers;
    private final DatasetService datasets;
    private final BlobStore blobs;
    private final JobMetrics metrics;
    private final TransactionOperations tx;
    private final Clock clock;
    private final Trainer trainer = new Trainer();
    private final Duration lease;

    public JobRunner(JobRepository jobs, LayerService layers, DatasetService datasets, BlobStore blobs,
            JobMetrics metrics, TransactionOperations tx, Clock clock, QaLoraProperties properties) {
        this.lease = properties.workers().lease();
        this.jobs = jobs;
        this.layers = layers;
        this.datasets = datasets;
        this.blobs = blobs;
        this.metrics = metrics;
        this.tx = tx;
        this.clock = clock;
    }

    /** Runs {@code job}, claimed by {@code owner}; returns when it finished, failed or was handed back. */
    void run(Job job, String owner, RunningJob running) {
        Instant started = clock.instant();
        EventLog events = new EventLog(jobs, job.id(), clock);
        events.state(JobStatus.RUNNING, "attempt " + job.attempts() + " on " + owner);
        try {
            Trained trained = job.kind() == JobKind.MERGE ? merge(job, running, events) : train(job, running, events);
            finish(job, owner, JobStatus.SUCCEEDED, null, trained, running, events, started);
        } catch (TrainingCancelledException e) {
            if (running.handBack.get() && !running.cancelled.get()) {
                events.state(JobStatus.QUEUED, "handed back by " + owner);
                events.flush();
                jobs.release(job.id(), owner);
                log.info("job {} handed back to the queue", job.id());
            } else {
                finish(job, owner, JobStatus.CANCELLED, new JobError("CANCELLED", e.getMessage()), null, running, events,
                        started);
            }
        } catch (TrainingDivergedException e) {
            fail(job, owner, "TRAINING_DIVERGED", e, running, events, started);
        } catch (DataAccessException | TransactionException e) {
            // The database, not the job, failed: give the job back, or let its lease expire.
            log.warn("job {} interrupted by a database error; it returns to the queue: {}", job.id(), e.toString());
            try {
                jobs.release(job.id(), owner);
            } catch (DataAccessException | TransactionException stillDown) {
                log.warn("job {} could not be handed back; its lease will expire", job.id());
            }
        } catch (InvalidParameterException | SafetensorsException e) {
            fail(job, owner, "INVALID_INPUT", e, running, events, started);
        } catch (CorruptBlobException e) {
            fail(job, owner, "CORRUPT_DATA", e, running, events, started);
        } catch (RuntimeException | OutOfMemoryError e) {
            log.error("job {} failed", job.id(), e);
            fail(job, owner, "INTERNAL", e, running, events, started);
        }
    }

    /**
     * A finished run's report and files, before they are stored; a merge's adapter is stored
     * already ({@code storedAdapter}) instead of being a new file.
     */
    private record Trained(JobResult report, byte[] mergedFile, byte[] adapterFile, BlobRef storedAdapter) {
    }

    /** A queued merge: the stored adapter into the layer, quantized as its settings say. */
    private Trained merge(Job job, RunningJob running, EventLog events) {
        MergeSettings m = job.merge();
        LayerInfo layerInfo = layers.get(job.layerId());
        DenseLayer base = layers.load(layerInfo);
        PeftAdapter factors;
        try (InputStream in = blobs.open(m.adapter())) {
            factors = SafetensorsExport.readAdapter(SafetensorsReader.read(in), m.module());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        DatasetInfo calibrationInfo = m.calibrationDatasetId() == null ? null : datasets.get(m.calibrationDatasetId());
        Calibration calibration = calibrationInfo == null ? null : MergeService.calibration(datasets, calibrationInfo);
        if (running.shouldStop()) {
            // A merge is one step: it stops before it starts or not at all.
            throw new TrainingCancelledException(0);
        }
        AdapterMerge.Outcome outcome = AdapterMerge.run(job.id(), layerInfo, base, factors, m.quantSpec(),
                m.quantizer(), m.adapter().sha256(), calibration, calibrationInfo);
        events.note(MergeService.note(m, calibration));
        metrics.mergedQuantizationError(m.quantizationBits(),
                outcome.report().quantization().mergedWeights().averageError());
        return new Trained(outcome.report(), outcome.mergedFile(), null, m.adapter());
    }

    private Trained train(Job job, RunningJob running, EventLog events) {
        Hyperparameters hp = job.hyperparameters();
        LayerInfo layerInfo = layers.get(job.layerId());
        DatasetInfo trainingInfo = datasets.get(job.trainingDatasetId());
        DenseLayer base = layers.load(layerInfo);
        Dataset training = datasets.load(trainingInfo, base.outFeatures());
        DatasetInfo validationInfo = job.validationDatasetId() == null ? null : datasets.get(job.validationDatasetId());
        Dataset evaluationData = validationInfo == null ? training : datasets.load(validationInfo, base.outFeatures());
        TrainingConfig config = hp.toTrainingConfig();
        long trainingStart = System.nanoTime();
        TrainingResult result = trainer.train(base, training, config, new ProgressListener(running, events, metrics));
        try (QaLoraAdapter adapter = result.adapter()) {
            running.trainLoss = result.finalLoss();
            Calibration calibration = Calibration.of(training, hp.seed());
            if (hp.mergeQuantizer().needsCalibration()) {
                events.note("merging with " + hp.mergeQuantizer() + " calibrated on " + calibration.rows()
                        + " training rows");
            }
            MergedLayer merged = adapter.mergeToOriginalLayer(hp.mergeQuantizer(), calibration.inputs(),
                    calibration.rows());
            Evaluation evaluation = Evaluator.evaluate(adapter, merged, base, evaluationData);
            Metrics rtn = null;
            Metrics gptq = null;
            String best = null;
            if (job.compareWithPtq()) {
                events.note("training the LoRA+PTQ baselines: the same run without quantization, merged with RTN and GPTQ");
                try {
                    TrainingResult plain = trainer.train(base, training, config.plainLora(),
                            new ProgressListener.CancelOnly(running));
                    try (QaLoraAdapter lora = plain.adapter()) {
                        rtn = Evaluator.evaluate(lora.mergeToOriginalLayer().toDenseLayer(), evaluationData);
                        gptq = Evaluator.evaluate(lora.mergeToOriginalLayer(QuantizerKind.GPTQ, calibration.inputs(),
                                calibration.rows()).toDenseLayer(), evaluationData);
                    }
                } catch (TrainingDivergedException e) {
                    events.note("the LoRA+PTQ baseline diverged, so the comparison has no baseline: " + e.getMessage());
                }
                best = lowestLoss(Map.of("baseOnly", evaluation.baseOnly(), "ptqBaseline", rtn,
                        "ptqGptqBaseline", gptq, "quantized", evaluation.quantized()));
            }
            float[] fullPrecision = adapter.mergedWeight();
            var mergedStats = merged.weight().stats(fullPrecision);
            metrics.mergedQuantizationError(hp.quantizationBits(), mergedStats.averageError());
            JobResult.IntegerZeroRounding integerZeros = null;
            Metrics integerZeroMetrics = null;
            if (hp.quantizationTarget() == QuantizationTarget.POOLED_ZERO_POINT) {
                MergedLayer rounded = merged.withIntegerZeros();
                integerZeros = JobResult.IntegerZeroRounding.of(ZeroRoundingError.of(merged.weight()),
                        QuantErrorStats.of(fullPrecision, rounded.weight()));
                integerZeroMetrics = Evaluator.evaluate(rounded.toDenseLayer(), evaluationData);
            }
            JobResult report = new JobResult(
                    new JobResult.Quantization(adapter.loraFactorStats(), mergedStats,
                            JobResult.Quality.of(QuantErrorStats.of(fullPrecision, merged.weight())), integerZeros),
                    new JobResult.Evaluation(validationInfo == null ? "training" : "validation",
                            evaluation.fullPrecision(), evaluation.quantized(), evaluation.baseOnly(), rtn, gptq, best,
                            integerZeroMetrics),
                    new JobResult.MergedLayer(hp.quantizationBits(), hp.groupSize(), hp.symmetric(), base.inFeatures(),
                            base.outFeatures(), hp.mergeQuantizer()),
                    new JobResult.Provenance(EngineInfo.VERSION, hp.seed(), layerInfo.blob().sha256(),
                            trainingInfo.blob().sha256(), validationInfo == null ? null : validationInfo.blob().sha256(),
                            (System.nanoTime() - trainingStart) / 1e9, result.steps(), NativeBlas.threads()));
            byte[] mergedFile = SafetensorsWriter.toBytes(SafetensorsExport.merged(merged,
                    Map.of("job_id", job.id().toString(), "quantization_target", hp.quantizationTarget().name(),
                            "quantizer", hp.mergeQuantizer().name())));
            byte[] adapterFile = SafetensorsWriter.toBytes(SafetensorsExport.adapter(adapter));
            return new Trained(report, mergedFile, adapterFile, null);
        }
    }

    /** The name of the entry with the lowest finite loss. */
    static String lowestLoss(Map<String, Metrics> candidates) {
        return candidates.entrySet().stream().filter(e -> e.getValue() != null && Double.isFinite(e.getValue().loss()))
                .min(java.util.Comparator.comparingDouble((Map.Entry<String, Metrics> e) -> e.getValue().loss())
                        .thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey).orElse(null);
    }

    private void fail(Job job, String owner, String code, Throwable e, RunningJob running, EventLog events,
            Instant started) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        finish(job, owner, JobStatus.FAILED, new JobError(code, message), null, running, events, started);
    }

    private void finish(Job job, String owner, JobStatus status, JobError error, Trained result,
            RunningJob running, EventLog events, Instant started) {
        events.flush();
        Double validationLoss = result == null || job.validationDatasetId() == null ? null
                : result.report().evaluation().quantized().loss();
        boolean done = Boolean.TRUE.equals(tx.execute(s -> {
            // The last progress may be newer than the last heartbeat (a short job may never have had one).
            jobs.heartbeat(job.id(), owner, lease, clock.instant(), running.progress, running.trainLoss);
            StoredResult stored = result == null ? null : new StoredResult(result.report(),
                    blobs.write(new ByteArrayInputStream(result.mergedFile()), Long.MAX_VALUE),
                    result.adapterFile() == null ? result.storedAdapter()
                            : blobs.write(new ByteArrayInputStream(result.adapterFile()), Long.MAX_VALUE));
            boolean finished = jobs.finish(job.id(), owner, status, error, running.trainLoss, validationLoss, stored,
                    clock.instant());
            if (finished) {
                events.finalState(status, error == null ? null : error.code() + ": " + error.message());
            } else {
                s.setRollbackOnly();
            }
            return finished;
        }));
        if (done) {
            metrics.jobFinished(status, Duration.between(started, clock.instant()));
        } else {
            log.warn("job {} lost its lease before it could be finished as {}", job.id(), status);
        }
    }

    /** Batches a job's events and writes them at most every second (and at the end). */
    static final class EventLog {
        private final JobRepository jobs;
        private final java.util.UUID jobId;
        private final Clock clock;
        private final List<JobEvent> pending = new java.util.ArrayList<>();
        private long lastFlush = System.nanoTime();

        EventLog(JobRepository jobs, java.util.UUID jobId, Clock clock) {
            this.jobs = jobs;
            this.jobId = jobId;
            this.clock = clock;
        }

        synchronized void add(JobEventType type, Long step, Integer epoch, Double loss, String message) {
            pending.add(JobEvent.of(jobId, type, clock.instant(), step, epoch, loss, message));
            if (System.nanoTime() - lastFlush > 1_000_000_000L) {
                flush();
            }
        }

        void state(JobStatus status, String detail) {
            add(JobEventType.STATE, null, null, null, detail == null ? status.name() : status.name() + " " + detail);
        }

        void note(String message) {
            add(JobEventType.NOTE, null, null, null, message);
        }

        /** Writes what is pending; a database error is logged and the events wait for the next flush. */
        synchronized void flush() {
            lastFlush = System.nanoTime();
            if (pending.isEmpty()) {
                return;
            }
            try {
                jobs.appendEvents(List.copyOf(pending));
                pending.clear();
            } catch (DataAccessException e) {
                log.warn("events of job {} not written yet: {}", jobId, e.toString());
            }
        }

        /** The terminal state event, written in the caller's transaction: it commits with the status or not at all. */
        void finalState(JobStatus status, String detail) {
            jobs.appendEvents(List.of(JobEvent.of(jobId, JobEventType.STATE, clock.instant(), null, null, null,
                    detail == null ? status.name() : status.name() + " " + detail)));
        }
    }
}
