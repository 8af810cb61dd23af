package io.solvertune.service.limits;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.service.api.problem.InvalidRequestException;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;
import jakarta.ws.rs.ext.ReaderInterceptor;
import jakarta.ws.rs.ext.ReaderInterceptorContext;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Every JSON request body, whatever the endpoint: read at most {@code solvertune.limits.request.max-json-bytes}
 * (also when it is sent chunked, without a length; a body announced larger is refused before it is read, by
 * {@link HttpLimitsRoute}), and no control character other than TAB, LF and CR in any string or field name (a 400
 * naming the JSON path). Bodies of other types (the TorchScript upload) are not touched.
 */
@Provider
public class JsonBodyGuard implements ReaderInterceptor {

    // resolved at the first request: interceptors are created at static init, before runtime config mappings exist
    @Inject
    Instance<Limits> limits;

    @Inject
    Instance<ObjectMapper> mappers;

    private volatile long maxBytes = -1;
    private volatile ObjectMapper mapper;

    @Override
    public Object aroundReadFrom(ReaderInterceptorContext ctx) throws IOException {
        if (!isJson(ctx.getMediaType())) {
            return ctx.proceed();
        }
        long max = maxBytes;
        if (max < 0) {
            mapper = mappers.get();
            max = maxBytes = limits.get().request().maxJsonBytes().asLongValue();
        }
        ctx.setInputStream(new Bounded(ctx.getInputStream(), max));
        Object body = ctx.proceed();
        if (body != null) {
            JsonNode tree = body instanceof JsonNode n ? n : mapper.valueToTree(body);
            Optional<String[]> bad = ControlCharacters.findInJson(tree);
            if (bad.isPresent()) {
                throw InvalidRequestException.field(bad.get()[0], bad.get()[1]);
            }
        }
        return body;
    }

    static boolean isJson(MediaType t) {
        return t != null && (t.getSubtype().equalsIgnoreCase("json") || t.getSubtype().toLowerCase().endsWith("+json"));
    }

    /** Throws {@link RequestTooLargeException} once more than {@code max} bytes were read. */
    static final class Bounded extends FilterInputStream {
        private final long max;
        private long read;

        Bounded(InputStream in, long max) {
            super(in);
            this.max = max;
        }

        private int count(int n) {
            if (n > 0) {
                read += n;
                if (read > max) {
                    throw RequestTooLargeException.body(max, "solvertune.limits.request.max-json-bytes");
                }
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return count(super.read(b, off, len));
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            count((int) Math.min(Integer.MAX_VALUE, s));
            return s;
        }
    }
}
