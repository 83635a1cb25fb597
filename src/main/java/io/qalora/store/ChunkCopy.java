package io.qalora.store;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * One blob's chunks as the rows of a binary {@code COPY blob_chunk FROM STDIN} on PostgreSQL, on
 * the caller's connection and so in its transaction, if any. Each batch is one buffer laid out as
 * COPY rows, so the caller reads a chunk straight into its place between two row headers and the
 * batch leaves in one message, without a copy on this side. The server inserts rows as they arrive
 * and never answers before {@link #finish}: nothing here waits for it but the socket.
 */
final class ChunkCopy implements AutoCloseable {

    static final String SQL = "COPY blob_chunk (blob_id, seq, data) FROM STDIN (FORMAT binary)";

    /** Signature, flags and header extension length of the binary COPY format. */
    private static final byte[] FILE_HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0,
            0, 0, 0, 0, 0, 0, 0, 0};
    private static final byte[] FILE_TRAILER = {(byte) 0xff, (byte) 0xff};
    /** Field count, then each field's length before its value: UUID, INTEGER, and the data's length. */
    static final int ROW_HEADER = 2 + 4 + 16 + 4 + 4 + 4;

    private final CopyIn copy;
    private final UUID blobId;
    private final int chunkSize;
    private final byte[] batch;
    private final ByteBuffer headers;
    private boolean finished;

    ChunkCopy(Connection connection, UUID blobId, int chunkSize, int chunksPerBatch) throws SQLException {
        this.blobId = blobId;
        this.chunkSize = chunkSize;
        this.batch = new byte[Math.multiplyExact(ROW_HEADER + chunkSize, chunksPerBatch)];
        this.headers = ByteBuffer.wrap(batch);
        this.copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(SQL);
        copy.writeToCopy(FILE_HEADER, 0, FILE_HEADER.length);
    }

    /** The buffer that chunks are read into, at {@link #dataOffset}. */
    byte[] buffer() {
        return batch;
    }

    int chunksPerBatch() {
        return batch.length / (ROW_HEADER + chunkSize);
    }

    /** Where the data of a batch's {@code index}th chunk goes. */
    int dataOffset(int index) {
        return index * (ROW_HEADER + chunkSize) + ROW_HEADER;
    }

    /**
     * Sends the batch's first {@code full} chunks, whole, and then, when {@code lastLength > 0}, the
     * first {@code lastLength} bytes of chunk {@code full}, numbered from {@code firstSeq}. The
     * buffer may be refilled when this returns.
     */
    void send(int firstSeq, int full, int lastLength) throws SQLException {
        int rows = full + (lastLength > 0 ? 1 : 0);
        for (int i = 0; i < rows; i++) {
            headers.position(i * (ROW_HEADER + chunkSize));
            headers.putShort((short) 3)
                    .putInt(16).putLong(blobId.getMostSignificantBits()).putLong(blobId.getLeastSignificantBits())
                    .putInt(4).putInt(firstSeq + i)
                    .putInt(i < full ? chunkSize : lastLength);
        }
        int length = rows == 0 ? 0 : dataOffset(rows - 1) + (lastLength > 0 ? lastLength : chunkSize);
        if (length > 0) {
            copy.writeToCopy(batch, 0, length);
        }
    }

    /** Ends the COPY; the server reports any failure to insert here at the latest. */
    void finish() throws SQLException {
        copy.writeToCopy(FILE_TRAILER, 0, FILE_TRAILER.length);
        finished = true;
        copy.endCopy();
    }

    /**
     * Abandons a COPY that was not finished, so that the server fails it (and the transaction
     * around it) instead of storing a part of the blob, and the connection can be used again.
     */
    @Override
    public void close() throws SQLException {
        if (!finished && copy.isActive()) {
            copy.cancelCopy();
        }
    }
}
