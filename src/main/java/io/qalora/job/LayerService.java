package io.qalora.job;

import io.qalora.InvalidParameterException;
import io.qalora.tensor.DenseLayer;
import io.qalora.tensor.SafetensorsException;
import io.qalora.tensor.SafetensorsHeader;
import io.qalora.tensor.SafetensorsReader;
import io.qalora.tensor.SafetensorsRule;
import io.qalora.tensor.SafetensorsWriter;
import io.qalora.tensor.TensorInfo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionOperations;

/** Uploads, lists, serves and deletes base layers. */
@Service
public class LayerService {

    private final ArtifactRepository artifacts;
    private final JobRepository jobs;
    private final BlobStore blobs;
    private final TransactionOperations tx;
    private final QaLoraProperties properties;
    private final Clock clock;

    public LayerService(ArtifactRepository artifacts, JobRepository jobs, BlobStore blobs, TransactionOperations tx,
            QaLoraProperties properties, Clock clock) {
        this.artifacts = artifacts;
        this.jobs = jobs;
        this.blobs = blobs;
        this.tx = tx;
        this.properties = properties;
        this.clock = clock;
    }

    /**
     * Stores a safetensors file holding {@code weight [out, in]} and optionally {@code bias [out]}
     * (F32, F16, BF16 or F64), streaming it: the header is checked first, the bytes go to the
     * store in chunks while their values are checked to be finite, and the file is stored completely
     * or not at all.
     */
    public LayerInfo upload(String name, InputStream safetensors) {
        SafetensorsUpload upload = SafetensorsUpload.begin(safetensors, Set.of(), Set.of(DenseLayer.WEIGHT, DenseLayer.BIAS));
        SafetensorsHeader header = upload.header();
        TensorInfo weight = LayerShapes.weight(header);
        boolean hasBias = LayerShapes.bias(header, weight.shape()[0]);
        return tx.execute(status -> {
            BlobRef blob = blobs.write(upload.body(), properties.uploads().maxBytes());
            LayerInfo layer = new LayerInfo(UUID.randomUUID(), nameOrDefault(name), weight.shape()[1], weight.shape()[0],
                    hasBias, blob, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
            artifacts.insertLayer(layer);
            return layer;
        });
    }

    /** Stores a layer given as arrays (the JSON form), as F32 safetensors. */
    public LayerInfo upload(String name, DenseLayer layer) {
        byte[] bytes = SafetensorsWriter.toBytes(Map.of(), layer.toTensors());
        return upload(name, new ByteArrayInputStream(bytes));
    }

    public LayerInfo get(UUID id) {
        return artifacts.findLayer(id).orElseThrow(() -> new NotFoundException("layer", id));
    }

    public Page<LayerInfo> list(int limit, UUID after) {
        return artifacts.listLayers(Paging.limit(limit), after);
    }

    /** The layer's safetensors bytes as uploaded, streamed and checked against their SHA-256. */
    public InputStream openWeights(UUID id) {
        return blobs.open(get(id).blob());
    }

    /** The layer as the engine needs it, every value converted to float32 and checked finite. */
    public DenseLayer load(LayerInfo layer) {
        try (InputStream in = blobs.open(layer.blob())) {
            return DenseLayer.fromSafetensors(SafetensorsReader.read(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes the layer and its bytes; refused (409) while a queued or running job uses it. */
    public void delete(UUID id) {
        tx.executeWithoutResult(status -> {
            LayerInfo layer = get(id);
            if (jobs.layerInUse(id)) {
                throw new ConflictException("layer " + id + " is used by a queued or running job");
            }
            artifacts.deleteLayer(id);
            blobs.delete(layer.blob().id());
        });
    }

    static String nameOrDefault(String name) {
        if (name == null || name.isBlank()) {
            return "unnamed";
        }
        InvalidParameterException.require(name.length() <= 200, "name", "must be at most 200 characters");
        return name.strip();
    }

    /** The shape rules of an uploaded layer file. */
    static final class LayerShapes {
        private LayerShapes() {
        }

        static TensorInfo weight(SafetensorsHeader header) {
            TensorInfo weight = find(header, DenseLayer.WEIGHT);
            if (weight == null) {
                throw new SafetensorsException(SafetensorsRule.MISSING_TENSOR, DenseLayer.WEIGHT,
                        "a layer file needs a tensor 'weight' of shape [out, in]");
            }
            requireFloating(weight);
            if (weight.shape().length != 2 || weight.shape()[0] < 1 || weight.shape()[1] < 1) {
                throw new SafetensorsException(SafetensorsRule.WRONG_SHAPE, DenseLayer.WEIGHT,
                        "must be 2-dimensional [out, in] with both at least 1, was " + java.util.Arrays.toString(weight.shape()));
            }
            for (TensorInfo t : header.tensors()) {
                if (!t.name().equals(DenseLayer.WEIGHT) && !t.name().equals(DenseLayer.BIAS)) {
                    throw new SafetensorsException(SafetensorsRule.BAD_ENTRY, t.name(),
                            "a layer file holds only 'weight' and 'bias'");
                }
            }
            return weight;
        }

        static boolean bias(SafetensorsHeader header, int out) {
            TensorInfo bias = find(header, DenseLayer.BIAS);
            if (bias == null) {
                return false;
            }
            requireFloating(bias);
            if (bias.shape().length != 1 || bias.shape()[0] != out) {
                throw new SafetensorsException(SafetensorsRule.WRONG_SHAPE, DenseLayer.BIAS,
                        "must be [" + out + "] to match weight, was " + java.util.Arrays.toString(bias.shape()));
            }
            return true;
        }

        static TensorInfo find(SafetensorsHeader header, String name) {
            return header.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
        }

        static void requireFloating(TensorInfo t) {
            if (!t.dtype().isFloating()) {
                throw new SafetensorsException(SafetensorsRule.WRONG_DTYPE, t.name(),
                        "must be F32, F16, BF16 or F64, was " + t.dtype());
            }
        }
    }
}
