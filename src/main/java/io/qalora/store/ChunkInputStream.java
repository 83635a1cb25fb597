package io.qalora.store;

import io.qalora.job.BlobRef;
import io.qalora.job.CorruptBlobException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;
import org.springframework.jdbc.core.simple.JdbcClient;

/** A stored blob read back: fetches chunk after chunk on demand and verifies the whole once the last has arrived. */
final class ChunkInputStream extends InputStream {

    private static final byte[] NONE = new byte[0];

    private final JdbcClient jdbc;
    private final BlobRef blob;
    private final int chunkCount;
    private final MessageDigest sha256 = JdbcBlobStore.sha256();
    private byte[] chunk = NONE;
    private int pos;
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
                if (nextSeq == chunkCount) {
                    verify();
                    return false;
                }
                fetch(nextSeq++);
                if (nextSeq == chunkCount) {
                    verify();
                }
            }
            return true;
        } catch (CorruptBlobException e) {
            failure = e;
            throw e;
        }
    }

    private void fetch(int seq) {
        chunk = jdbc.sql("SELECT data FROM blob_chunk WHERE blob_id = :id AND seq = :seq")
                .param("id", blob.id()).param("seq", seq).query((rs, n) -> rs.getBytes(1)).optional()
                .orElseThrow(() -> new CorruptBlobException(blob.id(), "chunk " + seq + " is missing"));
        pos = 0;
        size += chunk.length;
        if (size > blob.sizeBytes()) {
            throw new CorruptBlobException(blob.id(), "more than the expected " + blob.sizeBytes() + " bytes");
        }
        sha256.update(chunk);
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
