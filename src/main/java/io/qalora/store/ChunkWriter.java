package io.qalora.store;

import java.io.IOException;
import java.util.Objects;
import org.postgresql.util.ByteStreamWriter;

/**
 * The first {@code length} bytes of a chunk buffer as a PostgreSQL driver parameter. The driver
 * hands it its socket's stream, so the bytes leave in one write straight from the buffer: bound as
 * an {@code InputStream} they would be copied through the driver's small send buffer, one socket
 * write per buffer-full, and {@code setBytes} copies the whole chunk first.
 */
record ChunkWriter(byte[] chunk, int length) implements ByteStreamWriter {

    ChunkWriter {
        Objects.checkFromIndexSize(0, length, chunk.length);
    }

    @Override
    public int getLength() {
        return length;
    }

    @Override
    public void writeTo(ByteStreamTarget target) throws IOException {
        target.getOutputStream().write(chunk, 0, length);
    }
}
