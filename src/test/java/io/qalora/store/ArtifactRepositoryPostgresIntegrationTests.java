package io.qalora.store;

import javax.sql.DataSource;

class ArtifactRepositoryPostgresIntegrationTests extends ArtifactRepositoryContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.postgres();
    }
}
