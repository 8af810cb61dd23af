package io.solvertune.service.security;

import jakarta.enterprise.context.RequestScoped;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.NotAuthorizedException;
import java.util.Optional;

/** Who is calling, set by {@link AuthFilter} for the current request; empty for anonymous requests. */
@RequestScoped
public class Caller {

    /** Challenge sent with every 401. */
    public static final String CHALLENGE = "Bearer realm=\"solvertune\"";

    private Principal principal;

    void set(Principal p) {
        this.principal = p;
    }

    public Optional<Principal> principal() {
        return Optional.ofNullable(principal);
    }

    /** The caller, who must hold {@code role}: 401 without a token, 403 with a weaker one. */
    public Principal require(Role role) {
        if (principal == null) {
            throw unauthorized("this request needs a bearer token with role " + role.id()
                    + " (Authorization: Bearer <token>)");
        }
        if (!principal.has(role)) {
            throw new ForbiddenException("token '" + principal.name() + "' has role " + principal.role().id()
                    + "; this request needs " + role.id());
        }
        return principal;
    }

    /** Read access to a model's data: any token, or none when the model allows anonymous reads. */
    public void requireRead(boolean modelAllowsAnonymousRead) {
        if (principal == null && !modelAllowsAnonymousRead) {
            throw unauthorized("this model is not readable anonymously; send a bearer token with role reader");
        }
    }

    static NotAuthorizedException unauthorized(String detail) {
        return new NotAuthorizedException(detail, CHALLENGE);
    }
}
