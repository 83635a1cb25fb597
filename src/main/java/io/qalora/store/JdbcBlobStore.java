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
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Blobs as rows of {@code blob_chunk}, {@link #chunkSize()} bytes each but the last. Writing holds
 * a batch of chunks in memory ({@link Layout}), reading about a mebibyte of chunks per query;
 * neither opens a transaction of its own.
 */
@Repository
public class JdbcBlobStore implements BlobStore {

    /**
     * How blobs are cut and sent on one database.
     *
     * <p>H2 accepts far larger BYTEA values (up to 1e9 bytes), but its file store serialises whole
     * B-tree pages of in-row values at commit: with 512 KiB or 1 MiB chunks a 64 MiB upload in one
     * transaction ran out of a 256 MiB heap, while with 128 KiB chunks a 1 GiB upload (the default
     * limit) committed with 128 to 256 MiB of heap. There chunks are inserted one statement each.
     *
     * <p>On PostgreSQL a chunk is as large as a row can be and still stay in its 8 KiB heap page
     * (storage {@code EXTERNAL} with a TOAST target of 8160 bytes, V3), and a blob's chunks go in as
     * one binary {@code COPY} ({@link ChunkCopy}). With 1 MiB chunks moved out of line (TOAST) and
     * inserted in batches, the server spent 1.0 to 1.2 s of CPU per 256 MiB whatever the chunk size
     * (128 KiB to 4 MiB), batch or storage; 8 KiB rows inserted one by one cost more (1.3 s, a third
     * of it the foreign key's check, which V3 replaced by a delete trigger on {@code blob}); by
     * {@code COPY} without the key, 0.8 to 0.9 s. Measured with a bare JDBC client on the machine of
     * the upload bench (README), where the whole upload through the API went from 166-171 to
     * 209-210 MB/s (median of interleaved runs), the service's CPU from 0.88 to 0.67-0.72 s and its
     * heap growth from 17 to at most 2.4 MiB. Several connections writing one blob's chunks at once
     * cost more server CPU than they gained on two cores, and were not kept.
     *
     * @param chunkSize bytes per row but the last
     * @param chunksPerBatch chunks held, and sent, at a time
     * @param copy whether chunks are sent by {@code COPY} (PostgreSQL only) rather than inserted
     */
    record Layout(int chunkSize, int chunksPerBatch, boolean copy) {

        /** 8192-byte page, less its header and line pointer (32), the row header (24) and the key (24). */
        static final Layout POSTGRESQL = new Layout(8112, 128, true);
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
        Chunks chunks = new Chunks(in, maxBytes);
        int count = layout.copy() ? copyChunks(id, chunks) : insertChunks(id, chunks);
        String hex = HEX.formatHex(chunks.sha256.digest());
        jdbc.sql("UPDATE blob SET sha256 = :sha256, size_bytes = :size, chunk_count = :chunks WHERE id = :id")
                .param("sha256", hex).param("size", chunks.size).param("chunks", count).param("id", id).update();
        return new BlobRef(id, hex, chunks.size);
    }

    /** A batch read from the stream: {@code full} whole chunks, then {@code last} bytes of one more. */
    private record Batch(int full, int last) {
        int rows() {
            return full + (last > 0 ? 1 : 0);
        }
    }

    /** The stream cut into chunks, counted against the limit and hashed as it is read. */
    private final class Chunks {
        private final InputStream in;
        private final long maxBytes;
        private final MessageDigest sha256 = sha256();
        private long size;

        Chunks(InputStream in, long maxBytes) {
            this.in = in;
            this.maxBytes = maxBytes;
        }

        /**
         * Reads up to {@code capacity} chunks, the {@code i}th into {@code arrays(i)} from
         * {@code offsets(i)}, stopping after the first short one: how many came whole, and the length
         * of a short last one (0 if none).
         */
        Batch fill(int capacity, IntFunction<byte[]> arrays, IntUnaryOperator offsets) {
            int full = 0;
            while (full < capacity) {
                int n = next(arrays.apply(full), offsets.applyAsInt(full));
                if (n < layout.chunkSize()) {
                    return new Batch(full, n);
                }
                full++;
            }
            return new Batch(full, 0);
        }

        /** Fills {@code buffer[offset, offset + chunkSize)} as far as the stream goes; returns how far. */
        private int next(byte[] buffer, int offset) {
            int filled = 0;
            try {
                while (filled < layout.chunkSize()) {
                    int n = in.read(buffer, offset + filled, layout.chunkSize() - filled);
                    if (n == -1) {
                        break;
                    }
                    size += n;
                    if (size > maxBytes) {
                        throw new PayloadTooLargeException(maxBytes);
                    }
                    sha256.update(buffer, offset + filled, n);
                    filled += n;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return filled;
        }
    }

    private int copyChunks(UUID id, Chunks chunks) {
        Connection connection = DataSourceUtils.getConnection(dataSource());
        try (ChunkCopy copy = new ChunkCopy(connection, id, layout.chunkSize(), layout.chunksPerBatch())) {
            int seq = 0;
            while (true) {
                Batch batch = chunks.fill(copy.chunksPerBatch(), i -> copy.buffer(), copy::dataOffset);
                copy.send(seq, batch.full(), batch.last());
                seq += batch.rows();
                if (batch.full() < copy.chunksPerBatch()) {
                    copy.finish();
                    return seq;
                }
            }
        } catch (SQLException e) {
            throw translate("copy blob chunks", ChunkCopy.SQL, e);
        } finally {
            DataSourceUtils.releaseConnection(connection, dataSource());
        }
    }

    private int insertChunks(UUID id, Chunks chunks) {
        byte[][] buffers = new byte[layout.chunksPerBatch()][layout.chunkSize()];
        int seq = 0;
        while (true) {
            Batch batch = chunks.fill(buffers.length, i -> buffers[i], i -> 0);
            insertBatch(id, seq, buffers, batch.full(), batch.last());
            seq += batch.rows();
            if (batch.full() < buffers.length) {
                return seq;
            }
        }
    }

    private RuntimeException translate(String task, String sql, SQLException e) {
        RuntimeException translated = template.getExceptionTranslator().translate(task, sql, e);
        return translated != null ? translated : new UncategorizedSQLException(task, sql, e);
    }

    private DataSource dataSource() {
        return Objects.requireNonNull(template.getDataSource(), "the JdbcTemplate has no DataSource");
    }

    /**
     * Inserts {@code full} whole chunks from {@code batch}, then, when {@code lastLength > 0}, the
     * first {@code lastLength} bytes of {@code batch[full]}, numbered from {@code firstSeq}, in one
     * JDBC batch. The driver holds no reference to the buffers when this returns.
     */
    private void insertBatch(UUID blobId, int firstSeq, byte[][] batch, int full, int lastLength) {
        int count = full + (lastLength > 0 ? 1 : 0);
        if (count == 0) {
            return;
        }
        template.batchUpdate(INSERT_CHUNK, new BatchPreparedStatementSetter() {
            @Override
            public void setValues(PreparedStatement ps, int i) throws SQLException {
                ps.setObject(1, blobId);
                ps.setInt(2, firstSeq + i);
                ps.setBytes(3, i < full ? batch[i] : Arrays.copyOf(batch[i], lastLength));
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
        // The chunks go with the row: H2's foreign key cascades, PostgreSQL's trigger deletes them (V3).
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
