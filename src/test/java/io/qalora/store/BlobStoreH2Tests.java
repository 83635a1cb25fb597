package io.qalora.store;

import javax.sql.DataSource;

class BlobStoreH2Tests extends BlobStoreContract {

    @Override
    DataSource createDataSource() {
        return TestDatabases.h2();
    }
}
