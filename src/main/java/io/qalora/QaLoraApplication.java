package io.qalora;

import io.qalora.lora.NativeBlas;
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
        // While this is the only thread: choosing OpenBLAS's kernels may setenv(), which is not thread-safe.
        NativeBlas.chooseKernels();
        SpringApplication.run(QaLoraApplication.class, args);
    }

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }
}
