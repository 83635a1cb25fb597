package io.qalora.store;

import io.qalora.job.BlobRef;
import io.qalora.job.CorruptBlobException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A stored blob read back: fetches chunks on demand, about {@value #WINDOW_BYTES} bytes of them per
 * query, and verifies the whole once the last has arrived. A blob's chunks are all as long as its
 * first but the last; that length depends on the database and on when the blob was written (V3), so
 * the first query takes one chunk and the next ones as many as fit the window.
 */
final class ChunkInputStream extends InputStream {

    static final int WINDOW_BYTES = 1024 * 1024;
    private static final byte[] NONE = new byte[0];

    private final JdbcClient jdbc;
    private final BlobRef blob;
    private final int chunkCount;
    private final MessageDigest sha256 = JdbcBlobStore.sha256();
    private final ArrayDeque<byte[]> fetched = new ArrayDeque<>();
    private byte[] chunk = NONE;
    private int pos;
    private int window = 1;
    private int nextSeq;
    private long size;
    private boolean verified;
    private CorruptBlobException failure;

    ChunkInputStream(JdbcClient jdbc, BlobRef blob, int chunkCount) {
        this.jdbc = jdbc;
        this.blob = blob;
        this.chunkCount = chunkCount;
    }

    @Override
    public int read() {
        return ensureAvailable() ? chunk[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (!ensureAvailable()) {
            return -1;
        }
        int n = Math.min(len, chunk.length - pos);
        System.arraycopy(chunk, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() {
        return chunk.length - pos;
    }

    /**
     * Whether a byte can be read, fetching the next chunk if needed. The whole blob is verified
     * as soon as its last chunk arrives, before any of its bytes are handed out, so a reader
     * that stops after the last byte without asking for the end is protected too.
     */
    private boolean ensureAvailable() {
        if (failure != null) {
            throw failure;
        }
        try {
            while (pos == chunk.length) {
                if (fetched.isEmpty()) {
                    if (nextSeq == chunkCount) {
                        verify();
                        return false;
                    }
                    fetch();
                }
                chunk = fetched.removeFirst();
                pos = 0;
            }
            return true;
        } catch (CorruptBlobException e) {
            failure = e;
            throw e;
        }
    }

    private record Row(int seq, byte[] data) {
    }

    /**
     * Fetches the next window of chunks, or as many of them as are there before a missing one: the
     * chunks before it are handed out, and the missing one is reported when it is due.
     */
    private void fetch() {
        int from = nextSeq;
        int to = (int) Math.min(chunkCount, (long) from + window);
        List<Row> rows = jdbc.sql("SELECT seq, data FROM blob_chunk WHERE blob_id = :id AND seq >= :from AND seq < :to"
                        + " ORDER BY seq")
                .param("id", blob.id()).param("from", from).param("to", to)
                .query((rs, n) -> new Row(rs.getInt(1), rs.getBytes(2))).list();
        for (Row row : rows) {
            if (row.seq() != nextSeq) {
                break;
            }
            nextSeq++;
            fetched.addLast(row.data());
            size += row.data().length;
            if (size > blob.sizeBytes()) {
                throw new CorruptBlobException(blob.id(), "more than the expected " + blob.sizeBytes() + " bytes");
            }
            sha256.update(row.data());
        }
        if (nextSeq == from) {
            throw new CorruptBlobException(blob.id(), "chunk " + from + " is missing");
        }
        if (from == 0 && fetched.getFirst().length > 0) {
            window = Math.max(1, WINDOW_BYTES / fetched.getFirst().length);
        }
        if (nextSeq == chunkCount) {
            verify();
        }
    }

    private void verify() {
        if (verified) {
            return;
        }
        if (size != blob.sizeBytes()) {
            throw new CorruptBlobException(blob.id(), size + " bytes instead of " + blob.sizeBytes());
        }
        String actual = HexFormat.of().formatHex(sha256.digest());
        if (!actual.equals(blob.sha256())) {
            throw new CorruptBlobException(blob.id(), "SHA-256 " + actual + " instead of " + blob.sha256());
        }
        verified = true;
    }
}
