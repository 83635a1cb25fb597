package io.qalora.store;

import static io.qalora.store.StoreFixtures.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import io.qalora.job.BlobRef;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class BlobStorePostgresIntegrationTests extends BlobStoreContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.postgres();
    }

    @Test
    void chunksAreCopiedAndStayInTheirRows() {
        assertThat(blobs.layout().copy()).isTrue();
        assertThat(jdbc.sql("SELECT attstorage FROM pg_attribute WHERE attrelid = 'blob_chunk'::regclass"
                + " AND attname = 'data'").query(String.class).single()).isEqualTo("e");
        // V3: no foreign key is checked per chunk; a trigger on blob deletes them instead.
        assertThat(jdbc.sql("SELECT COUNT(*) FROM pg_constraint WHERE conrelid = 'blob_chunk'::regclass AND contype = 'f'")
                .query(Long.class).single()).isZero();
        writeInTransaction(StoreFixtures.randomBytes(3 * blobs.chunkSize(), 15));

        assertThat(jdbc.sql("SELECT MAX(pg_column_size(data)) FROM blob_chunk").query(Integer.class).single())
                .isEqualTo(blobs.chunkSize() + 4);
        assertThat(jdbc.sql("SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'blob_chunk'::regclass")
                .query(Long.class).single()).as("nothing moved out of line").isZero();
    }

    @Test
    void theVersionBeforeV3CanStillWriteItsMebibyteChunks() throws IOException {
        // During a rolling update the older pods insert 1 MiB chunks: out of line now, but accepted.
        byte[] data = StoreFixtures.randomBytes(2 * 1024 * 1024 + 7, 17);
        UUID id = UUID.randomUUID();
        transactions.executeWithoutResult(tx -> {
            jdbc.sql("INSERT INTO blob (id, sha256, size_bytes, chunk_count) VALUES (:id, :sha, :size, 3)")
                    .param("id", id).param("sha", sha256(data)).param("size", data.length).update();
            for (int seq = 0; seq < 3; seq++) {
                jdbc.sql("INSERT INTO blob_chunk (blob_id, seq, data) VALUES (:id, :seq, :data)").param("id", id)
                        .param("seq", seq).param("data", Arrays.copyOfRange(data, seq << 20,
                                Math.min(data.length, (seq + 1) << 20))).update();
            }
        });

        try (InputStream in = blobs.open(new BlobRef(id, sha256(data), data.length))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }
}
