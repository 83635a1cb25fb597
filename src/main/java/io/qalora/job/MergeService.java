package io.qalora.job;

import static io.qalora.InvalidParameterException.require;

import io.qalora.lora.PeftAdapter;
import io.qalora.lora.PeftExport;
import io.qalora.lora.PeftImport;
import io.qalora.lora.SafetensorsExport;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizerKind;
import io.qalora.tensor.DenseLayer;
import io.qalora.tensor.SafetensorsWriter;
import java.io.ByteArrayInputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionOperations;

/**
 * Merges an existing adapter into a layer without training: {@code W' = W + s B A}, quantized with
 * RTN or GPTQ. A merge is a job of kind {@link JobKind#MERGE}, so results, downloads, listings,
 * events and metrics are those of every job. A layer of at most {@code qalora.merges.sync-max-elements}
 * weights is merged within the request and stored as a SUCCEEDED job in one transaction; a larger one
 * (or any, when the client asks) is queued for the workers. Either way every check runs first, and
 * a rejected request stores nothing.
 */
@Service
public class MergeService {

    /** Calibration rows beyond {@link Calibration#MAX_ROWS} are sampled with this seed, so a merge is repeatable. */
    static final long CALIBRATION_SEED = 0;

    private final JobRepository jobs;
    private final LayerService layers;
    private final DatasetService datasets;
    private final BlobStore blobs;
    private final JobSignals signals;
    private final JobMetrics metrics;
    private final TransactionOperations tx;
    private final Clock clock;
    private final long syncMaxElements;

    public MergeService(JobRepository jobs, LayerService layers, DatasetService datasets, BlobStore blobs,
            JobSignals signals, JobMetrics metrics, TransactionOperations tx, Clock clock,
            QaLoraProperties properties) {
        this.jobs = jobs;
        this.layers = layers;
        this.datasets = datasets;
        this.blobs = blobs;
        this.signals = signals;
        this.metrics = metrics;
        this.tx = tx;
        this.clock = clock;
        this.syncMaxElements = properties.merges().syncMaxElements();
    }

    /** A checked request: the layer, the factors, and the settings (the adapter blob is not written yet). */
    private record Checked(LayerInfo layer, PeftAdapter factors, String module, QuantSpec spec,
            QuantizerKind quantizer, DatasetInfo calibration) {

        MergeSettings settings(BlobRef adapter) {
            return new MergeSettings(adapter, module, factors.rank(), factors.alpha(), factors.rsLora(), spec.bits(),
                    spec.groupSize(), spec.symmetric(), quantizer, calibration == null ? null : calibration.id());
        }
    }

