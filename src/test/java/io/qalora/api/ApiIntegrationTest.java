package io.qalora.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;

/**
 * The real application on a random port and a fresh in-memory H2 database, workers off so jobs
 * stay QUEUED. Every class with these same properties shares one context (and one database), so
 * tests create their own data and never assume an empty store.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
        "spring.datasource.url=jdbc:h2:mem:qalora-api;DB_CLOSE_DELAY=-1",
        "qalora.workers.enabled=false",
        "springdoc.writer-with-order-by-keys=true"})
@interface ApiIntegrationTest {
}
