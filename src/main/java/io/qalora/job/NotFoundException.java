package io.qalora.job;

import io.qalora.QaLoraException;
import java.util.UUID;

/** No {@code resource} has this id (HTTP 404). */
public class NotFoundException extends QaLoraException {

    private final String resource;

    public NotFoundException(String resource, UUID id) {
        super(resource + " " + id + " does not exist");
        this.resource = resource;
    }

    public String resource() {
        return resource;
    }
}
