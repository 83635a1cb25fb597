package io.qalora.store;

import io.qalora.job.BlobRef;
import io.qalora.job.BlobStore;
import io.qalora.job.CorruptBlobException;
import io.qalora.job.NotFoundException;
import io.qalora.job.PayloadTooLargeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Blobs as rows of {@code blob_chunk}, {@link #chunkSize()} bytes each but the last. Writing holds
 * a batch of chunks in memory ({@link Layout}), reading one chunk per query; neither opens a
 * transaction of its own.
 */
@Repository
public class JdbcBlobStore implements BlobStore {

    /**
     * How blobs are cut and sent on one database. Both accept far larger BYTEA values (H2 up to 1e9
     * bytes), but H2's file store serialises whole B-tree pages of in-row values at commit: with
     * 512 KiB or 1 MiB chunks a 64 MiB upload in one transaction ran out of a 256 MiB heap, while
     * with 128 KiB chunks a 1 GiB upload (the default limit) committed with 128 to 256 MiB of heap.
     * PostgreSQL moves every value out of line (TOAST) anyway, so larger chunks only save
     * statements; there a batch of chunks goes in one round trip, each chunk streamed from its
     * buffer (the driver's {@code setBytes} would copy it first).
     *
     * @param chunkSize bytes per row but the last
     * @param chunksPerBatch chunks sent in one JDBC batch; a writer holds this many buffers
     * @param streamChunks whether to bind chunks as streams of known length rather than arrays
     */
    record Layout(int chunkSize, int chunksPerBatch, boolean streamChunks) {

        /** Under 100 MB/s either way on 2 shared cores: the server's TOAST inserts are the limit. */
        static final Layout POSTGRESQL = new Layout(1024 * 1024, 4, true);
        static final Layout H2 = new Layout(128 * 1024, 1, false);

        static Layout of(String databaseProductName) {
            return "PostgreSQL".equals(databaseProductName) ? POSTGRESQL : H2;
        }
    }

    private static final String INSERT_CHUNK = "INSERT INTO blob_chunk (blob_id, seq, data) VALUES (?, ?, ?)";
    private static final HexFormat HEX = HexFormat.of();

    private final JdbcTemplate template;
    private final JdbcClient jdbc;
    private final Layout layout;

    @Autowired
    public JdbcBlobStore(JdbcTemplate template) {
        this(template, Layout.of(template.execute(
                (ConnectionCallback<String>) c -> c.getMetaData().getDatabaseProductName())));
    }

    JdbcBlobStore(JdbcTemplate template, Layout layout) {
        this.template = template;
        this.jdbc = JdbcClient.create(template);
        this.layout = layout;
    }

    /** Bytes per stored chunk on this database; every chunk but a blob's last is this long. */
    public int chunkSize() {
        return layout.chunkSize();
    }

    Layout layout() {
        return layout;
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
        byte[][] batch = new byte[layout.chunksPerBatch()][];
        int pending = 0;
        int filled = 0;
        int seq = 0;
        long size = 0;
        try {
            while (true) {
                if (batch[pending] == null) {
                    batch[pending] = new byte[layout.chunkSize()];
                }
                byte[] chunk = batch[pending];
                int n = in.read(chunk, filled, chunk.length - filled);
                if (n == -1) {
                    break;
                }
                size += n;
                if (size > maxBytes) {
                    throw new PayloadTooLargeException(maxBytes);
                }
                sha256.update(chunk, filled, n);
                filled += n;
                if (filled == chunk.length) {
                    filled = 0;
                    if (++pending == batch.length) {
                        insertChunks(id, seq, batch, pending, 0);
                        seq += pending;
                        pending = 0;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (pending > 0 || filled > 0) {
            insertChunks(id, seq, batch, pending, filled);
            seq += pending + (filled > 0 ? 1 : 0);
        }
        String hex = HEX.formatHex(sha256.digest());
        jdbc.sql("UPDATE blob SET sha256 = :sha256, size_bytes = :size, chunk_count = :chunks WHERE id = :id")
                .param("sha256", hex).param("size", size).param("chunks", seq).param("id", id).update();
        return new BlobRef(id, hex, size);
    }

    /**
     * Inserts {@code full} whole chunks from {@code batch}, then, when {@code lastLength > 0}, the
     * first {@code lastLength} bytes of {@code batch[full]}, numbered from {@code firstSeq}, in one
     * JDBC batch. The driver has sent every byte when this returns, so the buffers may be refilled.
     */
    private void insertChunks(UUID blobId, int firstSeq, byte[][] batch, int full, int lastLength) {
        int count = full + (lastLength > 0 ? 1 : 0);
        template.batchUpdate(INSERT_CHUNK, new BatchPreparedStatementSetter() {
            @Override
            public void setValues(PreparedStatement ps, int i) throws SQLException {
                byte[] chunk = batch[i];
                int length = i < full ? chunk.length : lastLength;
                ps.setObject(1, blobId);
                ps.setInt(2, firstSeq + i);
                if (layout.streamChunks()) {
                    ps.setBinaryStream(3, new ByteArrayInputStream(chunk, 0, length), length);
                } else {
                    ps.setBytes(3, length == chunk.length ? chunk : Arrays.copyOf(chunk, length));
                }
            }

            @Override
            public int getBatchSize() {
                return count;
            }
        });
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
