package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated safetensors header. Construction guarantees unique names and that the tensors,
 * sorted by offset, tile the data buffer from 0 without gaps or overlaps.
 *
 * @param tensors entries sorted by begin offset (ties by end, then name)
 * @param metadata the {@code __metadata__} map in header order; empty when absent
 * @param headerLength N, the byte length of the JSON header (including padding)
 */
public record SafetensorsHeader(List<TensorInfo> tensors, Map<String, String> metadata, long headerLength) {

    /** Largest accepted header length N, as in the reference implementation (100 MB). */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;

    /** Bytes of the little-endian u64 header length prefix. */
    public static final int PREFIX_LENGTH = 8;

    private static final Comparator<TensorInfo> BY_OFFSET = Comparator.comparingLong(TensorInfo::begin)
            .thenComparingLong(TensorInfo::end)
            .thenComparing(TensorInfo::name);

    /**
     * @throws SafetensorsException {@code DUPLICATE_NAME} or {@code OFFSETS_NOT_CONTIGUOUS}
     */
    public SafetensorsHeader {
        InvalidParameterException.require(tensors != null, "tensors", "must not be null");
        InvalidParameterException.require(metadata != null, "metadata", "must not be null");
        InvalidParameterException.require(headerLength >= 0, "headerLength", "must be >= 0");
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        Set<String> names = new HashSet<>();
        for (TensorInfo t : sorted) {
            if (!names.add(t.name())) {
                throw new SafetensorsException(SafetensorsRule.DUPLICATE_NAME, t.name(),
                        "the name appears more than once in the header");
            }
        }
        sorted.sort(BY_OFFSET);
        requireContiguous(sorted);
        long dataLength = sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1).end();
        if (dataLength > Long.MAX_VALUE - PREFIX_LENGTH - headerLength) {
            throw new SafetensorsException(SafetensorsRule.SIZE_OVERFLOW, null, "a " + dataLength
                    + "-byte data buffer after a " + headerLength + "-byte header overflows a 64-bit file length");
        }
        tensors = List.copyOf(sorted);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** Length of the data buffer: the end offset of the last tensor, 0 without tensors. */
    public long dataLength() {
        return tensors.isEmpty() ? 0 : tensors.get(tensors.size() - 1).end();
    }

    /** Exact length of the whole file: {@code 8 + N + dataLength()}. */
    public long fileLength() {
        return PREFIX_LENGTH + headerLength + dataLength();
    }

    /**
     * Reads exactly {@code 8 + N} bytes from {@code in} (the length prefix and the JSON header) and
     * validates everything that can be checked without the data buffer. The stream is left
     * positioned at the first data byte and is not closed.
     *
     * @throws SafetensorsException for any violated rule
     * @throws IOException if reading fails
     */
    public static SafetensorsHeader parse(InputStream in) throws IOException {
        InvalidParameterException.require(in != null, "in", "must not be null");
        byte[] prefix = in.readNBytes(PREFIX_LENGTH);
        if (prefix.length < PREFIX_LENGTH) {
            throw new SafetensorsException(SafetensorsRule.TRUNCATED, null,
                    "the stream ends after " + prefix.length + " of the 8 header-length bytes");
        }
        long n = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n == 0) {
            throw new SafetensorsException(SafetensorsRule.HEADER_EMPTY, null, "the header length is 0");
        }
        // Checked before reading so a hostile prefix cannot make us buffer gigabytes; n < 0 is a u64 above 2^63.
        if (n < 0 || n > MAX_HEADER_LENGTH) {
            throw new SafetensorsException(SafetensorsRule.HEADER_TOO_LARGE, null, "the header length "
                    + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_LENGTH + " bytes");
        }
        byte[] header = in.readNBytes((int) n);
        if (header.length < n) {
            throw new SafetensorsException(SafetensorsRule.TRUNCATED, null,
                    "the stream ends after " + header.length + " of the " + n + " header bytes");
        }
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(header))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(SafetensorsRule.HEADER_NOT_UTF8, null,
                    "the header is not valid UTF-8", e);
        }
        return HeaderJson.parse(json, n);
    }

    private static void requireContiguous(List<TensorInfo> sorted) {
        long expected = 0;
        String previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() != expected) {
                String offsets = TensorInfo.offsets(t.begin(), t.end());
                String detail;
                if (previous == null) {
                    detail = "data_offsets " + offsets + " start at " + t.begin()
                            + " but the first tensor must start at offset 0";
                } else if (t.begin() > expected) {
                    detail = "data_offsets " + offsets + " leave a gap of " + (t.begin() - expected)
                            + " bytes after tensor '" + previous + "', which ends at " + expected;
                } else {
                    detail = "data_offsets " + offsets + " overlap tensor '" + previous + "', which ends at "
                            + expected;
                }
                throw new SafetensorsException(SafetensorsRule.OFFSETS_NOT_CONTIGUOUS, t.name(), detail);
            }
            expected = t.end();
            previous = t.name();
        }
    }
}
