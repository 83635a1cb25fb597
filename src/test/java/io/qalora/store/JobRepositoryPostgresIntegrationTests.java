package io.qalora.store;

import javax.sql.DataSource;

class JobRepositoryPostgresIntegrationTests extends JobRepositoryContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.postgres();
    }
}
