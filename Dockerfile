# syntax=docker/dockerfile:1
#
# The QA-LoRA service as a container image:
#   docker build -t qalora-service .
#   docker run -p 8080:8080 -v qalora-data:/data qalora-service
#
# Both stages are glibc (Ubuntu) images: ND4J's and OpenBLAS's native libraries do not run on musl.
# src/test/java/io/qalora/deploy/ExtractedLayersStartIntegrationTests.java runs the extraction below
# and starts the application exactly as ENTRYPOINT and ENV say, so keep the two in step.

# ---- build: the Maven wrapper builds the Spring Boot jar, which is split into its layers ----
FROM eclipse-temurin:17-jdk AS build
# gcc builds the engine's native kernel (src/main/c, pom.xml's native-kernels profile).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# The wrapper, its settings and the pom first: the dependency layer is reused until one of them changes.
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
RUN ./mvnw -B -q dependency:go-offline
COPY src/ src/
RUN ./mvnw -B -DskipTests package \
 && cp target/*.jar app.jar \
 && java -Djarmode=tools -jar app.jar extract --layers --launcher --destination extracted

# ---- run ----
FROM eclipse-temurin:17-jre
# A fixed numeric user, so that Kubernetes can verify runAsNonRoot; /data holds the embedded H2 database.
RUN groupadd --system --gid 10001 qalora \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin qalora \
 && mkdir -p /data \
 && chown 10001:10001 /data
WORKDIR /app
# Least to most often changed, one image layer each. The files stay root's: the application cannot change them.
COPY --from=build /build/extracted/dependencies/ ./
COPY --from=build /build/extracted/spring-boot-loader/ ./
COPY --from=build /build/extracted/snapshot-dependencies/ ./
COPY --from=build /build/extracted/application/ ./
# Memory: the heap gets half of the container's memory; ND4J's off-heap arrays (tracked by JavaCPP) may
# use up to 60% of the heap (30% of the container), and JavaCPP refuses new native allocations (an
# OutOfMemoryError that fails the job, not the pod) once the whole process's resident set passes 180% of
# the heap (90% of the container). The remaining 10% are metaspace, thread stacks and untracked native
# memory (OpenBLAS buffers, malloc arenas, which MALLOC_ARENA_MAX keeps few). GLIBC_TUNABLES asks glibc
# (2.35+) for transparent huge pages on large allocations: first-touch page faults of a fresh 64 MiB
# off-heap weight cost 180-400 ms on the benchmark VM and about 9 ms with it.
# Files: the root file system may be read-only; JavaCPP unpacks its native libraries (about 400 MB) into
# /tmp/javacpp, and upload parts and Tomcat's work files go to /tmp, so /tmp must be writable.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50 -Dorg.bytedeco.javacpp.maxbytes=60% -Dorg.bytedeco.javacpp.maxphysicalbytes=180% -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp -Djava.io.tmpdir=/tmp" \
    MALLOC_ARENA_MAX=2 \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 \
    SPRING_DATASOURCE_URL="jdbc:h2:file:/data/qalora;DB_CLOSE_ON_EXIT=FALSE"
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["java", "-cp", "/app", "org.springframework.boot.loader.launch.JarLauncher"]
