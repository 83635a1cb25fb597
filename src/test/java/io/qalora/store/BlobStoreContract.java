package io.qalora.store;

import static io.qalora.store.StoreFixtures.randomBytes;
import static io.qalora.store.StoreFixtures.sha256;
import static io.qalora.store.StoreFixtures.trickle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qalora.job.BlobRef;
import io.qalora.job.CorruptBlobException;
import io.qalora.job.NotFoundException;
import io.qalora.job.PayloadTooLargeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every {@link io.qalora.job.BlobStore} database must do; subclasses pick the database. */
abstract class BlobStoreContract extends DatabaseTestSupport {

    /** 3 MiB and a bit: a run of full chunks and a partial last one (chunks are 1 MiB at most). */
    private static final int MULTI_CHUNK_LENGTH = 3 * 1024 * 1024 + 12_345;
    private int chunkSize;
    private int fullChunks;
    private int lastChunk;

    @BeforeEach
    void chunkSizeOfThisDatabase() {
        chunkSize = blobs.chunkSize();
        fullChunks = MULTI_CHUNK_LENGTH / chunkSize;
        lastChunk = MULTI_CHUNK_LENGTH % chunkSize;
    }

    BlobRef writeInTransaction(byte[] bytes) {
        return transactions.execute(tx -> blobs.write(trickle(bytes, 10_000), bytes.length));
    }

    private List<Integer> chunkLengths(UUID blobId) {
        return jdbc.sql("SELECT data FROM blob_chunk WHERE blob_id = :id ORDER BY seq").param("id", blobId)
                .query((rs, n) -> rs.getBytes(1).length).list();
    }

