package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes safetensors files the reference implementation accepts: tensors laid out contiguously in
 * the given order, {@code __metadata__} first and omitted when empty, and the header padded with
 * spaces so the data buffer starts at a multiple of 8.
 */
public final class SafetensorsWriter {

    private SafetensorsWriter() {
    }

    /**
     * Streams the file to {@code out} (which is flushed, not closed) without copying tensor data.
     *
     * @throws SafetensorsException {@code DUPLICATE_NAME}, {@code RESERVED_NAME}, {@code BAD_METADATA}
     *     or {@code HEADER_TOO_LARGE}
     * @throws IOException if writing fails
     */
    public static void write(OutputStream out, Map<String, String> metadata, List<Tensor> tensors)
            throws IOException {
        InvalidParameterException.require(out != null, "out", "must not be null");
        byte[] header = header(metadata, tensors);
        out.write(prefix(header.length));
        out.write(header);
        for (Tensor t : tensors) {
            out.write(t.data());
        }
        out.flush();
    }

    /** The whole file as one array; see {@link #write}. */
    public static byte[] toBytes(Map<String, String> metadata, List<Tensor> tensors) {
        byte[] header = header(metadata, tensors);
        long total = SafetensorsHeader.PREFIX_LENGTH + (long) header.length;
        for (Tensor t : tensors) {
            total += t.data().length;
        }
        if (total > SafetensorsReader.MAX_TENSOR_BYTES) {
            throw new SafetensorsException(SafetensorsRule.TENSOR_TOO_LARGE, null,
                    "the file would be " + total + " bytes, too large for one array; use write(OutputStream, ...)");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) total);
        buf.put(prefix(header.length)).put(header);
        for (Tensor t : tensors) {
            buf.put(t.data());
        }
        return buf.array();
    }

    /** The same file a call to {@link #write} would produce, for callers holding a {@link SafetensorsFile}. */
    public static byte[] toBytes(SafetensorsFile file) {
        InvalidParameterException.require(file != null, "file", "must not be null");
        return toBytes(file.metadata(), List.copyOf(file.tensors().values()));
    }

    private static byte[] header(Map<String, String> metadata, List<Tensor> tensors) {
        InvalidParameterException.require(metadata != null, "metadata", "must not be null; pass Map.of()");
        InvalidParameterException.require(tensors != null, "tensors", "must not be null");
        metadata.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new SafetensorsException(SafetensorsRule.BAD_METADATA, null,
                        "__metadata__ keys and values must not be null (key " + k + ")");
            }
        });
        Set<String> names = new HashSet<>();
        for (Tensor t : tensors) {
            InvalidParameterException.require(t != null, "tensors", "must not contain null");
            if (TensorInfo.METADATA_KEY.equals(t.name())) {
                throw new SafetensorsException(SafetensorsRule.RESERVED_NAME, t.name(),
                        "the name is reserved for file metadata");
            }
            if (!names.add(t.name())) {
                throw new SafetensorsException(SafetensorsRule.DUPLICATE_NAME, t.name(),
                        "the name appears more than once");
            }
        }
        byte[] header = HeaderJson.write(metadata, tensors);
        if (header.length > SafetensorsHeader.MAX_HEADER_LENGTH) {
            throw new SafetensorsException(SafetensorsRule.HEADER_TOO_LARGE, null, "the header would be "
                    + header.length + " bytes, above the limit of " + SafetensorsHeader.MAX_HEADER_LENGTH);
        }
        return header;
    }

    private static byte[] prefix(long headerLength) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array();
    }
}
