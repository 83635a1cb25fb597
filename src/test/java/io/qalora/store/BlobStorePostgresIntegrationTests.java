package io.qalora.store;

import javax.sql.DataSource;

class BlobStorePostgresIntegrationTests extends BlobStoreContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.postgres();
    }
}