    /**
     * Checks the request, then merges it now (a SUCCEEDED job, {@code created}) or queues it (a
     * QUEUED job). {@code queue} queues whatever the layer's size. With an idempotency key, a retry
     * of the same request returns the first job, and a different request under the key is a conflict.
     */
    public JobService.Submitted submit(MergeSubmission request, String idempotencyKey, boolean queue) {
        String fingerprint = request.fingerprint();
        if (idempotencyKey != null) {
            Submissions.checkIdempotencyKey(idempotencyKey);
            Optional<JobService.Submitted> earlier = Submissions.replay(jobs, idempotencyKey, fingerprint);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        Checked checked = check(request);
        byte[] adapterFile = SafetensorsWriter.toBytes(SafetensorsExport.adapter(checked.factors(), checked.spec()));
        long elements = (long) checked.layer().outFeatures() * checked.layer().inFeatures();
        try {
            return !queue && elements <= syncMaxElements
                    ? mergeNow(checked, adapterFile, request, idempotencyKey, fingerprint)
                    : enqueue(checked, adapterFile, request, idempotencyKey, fingerprint);
        } catch (DuplicateKeyException raced) {
            return Submissions.replay(jobs, idempotencyKey, fingerprint).orElseThrow(() -> raced);
        }
    }

    private JobService.Submitted mergeNow(Checked c, byte[] adapterFile, MergeSubmission request, String key,
            String fingerprint) {
        Instant started = now();
        UUID id = UUID.randomUUID();
        DenseLayer base = layers.load(c.layer());
        Calibration calibration = calibration(c);
        AdapterMerge.Outcome outcome = AdapterMerge.run(id, c.layer(), base, c.factors(), c.spec(), c.quantizer(),
                Sha256.hex(adapterFile), calibration, c.calibration());
        Instant finished = now();
        Job job = tx.execute(status -> {
            BlobRef adapter = blobs.write(new ByteArrayInputStream(adapterFile), Long.MAX_VALUE);
            BlobRef merged = blobs.write(new ByteArrayInputStream(outcome.mergedFile()), Long.MAX_VALUE);
            Job done = new Job(id, JobStatus.SUCCEEDED, c.layer().id(), null, null, null, false, request.metadata(),
                    Progress.NONE, null, null, null, 1, started, started, finished, c.settings(adapter));
            jobs.insertSucceeded(done, key, fingerprint, new StoredResult(outcome.report(), merged, adapter));
            jobs.appendEvents(List.of(
                    JobEvent.of(id, JobEventType.STATE, started, null, null, null, "RUNNING in the request"),
                    JobEvent.of(id, JobEventType.NOTE, finished, null, null, null, note(c, calibration)),
                    JobEvent.of(id, JobEventType.STATE, finished, null, null, null, JobStatus.SUCCEEDED.name())));
            return done;
        });
        metrics.jobSubmitted();
        metrics.mergedQuantizationError(c.spec().bits(),
                outcome.report().quantization().mergedWeights().averageError());
        metrics.jobFinished(JobStatus.SUCCEEDED, Duration.between(started, finished));
        return new JobService.Submitted(job, true);
    }

    private JobService.Submitted enqueue(Checked c, byte[] adapterFile, MergeSubmission request, String key,
            String fingerprint) {
        Instant created = now();
        Job job = tx.execute(status -> {
            BlobRef adapter = blobs.write(new ByteArrayInputStream(adapterFile), Long.MAX_VALUE);
            Job queued = new Job(UUID.randomUUID(), JobStatus.QUEUED, c.layer().id(), null, null, null, false,
                    request.metadata(), Progress.NONE, null, null, null, 0, created, null, null, c.settings(adapter));
            jobs.insert(queued, key, fingerprint);
            jobs.appendEvents(List.of(JobEvent.of(queued.id(), JobEventType.STATE, created, null, null, null,
                    JobStatus.QUEUED.name())));
            return queued;
        });
        metrics.jobSubmitted();
        signals.jobQueued();
        return new JobService.Submitted(job, true);
    }

    /** GPTQ's calibration inputs for a checked request; null for RTN. */
    private Calibration calibration(Checked c) {
        return c.calibration() == null ? null : calibration(datasets, c.calibration());
    }

    static Calibration calibration(DatasetService datasets, DatasetInfo info) {
        return Calibration.of(datasets.loadInputs(info), info.rows(), info.inFeatures(), CALIBRATION_SEED);
    }

    static String note(MergeSettings m, Calibration calibration) {
        return "merged a rank-" + m.rank() + " adapter with " + m.quantizer()
                + (calibration == null ? "" : " calibrated on " + calibration.rows() + " rows");
    }

    private static String note(Checked c, Calibration calibration) {
        return note(c.settings(null), calibration);
    }

    private Checked check(MergeSubmission request) {
        require(request.layerId() != null, "layerId", "is required");
        require(request.adapter() != null, "adapter", "is required");
        QuantSpec spec = new QuantSpec(or(request.quantizationBits(), 4), or(request.groupSize(), 64),
                or(request.symmetric(), false));
        QuantizerKind quantizer = request.quantizer() == null ? QuantizerKind.RTN : request.quantizer();
        Submissions.checkMetadata(request.metadata());
        LayerInfo layer = layers.get(request.layerId());
        PeftAdapter factors;
        String module = null;
        String adapterField;
        if (request.adapter() instanceof MergeSubmission.Factors f) {
            factors = factors(f, layer);
            adapterField = "loraA";
        } else {
            MergeSubmission.Peft peft = (MergeSubmission.Peft) request.adapter();
            factors = peft(peft, layer);
            module = factors.moduleName();
            adapterField = "adapter";
        }
        int maxRank = Math.min(layer.inFeatures(), layer.outFeatures());
        require(factors.rank() <= maxRank, adapterField, "has rank " + factors.rank()
                + "; at most min(inFeatures, outFeatures) = " + maxRank + " is merged");
        DatasetInfo calibration = null;
        if (quantizer.needsCalibration()) {
            require(request.calibrationDatasetId() != null, "calibrationDatasetId",
                    "is required with quantizer " + quantizer + ", which calibrates on its inputs");
            calibration = datasets.get(request.calibrationDatasetId());
            require(calibration.inFeatures() == layer.inFeatures(), "calibrationDatasetId", "dataset inFeatures "
                    + calibration.inFeatures() + " differs from the layer's inFeatures " + layer.inFeatures());
        } else {
            require(request.calibrationDatasetId() == null, "calibrationDatasetId",
                    "is used only by quantizer GPTQ; " + quantizer + " needs no calibration");
        }
        return new Checked(layer, factors, module, spec, quantizer, calibration);
    }

    /** The JSON factors, checked against the layer: {@code A [r, in]}, {@code B [out, r]}, all finite. */
    private static PeftAdapter factors(MergeSubmission.Factors f, LayerInfo layer) {
        require(f.loraA() != null, "loraA", "is required");
        require(f.loraB() != null, "loraB", "is required");
        float[] a = Matrices.flatten("loraA", f.loraA());
        float[] b = Matrices.flatten("loraB", f.loraB());
        int rank = f.loraA().length;
        int aCols = f.loraA()[0].length;
        int bCols = f.loraB()[0].length;
        require(aCols == layer.inFeatures(), "loraA", "must be [r, " + layer.inFeatures()
                + "] for the layer's inFeatures, was [" + rank + ", " + aCols + "]");
        require(f.loraB().length == layer.outFeatures(), "loraB", "must be [" + layer.outFeatures()
                + ", r] for the layer's outFeatures, was [" + f.loraB().length + ", " + bCols + "]");
        require(bCols == rank, "loraB", "must have " + rank + " columns, the rank of loraA (its rows), was " + bCols);
        requireFinite("loraA", a, aCols);
        requireFinite("loraB", b, bCols);
        require(f.alpha() == null || Double.isFinite(f.alpha()), "alpha", "must be finite, was " + f.alpha());
        double alpha = f.alpha() == null || f.alpha() <= 0 ? rank : f.alpha();
        require(Float.isFinite((float) alpha), "alpha", "must fit in float32, was " + alpha);
        return new PeftAdapter(PeftExport.DEFAULT_MODULE, rank, aCols, f.loraB().length, (float) alpha,
                Boolean.TRUE.equals(f.rsLora()), a, b);
    }

    /** The PEFT checkpoint's module, checked against the layer. */
    private static PeftAdapter peft(MergeSubmission.Peft p, LayerInfo layer) {
        require(p.zip() != null && p.zip().length > 0, "adapter", "is required: a PEFT checkpoint zip");
        require(p.module() == null || !p.module().isBlank(), "module", "must not be blank");
        PeftAdapter a = PeftImport.read(p.zip(), p.module());
        require(a.inFeatures() == layer.inFeatures() && a.outFeatures() == layer.outFeatures(), "adapter",
                "adapts a weight [" + a.outFeatures() + ", " + a.inFeatures() + "] (module " + a.moduleName()
                        + ") but the layer is [" + layer.outFeatures() + ", " + layer.inFeatures() + "]");
        require(a.alpha() > 0, PeftExport.CONFIG_FILE + " lora_alpha", "must be positive for a merge, was "
                + a.alpha() + " (PEFT would scale the update by " + a.scaling() + ")");
        return a;
    }

    private static void requireFinite(String field, float[] values, int cols) {
        for (int i = 0; i < values.length; i++) {
            require(Float.isFinite(values[i]), field, "[" + i / cols + "][" + i % cols + "] is " + values[i]
                    + "; every value must be finite (and within float32)");
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private static <T> T or(T value, T fallback) {
        return value == null ? fallback : value;
    }
}
