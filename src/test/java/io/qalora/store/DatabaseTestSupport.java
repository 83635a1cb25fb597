package io.qalora.store;

import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * One migrated database per test class (a contract run against one database), emptied before
 * each test. Subclasses say which database; the contracts say what must hold on every one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DatabaseTestSupport {

    private static final String[] TABLES = { "job_event", "job_result", "job", "dataset", "layer", "blob_chunk",
            "blob" };

    DataSource dataSource;
    JdbcClient jdbc;
    TransactionTemplate transactions;
    JsonMapper json;
    JdbcBlobStore blobs;

    /** A new, empty database; called once per test class. */
    abstract DataSource createDataSource();

    @BeforeAll
    void migrateDatabase() {
        dataSource = createDataSource();
        TestDatabases.migrate(dataSource);
        jdbc = JdbcClient.create(dataSource);
        transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        json = JsonMapper.builder().build();
        blobs = createBlobStore(new org.springframework.jdbc.core.JdbcTemplate(dataSource));
    }

    /** The store under test: the one the database's product name picks, unless a subclass says otherwise. */
    JdbcBlobStore createBlobStore(org.springframework.jdbc.core.JdbcTemplate template) {
        return new JdbcBlobStore(template);
    }

    @BeforeEach
    void emptyTables() {
        for (String table : TABLES) {
            jdbc.sql("DELETE FROM " + table).update();
        }
    }

    @AfterAll
    void closeDataSource() throws Exception {
        if (dataSource instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    long count(String table) {
        return jdbc.sql("SELECT COUNT(*) FROM " + table).query(Long.class).single();
    }
}
