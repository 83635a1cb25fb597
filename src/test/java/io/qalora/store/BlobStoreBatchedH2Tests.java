package io.qalora.store;

import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The contract on H2 with chunks inserted three to a JDBC batch and small, so that every test
 * spans several batches, full and partial, as PostgreSQL's {@code COPY} batches do.
 */
class BlobStoreBatchedH2Tests extends BlobStoreContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.h2();
    }

    @Override
    JdbcBlobStore createBlobStore(JdbcTemplate template) {
        return new JdbcBlobStore(template, new JdbcBlobStore.Layout(64 * 1024, 3, false));
    }
}
