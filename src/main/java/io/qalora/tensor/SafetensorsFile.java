package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tensors and metadata of a safetensors file.
 *
 * @param metadata {@code __metadata__} entries; empty when absent
 * @param tensors tensors by name, in file (offset) order
 */
public record SafetensorsFile(Map<String, String> metadata, Map<String, Tensor> tensors) {

    /** Copies both maps, keeping their order; every key must equal its tensor's name. */
    public SafetensorsFile {
        InvalidParameterException.require(metadata != null, "metadata", "must not be null");
        InvalidParameterException.require(tensors != null, "tensors", "must not be null");
        tensors.forEach((name, t) -> InvalidParameterException.require(t != null && t.name().equals(name),
                "tensors", "key '" + name + "' must map to a tensor of that name"));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** A file with the given tensors, in list order. */
    public static SafetensorsFile of(Map<String, String> metadata, List<Tensor> tensors) {
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            if (byName.put(t.name(), t) != null) {
                throw new SafetensorsException(SafetensorsRule.DUPLICATE_NAME, t.name(),
                        "the name appears more than once");
            }
        }
        return new SafetensorsFile(metadata, byName);
    }

    /**
     * The named tensor.
     *
     * @throws SafetensorsException {@code MISSING_TENSOR} if absent
     */
    public Tensor require(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(SafetensorsRule.MISSING_TENSOR, name,
                    "is required but the file only has " + tensors.keySet());
        }
        return t;
    }

    /** The named tensor, if present. */
    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }
}
