package io.qalora.store;

import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The contract with PostgreSQL's way of writing (batches sent on a writer thread while the next is
 * read) on H2, so the overlapped path runs wherever the tests do; small chunks and batches of
 * three, so that every test spans several batches. Chunks are bound as arrays: the
 * {@link ChunkWriter} binding is PostgreSQL's driver's own, and runs in its integration tests.
 */
class BlobStoreOverlappedH2Tests extends BlobStoreContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.h2();
    }

    @Override
    JdbcBlobStore createBlobStore(JdbcTemplate template) {
        return new JdbcBlobStore(template, new JdbcBlobStore.Layout(64 * 1024, 3, JdbcBlobStore.ChunkBinding.ARRAY, true));
    }
}
