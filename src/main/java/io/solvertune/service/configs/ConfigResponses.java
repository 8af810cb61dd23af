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

    @Inject
    ConfigReader reader;

    @Inject
    Caller caller;

    /** A resolved alias: the document with the resolved id and version in headers and a short cache lifetime. */
    Response resolved(long id, String ifNoneMatch, String alias, boolean anonymous) {
        ConfigReader.Served s = served(id);
        String cache = (anonymous ? "public" : "private") + ", max-age=60";
        Response.ResponseBuilder b = ETags.matches(ifNoneMatch, s.etag()) ? Response.notModified()
                : Response.ok(s.body(), MediaType.APPLICATION_JSON_TYPE);
        return b.header(HttpHeaders.ETAG, s.etag()).header(HttpHeaders.CACHE_CONTROL, cache)
                .header("X-Config-Id", s.id()).header("X-Config-Version", s.version()).header("X-Config-Alias", alias)
                .header("Content-Location", "/api/v1/configs/" + s.id()).build();
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
