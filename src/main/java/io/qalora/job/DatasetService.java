package io.qalora.job;

import io.qalora.InvalidParameterException;
import io.qalora.lora.Dataset;
import io.qalora.tensor.SafetensorsException;
import io.qalora.tensor.SafetensorsFile;
import io.qalora.tensor.SafetensorsHeader;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.SafetensorsRule;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.Tensor;
import io.qalora.tensor.TensorInfo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionOperations;

/**
 * Uploads, lists and deletes datasets: {@code inputs [n, in]} with either float
 * {@code targets [n, out]} (regression) or integer {@code labels [n]} (classification).
 */
@Service
public class DatasetService {

    static final String INPUTS = "inputs";
    static final String TARGETS = "targets";
    static final String LABELS = "labels";

    private final ArtifactRepository artifacts;
    private final JobRepository jobs;
    private final BlobStore blobs;
    private final TransactionOperations tx;
    private final QaLoraProperties properties;
    private final Clock clock;

    public DatasetService(ArtifactRepository artifacts, JobRepository jobs, BlobStore blobs, TransactionOperations tx,
            QaLoraProperties properties, Clock clock) {
        this.artifacts = artifacts;
        this.jobs = jobs;
        this.blobs = blobs;
        this.tx = tx;
        this.properties = properties;
        this.clock = clock;
    }

    /** Stores a safetensors dataset in one streaming pass, completely or not at all. */
    public DatasetInfo upload(String name, InputStream safetensors) {
        SafetensorsUpload upload = SafetensorsUpload.begin(safetensors, Set.of(LABELS), Set.of(INPUTS, TARGETS));
        SafetensorsHeader header = upload.header();
        TensorInfo inputs = requireTensor(header, INPUTS);
        LayerService.LayerShapes.requireFloating(inputs);
        if (inputs.shape().length != 2 || inputs.shape()[0] < 1 || inputs.shape()[1] < 1) {
            throw new SafetensorsException(SafetensorsRule.WRONG_SHAPE, INPUTS,
                    "must be [n, in] with n and in at least 1, was " + java.util.Arrays.toString(inputs.shape()));
        }
        int rows = inputs.shape()[0];
        TensorInfo targets = LayerService.LayerShapes.find(header, TARGETS);
        TensorInfo labels = LayerService.LayerShapes.find(header, LABELS);
        if ((targets == null) == (labels == null)) {
            throw new SafetensorsException(SafetensorsRule.MISSING_TENSOR, targets == null ? TARGETS : LABELS,
                    "a dataset holds either 'targets' [n, out] or 'labels' [n], exactly one of them");
        }
        for (TensorInfo t : header.tensors()) {
            if (!Set.of(INPUTS, TARGETS, LABELS).contains(t.name())) {
                throw new SafetensorsException(SafetensorsRule.BAD_ENTRY, t.name(),
                        "a dataset file holds only 'inputs' and 'targets' or 'labels'");
            }
        }
        if (targets != null) {
            LayerService.LayerShapes.requireFloating(targets);
            if (targets.shape().length != 2 || targets.shape()[0] != rows || targets.shape()[1] < 1) {
                throw new SafetensorsException(SafetensorsRule.WRONG_SHAPE, TARGETS,
                        "must be [" + rows + ", out], was " + java.util.Arrays.toString(targets.shape()));
            }
        } else {
            if (labels.dtype().isFloating()) {
                throw new SafetensorsException(SafetensorsRule.WRONG_DTYPE, LABELS,
                        "must be an integer dtype (I64, I32, I16, I8, U8), was " + labels.dtype());
            }
            if (labels.shape().length != 1 || labels.shape()[0] != rows) {
                throw new SafetensorsException(SafetensorsRule.WRONG_SHAPE, LABELS,
                        "must be [" + rows + "], was " + java.util.Arrays.toString(labels.shape()));
            }
        }
        return tx.execute(status -> {
            BlobRef blob = blobs.write(upload.body(), properties.uploads().maxBytes());
            Integer numClasses = labels == null ? null
                    : numClasses(new Tensor(LABELS, labels.dtype(), labels.shape(), upload.captured(LABELS)));
            DatasetInfo dataset = new DatasetInfo(UUID.randomUUID(), LayerService.nameOrDefault(name),
                    targets != null ? DatasetKind.REGRESSION : DatasetKind.CLASSIFICATION, rows, inputs.shape()[1],
                    targets != null ? targets.shape()[1] : null, numClasses, blob, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
            artifacts.insertDataset(dataset);
            return dataset;
        });
    }

    /** Stores a dataset given as arrays (the JSON form): exactly one of targets and labels. */
    public DatasetInfo upload(String name, float[][] inputs, float[][] targets, long[] labels) {
        InvalidParameterException.require(inputs != null && inputs.length > 0, INPUTS, "must hold at least one row");
        InvalidParameterException.require((targets == null) != (labels == null), TARGETS,
                "give either targets or labels, exactly one of them");
        List<Tensor> tensors = new ArrayList<>();
        float[] flatInputs = Matrices.flatten(INPUTS, inputs);
        tensors.add(Tensor.f32(INPUTS, new int[] {inputs.length, flatInputs.length / inputs.length}, flatInputs));
        if (targets != null) {
            InvalidParameterException.require(targets.length == inputs.length, TARGETS,
                    "has " + targets.length + " rows, inputs has " + inputs.length);
            float[] flatTargets = Matrices.flatten(TARGETS, targets);
            tensors.add(Tensor.f32(TARGETS, new int[] {targets.length, flatTargets.length / targets.length}, flatTargets));
        } else {
            InvalidParameterException.require(labels.length == inputs.length, LABELS,
                    "has " + labels.length + " values, inputs has " + inputs.length + " rows");
            tensors.add(Tensor.i64(LABELS, new int[] {labels.length}, labels));
        }
        return upload(name, new ByteArrayInputStream(SafetensorsWriter.toBytes(Map.of(), tensors)));
    }

    public DatasetInfo get(UUID id) {
        return artifacts.findDataset(id).orElseThrow(() -> new NotFoundException("dataset", id));
    }

    public Page<DatasetInfo> list(int limit, UUID after) {
        return artifacts.listDatasets(Paging.limit(limit), after);
    }

    /** The dataset as the engine needs it; labels are checked against {@code outFeatures}. */
    public Dataset load(DatasetInfo info, int outFeatures) {
        SafetensorsFile file = read(info);
        float[] inputs = file.require(INPUTS).toFloatArray();
        if (info.kind() == DatasetKind.REGRESSION) {
            return Dataset.regression(inputs, file.require(TARGETS).toFloatArray(), info.rows(), info.inFeatures(),
                    info.outFeatures());
        }
        long[] raw = file.require(LABELS).toLongArray();
        int[] labels = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            labels[i] = (int) raw[i];
        }
        return Dataset.classification(inputs, labels, info.rows(), info.inFeatures(), outFeatures);
    }

