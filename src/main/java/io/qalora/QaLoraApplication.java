package io.qalora;

import java.time.Clock;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;

/** The QA-LoRA service: REST API, job store and queue, workers, metrics. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class QaLoraApplication {

    public static void main(String[] args) {
        SpringApplication.run(QaLoraApplication.class, args);
    }

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }
}
