package io.qalora.store;

import javax.sql.DataSource;

class ArtifactRepositoryH2Tests extends ArtifactRepositoryContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.h2();
    }
}