    /** Only the inputs {@code [rows, inFeatures]}, as float32 (calibration needs no targets or labels). */
    public float[] loadInputs(DatasetInfo info) {
        return read(info).require(INPUTS).toFloatArray();
    }

    private SafetensorsFile read(DatasetInfo info) {
        try (InputStream in = blobs.open(info.blob())) {
            return SafetensorsReader.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Deletes the dataset and its bytes; refused (409) while a queued or running job uses it (to
     * train, validate or calibrate).
     */
    public void delete(UUID id) {
        tx.executeWithoutResult(status -> {
            DatasetInfo dataset = get(id);
            if (jobs.datasetInUse(id)) {
                throw new ConflictException("dataset " + id + " is used by a queued or running job");
            }
            artifacts.deleteDataset(id);
            blobs.delete(dataset.blob().id());
        });
    }

    private static TensorInfo requireTensor(SafetensorsHeader header, String name) {
        TensorInfo t = LayerService.LayerShapes.find(header, name);
        if (t == null) {
            throw new SafetensorsException(SafetensorsRule.MISSING_TENSOR, name, "a dataset file needs '" + name + "'");
        }
        return t;
    }

    private static int numClasses(Tensor labels) {
        long max = -1;
        long[] values = labels.toLongArray();
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] > Integer.MAX_VALUE - 1) {
                throw new SafetensorsException(SafetensorsRule.BAD_ENTRY, LABELS,
                        "label " + values[i] + " at row " + i + " is not a class index (0 or more)");
            }
            max = Math.max(max, values[i]);
        }
        return (int) max + 1;
    }
}
