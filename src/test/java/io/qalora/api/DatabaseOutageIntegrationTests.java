package io.qalora.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The service on an H2 database behind its own TCP server, which the test stops: with the database
 * gone, reads and writes answer 503 problems with a Retry-After, not 500s.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
        "qalora.workers.enabled=false",
        "spring.datasource.hikari.connection-timeout=500",
        "spring.datasource.hikari.validation-timeout=250"})
class DatabaseOutageIntegrationTests {

    private static final Server DATABASE = start();

    @LocalServerPort
    int port;

    private static Server start() {
        try {
            return Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url",
                () -> "jdbc:h2:tcp://127.0.0.1:" + DATABASE.getPort() + "/mem:outage;DB_CLOSE_DELAY=-1");
    }

    @AfterAll
    static void stop() {
        DATABASE.stop();
    }

    @Test
    void anUnreachableDatabaseIsAServiceUnavailableProblem() {
        HttpApi api = new HttpApi(port);
        String layer = Fixture.layer(api, 2, 4);

        DATABASE.stop();

        for (HttpApi.Answer response : new HttpApi.Answer[] {api.get("/v1/layers/" + layer), api.get("/v1/jobs"),
                api.postJson("/v1/layers", "{\"weight\": [[1, 2]]}")}) {
            JsonNode problem = response.problem(503, "service-unavailable");
            assertThat(problem.get("detail").asString()).contains("database is unavailable");
            assertThat(problem.get("incident").asString()).isNotBlank();
            assertThat(response.header("Retry-After")).isEqualTo("5");
        }
    }
}
