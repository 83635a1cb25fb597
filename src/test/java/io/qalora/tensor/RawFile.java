package io.qalora.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds safetensors bytes by hand, bypassing the writer, so tests can break the format on purpose. */
final class RawFile {

    private RawFile() {
    }

    /** Prefix + unpadded header + {@code dataBytes} zero bytes. */
    static byte[] of(String headerJson, int dataBytes) {
        return of(headerJson.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    static byte[] of(byte[] header, int dataBytes) {
        return ByteBuffer.allocate(8 + header.length + dataBytes)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length)
                .put(header)
                .array();
    }

    /** Only the 8-byte length prefix, claiming {@code headerLength}. */
    static byte[] prefix(long headerLength) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array();
    }
}
