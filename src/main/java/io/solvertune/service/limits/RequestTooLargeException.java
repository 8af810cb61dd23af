package io.solvertune.service.limits;

import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * A request over one of the {@link Limits}: 413 (body), 414 (request target) or 431 (headers) problem details naming
 * the part and the limit.
 */
public class RequestTooLargeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Problem type of a request over a size limit. */
    public static final String TYPE = "urn:solvertune:problem:request-too-large";

    private final int status;
    private final String field;
    private final long limit;

    public RequestTooLargeException(int status, String field, long limit, String detail) {
        super(detail);
        this.status = status;
        this.field = field;
        this.limit = limit;
    }

    /** A JSON body over {@code limit} bytes. */
    public static RequestTooLargeException body(long limit, String setting) {
        return new RequestTooLargeException(413, "body", limit, "the request body is larger than " + limit
                + " bytes (server setting " + setting + ")");
    }

    public int status() {
        return status;
    }

    /** The problem body. */
    public Problem problem(String instance) {
        String unit = status == 414 ? " characters" : " bytes";
        return new Problem(TYPE, Problems.reason(status), status, getMessage(), instance,
                List.of(new Problem.FieldError(field, "larger than the limit of " + limit + unit)));
    }

    /** The problem as a response; 413 also closes the connection (the rest of the body is not read). */
    public Response response(String instance) {
        Response r = Problems.response(problem(instance));
        return status == 413 ? Response.fromResponse(r).header("Connection", "close").build() : r;
    }
}
