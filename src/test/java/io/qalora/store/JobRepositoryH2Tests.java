package io.qalora.store;

import javax.sql.DataSource;

class JobRepositoryH2Tests extends JobRepositoryContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.h2();
    }
}
