package io.qalora.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;

/**
 * The application with tiny limits: uploads of at most 4096 bytes (multipart parts of at most
 * 16 KB before the service sees them), merged layers of at most 8 weights as JSON, merges of
 * layers of at most 16 weights within the request. Its own database, shared by the classes that
 * carry this annotation.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
        "spring.datasource.url=jdbc:h2:mem:qalora-api-small-limits;DB_CLOSE_DELAY=-1",
        "qalora.workers.enabled=false",
        "qalora.uploads.max-bytes=4096",
        "qalora.results.json-max-elements=8",
        "qalora.merges.sync-max-elements=16",
        "spring.servlet.multipart.max-file-size=16KB",
        "spring.servlet.multipart.max-request-size=32KB"})
@interface SmallLimitsIntegrationTest {
}
