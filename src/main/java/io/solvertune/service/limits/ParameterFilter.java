package io.solvertune.service.limits;

import io.solvertune.service.api.problem.InvalidRequestException;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.Provider;
import java.util.List;
import java.util.Map;

/**
 * One check for every endpoint: a path parameter, query parameter (name or value) with a control character is a 400
 * naming the parameter, before any resource reads it (so no NUL ever reaches PostgreSQL through a parameter). Runs
 * after authentication: a caller without access learns nothing new from it.
 */
@Provider
@Priority(Priorities.AUTHORIZATION + 100)
public class ParameterFilter implements ContainerRequestFilter {

    @Override
    public void filter(ContainerRequestContext ctx) {
        check(ctx.getUriInfo().getPathParameters(true), "path parameter");
        check(ctx.getUriInfo().getQueryParameters(true), "query parameter");
    }

    private static void check(MultivaluedMap<String, String> params, String what) {
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            int n = ControlCharacters.inParameter(p.getKey());
            if (n >= 0) {
                throw InvalidRequestException.field(printable(p.getKey()), "the " + what + " name contains the "
                        + "control character " + ControlCharacters.describe(p.getKey(), n));
            }
            for (String v : p.getValue()) {
                int i = ControlCharacters.inParameter(v);
                if (i >= 0) {
                    throw InvalidRequestException.field(p.getKey(), "the " + what + " contains the control character "
                            + ControlCharacters.describe(v, i));
                }
            }
        }
    }

    /** A parameter name fit for a problem body: control characters as {@code \\uXXXX}. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(ControlCharacters.refusedInParameter(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }
}
