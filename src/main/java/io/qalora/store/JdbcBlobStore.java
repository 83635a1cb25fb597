package io.qalora.store;

import io.qalora.job.BlobRef;
import io.qalora.job.BlobStore;
import io.qalora.job.CorruptBlobException;
import io.qalora.job.NotFoundException;
import io.qalora.job.PayloadTooLargeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Blobs as rows of {@code blob_chunk}, {@value #CHUNK_SIZE} bytes each but the last. Writing holds
 * one chunk in memory, reading one chunk per query; neither opens a transaction of its own.
 */
@Repository
public class JdbcBlobStore implements BlobStore {

    /**
     * 128 KiB. Both databases accept far larger BYTEA values (H2 up to 1e9 bytes), but H2's file
     * store serialises whole B-tree pages of in-row values at commit: with 512 KiB or 1 MiB chunks
     * a 64 MiB upload in one transaction ran out of a 256 MiB heap, while with 128 KiB chunks a
     * 1 GiB upload (the default limit) committed with 128 to 256 MiB of heap. PostgreSQL cares
     * little: 256 MiB took 7.2 s here against 5.4 s with 1 MiB chunks. A reader holds one chunk.
     */
    static final int CHUNK_SIZE = 128 * 1024;

    private static final HexFormat HEX = HexFormat.of();

    private final JdbcClient jdbc;

    public JdbcBlobStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public BlobRef write(InputStream in, long maxBytes) {
        UUID id = UUID.randomUUID();
        jdbc.sql("INSERT INTO blob (id) VALUES (:id)").param("id", id).update();
        try {
            return writeChunks(id, in, maxBytes);
        } catch (RuntimeException | Error e) {
            // Inside a transaction the rollback removes everything (and after a failed statement
            // PostgreSQL would refuse another one); without one, clean up by hand.
            if (!TransactionSynchronizationManager.isActualTransactionActive()) {
                try {
                    delete(id);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
    }

    private BlobRef writeChunks(UUID id, InputStream in, long maxBytes) {
        MessageDigest sha256 = sha256();
        byte[] chunk = new byte[CHUNK_SIZE];
        int filled = 0;
        int seq = 0;
        long size = 0;
        try {
            for (int n; (n = in.read(chunk, filled, chunk.length - filled)) != -1;) {
                size += n;
                if (size > maxBytes) {
                    throw new PayloadTooLargeException(maxBytes);
                }
                sha256.update(chunk, filled, n);
                filled += n;
                if (filled == chunk.length) {
                    insertChunk(id, seq++, chunk);
                    filled = 0;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (filled > 0) {
            insertChunk(id, seq++, Arrays.copyOf(chunk, filled));
        }
        String hex = HEX.formatHex(sha256.digest());
        jdbc.sql("UPDATE blob SET sha256 = :sha256, size_bytes = :size, chunk_count = :chunks WHERE id = :id")
                .param("sha256", hex).param("size", size).param("chunks", seq).param("id", id).update();
        return new BlobRef(id, hex, size);
    }

    private void insertChunk(UUID blobId, int seq, byte[] data) {
        // The driver sends the bytes during update(), so the reused buffer may be refilled after.
        jdbc.sql("INSERT INTO blob_chunk (blob_id, seq, data) VALUES (:blobId, :seq, :data)")
                .param("blobId", blobId).param("seq", seq).param("data", data).update();
    }

    @Override
    public InputStream open(BlobRef blob) {
        Objects.requireNonNull(blob, "blob");
        // Wrapped in an Optional: JdbcClient would take a null chunk_count for a missing row.
        int chunkCount = jdbc.sql("SELECT chunk_count FROM blob WHERE id = :id").param("id", blob.id())
                .query((rs, n) -> Optional.ofNullable(Columns.nullableInt(rs, "chunk_count"))).optional()
                .orElseThrow(() -> new NotFoundException("blob", blob.id()))
                .orElseThrow(() -> new CorruptBlobException(blob.id(), "it was never completely written"));
        return new ChunkInputStream(blob, chunkCount);
    }

    @Override
    public void delete(UUID blobId) {
        jdbc.sql("DELETE FROM blob WHERE id = :id").param("id", blobId).update();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Fetches chunk after chunk on demand and verifies the whole once the last has arrived. */
    private final class ChunkInputStream extends InputStream {

        private static final byte[] NONE = new byte[0];

        private final BlobRef blob;
        private final int chunkCount;
        private final MessageDigest sha256 = sha256();
        private byte[] chunk = NONE;
        private int pos;
        private int nextSeq;
        private long size;
        private boolean verified;
        private CorruptBlobException failure;

        ChunkInputStream(BlobRef blob, int chunkCount) {
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
            String actual = HEX.formatHex(sha256.digest());
            if (!actual.equals(blob.sha256())) {
                throw new CorruptBlobException(blob.id(), "SHA-256 " + actual + " instead of " + blob.sha256());
            }
            verified = true;
        }
    }
}
