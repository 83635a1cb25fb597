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
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.support.JdbcUtils;
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
     * statements; there a batch of chunks goes in one round trip, each chunk written from its
     * buffer by a {@link ChunkWriter}.
     *
     * <p>On PostgreSQL a batch is sent from a thread of its own while the caller reads and hashes
     * the next one, so the server's work overlaps this side's instead of alternating with it
     * (about a quarter of a 256 MiB upload's time was reading and hashing). The writing thread
     * uses the caller's connection, and so its transaction, while the caller does no database work.
     *
     * @param chunkSize bytes per row but the last
     * @param chunksPerBatch chunks sent in one JDBC batch
     * @param binding how a chunk is bound to the insert statement
     * @param overlapped whether a batch is sent while the next is read; a writer then holds two
     *     batches of buffers, otherwise one
     */
    record Layout(int chunkSize, int chunksPerBatch, ChunkBinding binding, boolean overlapped) {

        /** About 1.6 s of the server's CPU per 256 MiB goes to TOAST inserts whatever the layout. */
        static final Layout POSTGRESQL = new Layout(1024 * 1024, 4, ChunkBinding.WRITER, true);
        static final Layout H2 = new Layout(128 * 1024, 1, ChunkBinding.ARRAY, false);

        static Layout of(String databaseProductName) {
            return "PostgreSQL".equals(databaseProductName) ? POSTGRESQL : H2;
        }
    }

    /** How a chunk's bytes reach the driver. */
    enum ChunkBinding {
        /** {@code setBytes}, with a copy of a partial chunk; any driver. */
        ARRAY,
        /** A {@link ChunkWriter}, sent from the buffer without a copy; PostgreSQL's driver only. */
        WRITER
    }

    /** Threads that send overlapped batches; idle ones end after a minute. */
    private static final ExecutorService WRITERS = Executors.newCachedThreadPool(runnable -> {
        Thread t = new Thread(runnable, "blob-writer");
        t.setDaemon(true);
        return t;
    });

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
        byte[][][] batches = new byte[layout.overlapped() ? 2 : 1][layout.chunksPerBatch()][];
        int current = 0;
        int pending = 0;
        int filled = 0;
        int seq = 0;
        long size = 0;
        try (Inserter inserter = new Inserter(id)) {
            try {
                while (true) {
                    byte[][] batch = batches[current];
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
                            inserter.insert(seq, batch, pending, 0);
                            seq += pending;
                            pending = 0;
                            current = (current + 1) % batches.length;
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (pending > 0 || filled > 0) {
                inserter.insert(seq, batches[current], pending, filled);
                seq += pending + (filled > 0 ? 1 : 0);
            }
            inserter.finish();
        }
        String hex = HEX.formatHex(sha256.digest());
        jdbc.sql("UPDATE blob SET sha256 = :sha256, size_bytes = :size, chunk_count = :chunks WHERE id = :id")
                .param("sha256", hex).param("size", size).param("chunks", seq).param("id", id).update();
        return new BlobRef(id, hex, size);
    }

    /**
     * Inserts batches of chunks, on the calling thread or, when the layout is overlapped, on a
     * writer thread with the caller's connection (its transaction, if any): {@link #insert} waits
     * for the batch before, then hands this one over and returns, so the caller may refill the
     * other batch's buffers. {@link #close} always waits for the batch in flight, so the
     * connection is never used by two threads and is idle when the caller goes on or rolls back.
     */
    private final class Inserter implements AutoCloseable {
        private final UUID blobId;
        private Connection connection;
        private PreparedStatement statement;
        private Future<?> inFlight;

        Inserter(UUID blobId) {
            this.blobId = blobId;
        }

        void insert(int firstSeq, byte[][] batch, int full, int lastLength) {
            if (!layout.overlapped()) {
                insertChunks(blobId, firstSeq, batch, full, lastLength);
                return;
            }
            finish();
            if (statement == null) {
                connection = DataSourceUtils.getConnection(dataSource());
                try {
                    statement = connection.prepareStatement(INSERT_CHUNK);
                } catch (SQLException e) {
                    throw translate(e);
                }
            }
            inFlight = WRITERS.submit(() -> {
                for (int i = 0; i < full + (lastLength > 0 ? 1 : 0); i++) {
                    bindChunk(statement, blobId, firstSeq + i, batch[i], i < full ? batch[i].length : lastLength);
                    statement.addBatch();
                }
                statement.executeBatch();
                return null;
            });
        }

        /** Waits for the batch in flight, rethrowing its failure. */
        void finish() {
            if (inFlight == null) {
                return;
            }
            Future<?> batch = inFlight;
            inFlight = null;
            try {
                awaitUninterruptibly(batch);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof SQLException sql) {
                    throw translate(sql);
                }
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(cause);
            }
        }

        @Override
        public void close() {
            try {
                if (inFlight != null) {
                    // The caller failed while a batch was being sent; its own exception is the one to report.
                    awaitUninterruptibly(inFlight);
                }
            } catch (ExecutionException e) {
                // reported by the caller's failure, which the rollback or clean-up follows
            } finally {
                JdbcUtils.closeStatement(statement);
                if (connection != null) {
                    DataSourceUtils.releaseConnection(connection, dataSource());
                }
            }
        }

        private RuntimeException translate(SQLException e) {
            RuntimeException translated = template.getExceptionTranslator().translate("insert blob chunks", INSERT_CHUNK, e);
            return translated != null ? translated : new UncategorizedSQLException("insert blob chunks", INSERT_CHUNK, e);
        }
    }

    private static void awaitUninterruptibly(Future<?> future) throws ExecutionException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    future.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private DataSource dataSource() {
        return Objects.requireNonNull(template.getDataSource(), "the JdbcTemplate has no DataSource");
    }

    private void bindChunk(PreparedStatement ps, UUID blobId, int seq, byte[] chunk, int length) throws SQLException {
        ps.setObject(1, blobId);
        ps.setInt(2, seq);
        switch (layout.binding()) {
            case WRITER -> ps.setObject(3, new ChunkWriter(chunk, length));
            case ARRAY -> ps.setBytes(3, length == chunk.length ? chunk : Arrays.copyOf(chunk, length));
        }
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
                bindChunk(ps, blobId, firstSeq + i, batch[i], i < full ? batch[i].length : lastLength);
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
        return new ChunkInputStream(jdbc, blob, chunkCount);
    }

    @Override
    public void delete(UUID blobId) {
        jdbc.sql("DELETE FROM blob WHERE id = :id").param("id", blobId).update();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
