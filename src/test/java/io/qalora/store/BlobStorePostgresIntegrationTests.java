package io.qalora.store;

import static org.assertj.core.api.Assertions.assertThat;

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
                + " AND attname = 'data'").query(String.class).single()).isEqualTo("p");
        writeInTransaction(StoreFixtures.randomBytes(3 * blobs.chunkSize(), 15));

        // A row too large for its page would have been refused, and nothing went to the TOAST table.
        assertThat(jdbc.sql("SELECT MAX(pg_column_size(data)) FROM blob_chunk").query(Integer.class).single())
                .isEqualTo(blobs.chunkSize() + 4);
        assertThat(jdbc.sql("SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'blob_chunk'::regclass")
                .query(Long.class).single()).isZero();
    }
}
