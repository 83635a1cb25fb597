package io.qalora.store;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * Fresh, isolated databases for tests: an in-memory H2, or a new schema in a PostgreSQL that is
 * either the one {@value #URL_VARIABLE} names (CI) or a Testcontainers one. Without either,
 * PostgreSQL tests are skipped locally and fail on CI. Schemas are dropped when the JVM exits.
 */
public final class TestDatabases {

    /** A JDBC URL of a PostgreSQL to create test schemas in, user (and password) included. */
    public static final String URL_VARIABLE = "QALORA_TEST_JDBC_URL";

    private static final String POSTGRES_IMAGE = "postgres:15-alpine";
    // Run at JVM exit in this order: pools first, so that the schemas are free to drop, then the container.
    private static final List<Runnable> POOLS = new CopyOnWriteArrayList<>();
    private static final List<Runnable> SCHEMAS = new CopyOnWriteArrayList<>();
    private static final List<Runnable> CONTAINERS = new CopyOnWriteArrayList<>();
    private static String server;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TestDatabases::cleanUp, "test-db-cleanup"));
    }

    /**
     * Closes the pools, drops the schemas and stops the container now, as the JVM's exit does. For
     * a main method that cannot count on its exit hooks: under Maven's {@code exec:java} the upload
     * bench's schemas (a gigabyte each) stayed.
     */
    public static void cleanUp() {
        for (List<Runnable> tasks : List.of(POOLS, SCHEMAS, CONTAINERS)) {
            for (Runnable task : tasks) {
                if (tasks.remove(task)) {
                    task.run();
                }
            }
        }
    }

    private TestDatabases() {
    }

    /** A new in-memory H2 in its default mode, empty, alive until closed or the JVM exits. */
    public static DataSource h2() {
        return pool("jdbc:h2:mem:test-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", null, null);
    }

    /**
     * A new empty schema in PostgreSQL, as a pooled DataSource whose connections use it. Skips the
     * calling test (by assumption) when no PostgreSQL is to be had, unless {@code CI=true}.
     */
    public static DataSource postgres() {
        return pool(postgresUrl(), null, null);
    }

    /**
     * The JDBC URL of a new empty schema in PostgreSQL, with the credentials and
     * {@code currentSchema} in it, so that it alone configures a data source (for instance
     * {@code spring.datasource.url}). Skips or fails like {@link #postgres()}.
     */
    public static String postgresUrl() {
        String server = server();
        String schema = "test_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = DriverManager.getConnection(server); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create a schema in PostgreSQL at " + server, e);
        }
        SCHEMAS.add(() -> {
            try (Connection c = DriverManager.getConnection(server); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            } catch (SQLException e) {
                System.err.println("could not drop test schema " + schema + ": " + e.getMessage());
            }
        });
        return withParameter(server, "currentSchema=" + schema);
    }

    /** Applies the service's Flyway migrations. */
    public static void migrate(DataSource dataSource) {
        Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
    }

    /** A small connection pool; closing it (it is {@link AutoCloseable}) releases the connections. */
    public static HikariDataSource pool(String url, String user, String password) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(6);
        config.setMinimumIdle(0);
        HikariDataSource dataSource = new HikariDataSource(config);
        POOLS.add(dataSource::close);
        return dataSource;
    }

    private static String withParameter(String url, String parameter) {
        return url + (url.contains("?") ? "&" : "?") + parameter;
    }

    /** The URL, credentials included, of the PostgreSQL server to make schemas in. */
    private static synchronized String server() {
        if (server != null) {
            return server;
        }
        String url = System.getenv(URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            try (Connection c = DriverManager.getConnection(url)) {
                server = url;
                return server;
            } catch (SQLException e) {
                throw new IllegalStateException(URL_VARIABLE + " is set, but PostgreSQL at " + url
                        + " is unreachable: " + e.getMessage(), e);
            }
        }
        if (DockerClientFactory.instance().isDockerAvailable()) {
            PostgreSQLContainer container = new PostgreSQLContainer(POSTGRES_IMAGE);
            container.start();
            CONTAINERS.add(container::stop);
            server = withParameter(withParameter(container.getJdbcUrl(), "user=" + container.getUsername()),
                    "password=" + container.getPassword());
            return server;
        }
        if ("true".equals(System.getenv("CI"))) {
            throw new IllegalStateException("PostgreSQL tests must run on CI: set " + URL_VARIABLE
                    + " (e.g. jdbc:postgresql://127.0.0.1:5432/test?user=postgres) or provide Docker");
        }
        assumeTrue(false, "no PostgreSQL: set " + URL_VARIABLE + " or start Docker to run this test");
        throw new AssertionError("unreachable");
    }
}
