package io.qalora.job;

import io.qalora.quant.QuantizerKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A request to merge an adapter into a layer, as the client sent it: the adapter as LoRA factors
 * or as a PEFT checkpoint, and how to quantize the merged weight (absent values take the training
 * defaults: 4 bits, group size 64, asymmetric, RTN).
 */
public record MergeSubmission(UUID layerId, Adapter adapter, Integer quantizationBits, Integer groupSize,
        Boolean symmetric, QuantizerKind quantizer, UUID calibrationDatasetId, Map<String, String> metadata) {

    public MergeSubmission {
        metadata = metadata == null ? Map.of() : metadata;
    }

    /** Where the adapter comes from. */
    public sealed interface Adapter permits Factors, Peft {
    }

    /**
     * The factors as JSON arrays: {@code loraA [r][in]} and {@code loraB [out][r]}; {@code alpha}
     * absent or {@code <= 0} means {@code r} (scaling 1), as the spec fixes.
     */
    public record Factors(float[][] loraA, float[][] loraB, Double alpha, Boolean rsLora) implements Adapter {
    }

    /** A PEFT checkpoint zip, and the module to merge when it adapts several (null otherwise). */
    public record Peft(byte[] zip, String module) implements Adapter {
    }

    /** A fingerprint of the request's content, to tell a retry from a different request under one key. */
    String fingerprint() {
        MessageDigest digest = Sha256.digest();
        text(digest, "merge|" + layerId + "|" + quantizationBits + "|" + groupSize + "|" + symmetric + "|" + quantizer
                + "|" + calibrationDatasetId + "|" + new TreeMap<>(metadata));
        if (adapter instanceof Factors f) {
            text(digest, "|factors|" + f.alpha() + "|" + f.rsLora());
            matrix(digest, f.loraA());
            matrix(digest, f.loraB());
        } else if (adapter instanceof Peft p) {
            text(digest, "|peft|" + p.module() + "|" + (p.zip() == null ? -1 : p.zip().length));
            if (p.zip() != null) {
                digest.update(p.zip());
            }
        }
        return Sha256.hex(digest);
    }

    private static void text(MessageDigest digest, String s) {
        digest.update(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Every row with its length, so that different shapes of the same values differ. */
    private static void matrix(MessageDigest digest, float[][] rows) {
        if (rows == null) {
            text(digest, "|null");
            return;
        }
        text(digest, "|" + rows.length);
        for (float[] row : rows) {
            if (row == null) {
                text(digest, "|-");
                continue;
            }
            ByteBuffer bytes = ByteBuffer.allocate(4 + 4 * row.length).putInt(row.length);
            for (float v : row) {
                bytes.putFloat(v);
            }
            digest.update(bytes.array());
        }
    }
}
