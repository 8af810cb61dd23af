package io.solvertune.service.configs;

import io.solvertune.service.security.Caller;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;

/** Responses shared by the config resources: served documents, alias answers, readable models. */
@ApplicationScoped
public class ConfigResponses {

    /** Cache-Control of alias and recommended answers readable without a token (aliases move). */
    static final String ALIAS_PUBLIC = "public, max-age=60";
    /** Cache-Control of alias and recommended answers that need a token. */
    static final String ALIAS_PRIVATE = "private, max-age=60";

    @Inject
    ConfigReader reader;

    @Inject
    ConfigPointers pointers;

    @Inject
    Caller caller;

    /** A resolved alias: the document with the resolved id and version in headers and a short cache lifetime. */
    Response resolved(long id, String ifNoneMatch, String alias, boolean anonymous) {
        ConfigReader.Served s = served(id);
        String cache = anonymous ? ALIAS_PUBLIC : ALIAS_PRIVATE;
        Response.ResponseBuilder b = ETags.matches(ifNoneMatch, s.etag()) ? Response.notModified()
                : Response.ok(s.body(), MediaType.APPLICATION_JSON_TYPE);
        return b.header(HttpHeaders.ETAG, s.etag()).header(HttpHeaders.CACHE_CONTROL, cache)
                .header("X-Config-Id", s.id()).header("X-Config-Version", s.version()).header("X-Config-Alias", alias)
                .header("Content-Location", "/api/v1/configs/" + s.id()).build();
    }

    /**
     * After an alias or {@code best} answer of the resource: reads what {@link ConfigFastPath} needs to answer the
     * next such request from memory if it is not there yet — the model's pointers under the reference the client used
     * and its anonymous-read flag (the document's bytes are cached by {@link #served}, the token verdict by the auth
     * filter). Only answered requests warm the caches, so unknown models never take a place in them.
     */
    void warm(String modelRef, long modelId) {
        pointers.warm(modelRef);
        try {
            reader.anonymousRead(modelId);
        } catch (RuntimeException e) {
            // the request has its answer; the next one goes to the resource again
        }
    }

    ConfigReader.Served served(long id) {
        Optional<ConfigReader.Served> s = reader.served(id);
        if (s.isEmpty()) {
            caller.requireRead(false); // anonymous callers learn nothing about ids they could not read
            throw new NotFoundException("no config " + id);
        }
        return s.get();
    }

    /** The model, which the caller must be allowed to read (anonymous callers get 401 for unknown models too). */
    ConfigReader.ModelRef readableModel(String idOrName) {
        ConfigReader.ModelRef m;
        try {
            m = reader.model(idOrName);
        } catch (NotFoundException e) {
            caller.requireRead(false);
            throw e;
        }
        caller.requireRead(m.anonymousRead());
        return m;
    }

}
