package io.qalora.tensor;

import io.qalora.InvalidParameterException;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Strict safetensors reader: the header must pass {@link SafetensorsHeader#parse} and the input
 * must end exactly where the data buffer the header describes ends.
 */
public final class SafetensorsReader {

    /** Largest tensor this reader loads; Java arrays stop a little short of 2^31. */
    public static final int MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

    private SafetensorsReader() {
    }

    /**
     * Reads a whole file from {@code in} up to its end; the stream is not closed.
     *
     * @throws SafetensorsException for any violated rule, including {@code TRUNCATED} and
     *     {@code FILE_LENGTH_MISMATCH} (trailing bytes)
     * @throws IOException if reading fails
     */
    public static SafetensorsFile read(InputStream in) throws IOException {
        SafetensorsHeader header = SafetensorsHeader.parse(in);
        return readData(in, header);
    }

    /** Reads a file held in memory; see {@link #read(InputStream)}. */
    public static SafetensorsFile read(byte[] bytes) {
        InvalidParameterException.require(bytes != null, "bytes", "must not be null");
        try {
            InputStream in = new ByteArrayInputStream(bytes);
            SafetensorsHeader header = SafetensorsHeader.parse(in);
            requireLength(header, bytes.length);
            return readData(in, header);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayInputStream does not fail
        }
    }

    /** Reads a file from disk, checking its size before loading any tensor; see {@link #read(InputStream)}. */
    public static SafetensorsFile read(Path path) throws IOException {
        InvalidParameterException.require(path != null, "path", "must not be null");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            SafetensorsHeader header = SafetensorsHeader.parse(in);
            requireLength(header, Files.size(path));
            return readData(in, header);
        }
    }

    /**
     * Validates a file while it streams past: parses the header, then reads and discards the data
     * buffer, counting bytes, so nothing but the header is kept in memory. Wrap {@code in} (for
     * example in a {@link java.security.DigestInputStream}) to do more with the bytes. Reads until
     * the end of the stream, or until the first byte past the data buffer.
     *
     * @return the validated header
     * @throws SafetensorsException for any violated rule, including {@code TRUNCATED} and
     *     {@code FILE_LENGTH_MISMATCH}
     * @throws IOException if reading fails
     */
    public static SafetensorsHeader validate(InputStream in) throws IOException {
        SafetensorsHeader header = SafetensorsHeader.parse(in);
        long expected = header.dataLength();
        byte[] buffer = new byte[1 << 16];
        long seen = 0;
        while (seen <= expected) {
            // Ask for one byte more than remains so trailing data is noticed without reading it all.
            int want = (int) Math.min(buffer.length, expected - seen + 1);
            int n = in.read(buffer, 0, want);
            if (n < 0) {
                break;
            }
            seen += n;
        }
        if (seen < expected) {
            throw truncated(header, seen);
        }
        if (seen > expected) {
            throw trailing(header);
        }
        return header;
    }

    private static SafetensorsFile readData(InputStream in, SafetensorsHeader header) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (TensorInfo info : header.tensors()) {
            if (info.byteLength() > MAX_TENSOR_BYTES) {
                throw new SafetensorsException(SafetensorsRule.TENSOR_TOO_LARGE, info.name(), "spans "
                        + info.byteLength() + " bytes, more than the " + MAX_TENSOR_BYTES + " a tensor can hold");
            }
            // readNBytes grows its buffer as data arrives, so a lying header cannot force a huge allocation.
            byte[] data = in.readNBytes((int) info.byteLength());
            if (data.length < info.byteLength()) {
                throw truncated(header, info.begin() + data.length);
            }
            tensors.put(info.name(), new Tensor(info.name(), info.dtype(), info.shape(), data));
        }
        if (in.read() != -1) {
            throw trailing(header);
        }
        return new SafetensorsFile(header.metadata(), tensors);
    }

    private static void requireLength(SafetensorsHeader header, long actualFileLength) {
        long dataSeen = actualFileLength - SafetensorsHeader.PREFIX_LENGTH - header.headerLength();
        if (dataSeen < header.dataLength()) {
            throw truncated(header, dataSeen);
        }
        if (dataSeen > header.dataLength()) {
            throw trailing(header);
        }
    }

    private static SafetensorsException truncated(SafetensorsHeader header, long dataSeen) {
        String cutTensor = null;
        for (TensorInfo t : header.tensors()) {
            if (t.end() > dataSeen) {
                cutTensor = t.name();
                break;
            }
        }
        String where = cutTensor == null ? "" : ", inside this tensor";
        return new SafetensorsException(SafetensorsRule.TRUNCATED, cutTensor, "the data buffer ends after "
                + dataSeen + " of " + header.dataLength() + " bytes" + where);
    }

    private static SafetensorsException trailing(SafetensorsHeader header) {
        return new SafetensorsException(SafetensorsRule.FILE_LENGTH_MISMATCH, null, "the input continues past the "
                + header.fileLength() + " bytes the header describes");
    }
}