    @Test
    void aMultiChunkStreamIsStoredInFixedSizeChunksAndReadsBackWithItsSha256() throws IOException {
        byte[] data = randomBytes(MULTI_CHUNK_LENGTH, 1);

        BlobRef ref = writeInTransaction(data);

        assertThat(ref.sizeBytes()).isEqualTo(data.length);
        assertThat(ref.sha256()).isEqualTo(sha256(data)).matches("[0-9a-f]{64}");
        List<Integer> lengths = chunkLengths(ref.id());
        assertThat(lengths).hasSize(fullChunks + 1).endsWith(lastChunk);
        assertThat(lengths.subList(0, fullChunks)).containsOnly(chunkSize);
        try (InputStream in = blobs.open(ref)) {
            byte[] head = new byte[3];
            for (int i = 0; i < head.length; i++) {
                head[i] = (byte) in.read();
            }
            assertThat(head).containsExactly(data[0], data[1], data[2]);
            byte[] rest = in.readAllBytes();
            assertThat(rest).hasSize(data.length - 3);
            assertThat(rest).isEqualTo(java.util.Arrays.copyOfRange(data, 3, data.length));
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aStreamOfExactlyOneChunkIsOneRow() throws IOException {
        byte[] data = randomBytes(chunkSize, 2);

        BlobRef ref = writeInTransaction(data);

        assertThat(chunkLengths(ref.id())).containsExactly(chunkSize);
        try (InputStream in = blobs.open(ref)) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void blobsOfWholeBatchesAndOfSeveralBatchesWithAPartialChunkReadBack() throws IOException {
        int batch = blobs.layout().chunksPerBatch();
        for (int length : new int[] {batch * chunkSize, (2 * batch + 1) * chunkSize + 1}) {
            byte[] data = randomBytes(length, length);

            BlobRef ref = writeInTransaction(data);

            int chunks = (length + chunkSize - 1) / chunkSize;
            assertThat(chunkLengths(ref.id())).hasSize(chunks).endsWith(length - (chunks - 1) * chunkSize);
            assertThat(ref.sha256()).isEqualTo(sha256(data));
            try (InputStream in = blobs.open(ref)) {
                assertThat(in.readAllBytes()).isEqualTo(data);
            }
        }
    }

    @Test
    void anEmptyStreamIsABlobWithoutChunks() throws IOException {
        BlobRef ref = writeInTransaction(new byte[0]);

        assertThat(ref.sizeBytes()).isZero();
        assertThat(ref.sha256()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(chunkLengths(ref.id())).isEmpty();
        try (InputStream in = blobs.open(ref)) {
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aStreamOfExactlyTheLimitIsAccepted() {
        byte[] data = randomBytes(chunkSize + 1, 3);

        BlobRef ref = transactions.execute(tx -> blobs.write(new ByteArrayInputStream(data), data.length));

        assertThat(ref.sizeBytes()).isEqualTo(data.length);
    }

    @Test
    void aStreamOverTheLimitIsRefusedWithoutReadingItToTheEndAndTheRollbackLeavesNothing() {
        long limit = 2L * chunkSize + 100;
        EndlessStream endless = new EndlessStream();

        assertThatThrownBy(() -> transactions.executeWithoutResult(tx -> blobs.write(endless, limit)))
                .isInstanceOfSatisfying(PayloadTooLargeException.class,
                        e -> assertThat(e.limitBytes()).isEqualTo(limit));

        assertThat(endless.delivered).isGreaterThan(limit).isLessThanOrEqualTo(limit + chunkSize);
        assertThat(count("blob")).isZero();
        assertThat(count("blob_chunk")).isZero();
    }

    @Test
    void aStreamOverTheLimitWithoutACallerTransactionLeavesNothingEither() {
        byte[] data = randomBytes(2 * chunkSize + 1, 4);

        assertThatThrownBy(() -> blobs.write(new ByteArrayInputStream(data), 2 * chunkSize))
                .isInstanceOf(PayloadTooLargeException.class);

        assertThat(count("blob")).isZero();
        assertThat(count("blob_chunk")).isZero();
    }

    @Test
    void aStreamThatFailsAfterSeveralBatchesLeavesNothingWithOrWithoutATransaction() {
        int failAfter = (2 * blobs.layout().chunksPerBatch() + 1) * chunkSize + 7;
        assertThatThrownBy(() -> transactions.executeWithoutResult(tx -> blobs.write(new FailingStream(failAfter),
                Long.MAX_VALUE))).isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("connection reset");
        assertThatThrownBy(() -> blobs.write(new FailingStream(failAfter), Long.MAX_VALUE))
                .isInstanceOf(java.io.UncheckedIOException.class);
        assertThatThrownBy(() -> transactions.executeWithoutResult(tx -> blobs.write(new FailingStream(Long.MAX_VALUE),
                failAfter))).isInstanceOf(PayloadTooLargeException.class);

        assertThat(count("blob")).isZero();
        assertThat(count("blob_chunk")).isZero();
        BlobRef afterwards = writeInTransaction(randomBytes(chunkSize + 3, 11));
        assertThat(chunkLengths(afterwards.id())).containsExactly(chunkSize, 3);
    }

    @Test
    void aBlobWrittenInATransactionThatRollsBackLaterIsGone() {
        byte[] data = randomBytes(chunkSize + 5, 5);

        BlobRef ref = transactions.execute(tx -> {
            BlobRef written = blobs.write(new ByteArrayInputStream(data), data.length);
            tx.setRollbackOnly();
            return written;
        });

        assertThat(ref.sizeBytes()).isEqualTo(data.length);
        assertThat(count("blob")).isZero();
        assertThat(count("blob_chunk")).isZero();
    }

    @Test
    void aChangedByteIsReportedAsCorruptionBeforeAnyByteOfTheLastChunkIsHandedOut() throws IOException {
        byte[] data = randomBytes(MULTI_CHUNK_LENGTH, 6);
        BlobRef ref = writeInTransaction(data);
        byte[] tampered = java.util.Arrays.copyOfRange(data, chunkSize, 2 * chunkSize);
        tampered[1000] ^= 0x01;
        jdbc.sql("UPDATE blob_chunk SET data = :data WHERE blob_id = :id AND seq = 1").param("data", tampered)
                .param("id", ref.id()).update();

        try (InputStream in = blobs.open(ref)) {
            java.io.ByteArrayOutputStream handedOut = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            assertThatThrownBy(() -> {
                for (int n; (n = in.read(buffer)) != -1; ) {
                    handedOut.write(buffer, 0, n);
                }
            }).isInstanceOf(CorruptBlobException.class)
                    .hasMessageContaining(ref.id().toString()).hasMessageContaining("SHA-256");
            // Chunks are fetched several at a time, so the failure may come before the last full chunks too.
            assertThat(handedOut.size()).isLessThanOrEqualTo(fullChunks * chunkSize);
            assertThat(data).startsWith(java.util.Arrays.copyOf(handedOut.toByteArray(),
                    Math.min(handedOut.size(), chunkSize)));
            assertThatThrownBy(in::read).as("stays failed").isInstanceOf(CorruptBlobException.class);
        }
    }

    @Test
    void aMissingChunkIsCorruption() throws IOException {
        BlobRef ref = writeInTransaction(randomBytes(MULTI_CHUNK_LENGTH, 7));
        jdbc.sql("DELETE FROM blob_chunk WHERE blob_id = :id AND seq = 2").param("id", ref.id()).update();

        try (InputStream in = blobs.open(ref)) {
            assertThat(in.readNBytes(2 * chunkSize)).hasSize(2 * chunkSize);
            assertThatThrownBy(in::read).isInstanceOf(CorruptBlobException.class)
                    .hasMessageContaining("chunk 2 is missing");
        }
    }

    @Test
    void aReferenceWithAnotherLengthOrHashIsCorruption() throws IOException {
        byte[] data = randomBytes(1000, 8);
        BlobRef ref = writeInTransaction(data);

        try (InputStream in = blobs.open(new BlobRef(ref.id(), ref.sha256(), ref.sizeBytes() + 1))) {
            assertThatThrownBy(in::readAllBytes).isInstanceOf(CorruptBlobException.class)
                    .hasMessageContaining("1000 bytes instead of 1001");
        }
        try (InputStream in = blobs.open(new BlobRef(ref.id(), sha256(new byte[0]), ref.sizeBytes()))) {
            assertThatThrownBy(in::readAllBytes).isInstanceOf(CorruptBlobException.class)
                    .hasMessageContaining("SHA-256 " + ref.sha256());
        }
    }

    @Test
    void deleteRemovesTheBlobAndItsChunks() {
        BlobRef kept = writeInTransaction(randomBytes(chunkSize + 1, 9));
        BlobRef deleted = writeInTransaction(randomBytes(chunkSize + 1, 10));

        blobs.delete(deleted.id());

        assertThat(count("blob")).isOne();
        assertThat(chunkLengths(deleted.id())).isEmpty();
        assertThat(chunkLengths(kept.id())).hasSize(2);
        assertThatThrownBy(() -> blobs.open(deleted)).isInstanceOf(NotFoundException.class);
    }

    @Test
    void aBlobInChunksOfAnotherSizeReadsBackSeveralChunksPerQuery() throws IOException {
        // As blobs written before V3 (1 MiB chunks on PostgreSQL) are: the chunk size is the blob's own.
        int other = 1000;
        int chunks = 2 * (ChunkInputStream.WINDOW_BYTES / other) + 3;
        byte[] data = randomBytes((chunks - 1) * other + 17, 13);
        UUID id = UUID.randomUUID();
        jdbc.sql("INSERT INTO blob (id, sha256, size_bytes, chunk_count) VALUES (:id, :sha256, :size, :chunks)")
                .param("id", id).param("sha256", sha256(data)).param("size", data.length).param("chunks", chunks)
                .update();
        for (int seq = 0; seq < chunks; seq++) {
            jdbc.sql("INSERT INTO blob_chunk (blob_id, seq, data) VALUES (:id, :seq, :data)").param("id", id)
                    .param("seq", seq).param("data", java.util.Arrays.copyOfRange(data, seq * other,
                            Math.min(data.length, (seq + 1) * other))).update();
        }

        try (InputStream in = blobs.open(new BlobRef(id, sha256(data), data.length))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void deletingABlobRowTakesItsChunksAlong() {
        BlobRef kept = writeInTransaction(randomBytes(2 * chunkSize, 13));
        BlobRef viaStore = writeInTransaction(randomBytes(3 * chunkSize, 14));
        BlobRef viaSql = writeInTransaction(randomBytes(2 * chunkSize + 5, 16));

        transactions.executeWithoutResult(tx -> blobs.delete(viaStore.id()));
        // As a hand-written statement, or the version before V3 during a rolling update, deletes.
        jdbc.sql("DELETE FROM blob WHERE id = :id").param("id", viaSql.id()).update();

        assertThat(count("blob")).isEqualTo(1);
        assertThat(count("blob_chunk")).isEqualTo(2);
        assertThat(jdbc.sql("SELECT COUNT(*) FROM blob_chunk WHERE blob_id = :id").param("id", kept.id())
                .query(Long.class).single()).isEqualTo(2);
    }

    /** Pseudo-random bytes, then an I/O failure once {@code failAfter} bytes are delivered. */
    private static final class FailingStream extends InputStream {
        private final long failAfter;
        private long delivered;

        FailingStream(long failAfter) {
            this.failAfter = failAfter;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (delivered >= failAfter) {
                throw new IOException("connection reset");
            }
            int n = (int) Math.min(len, Math.min(65_536, failAfter - delivered));
            for (int i = 0; i < n; i++) {
                b[off + i] = (byte) ((delivered + i) * 31 + 7);
            }
            delivered += n;
            return n;
        }
    }

    /** Zeros forever, counting what was taken. */
    private static final class EndlessStream extends InputStream {

        long delivered;

        @Override
        public int read() {
            delivered++;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            delivered += len;
            return len;
        }
    }
}
