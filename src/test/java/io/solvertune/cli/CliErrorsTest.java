package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every CLI error is one line ({@code error: ...}) with exit code 2 for a refused request or bad usage, 1 for a
 * failure and 3 when the server does not answer; checked against a small local HTTP server that answers like a
 * proxy in front of the service would.
 */
class CliErrorsTest {

    HttpServer server;
    String url;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/v1/jobs/1", ex -> {
            byte[] b = ("{\"type\": \"about:blank\", \"title\": \"Unauthorized\", \"status\": 401,\n"
                    + " \"detail\": \"unknown or revoked token\"}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/problem+json");
            ex.sendResponseHeaders(401, b.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
        });
        server.createContext("/api/v1/jobs/2", ex -> {
            byte[] b = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<h1>Bad Gateway</h1>\n</body>\n</html>\n"
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/html");
            ex.sendResponseHeaders(502, b.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
        });
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    static void oneLine(SampleCommandTest.Result r) {
        assertTrue(r.err().startsWith("error: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void badTokenIsOneLineExit2() {
        SampleCommandTest.Result r = SampleCommandTest.cli("status", "1", "--server", url, "--token", "st_wrong");
        oneLine(r);
        assertTrue(r.err().contains("401 Unauthorized: unknown or revoked token"), r.err());
        assertEquals(2, r.code());
    }

    @Test
    void aMultiLineErrorPageIsOneLineExit1() {
        SampleCommandTest.Result r = SampleCommandTest.cli("status", "2", "--server", url);
        oneLine(r);
        assertTrue(r.err().contains("502") && r.err().contains("Bad Gateway"), r.err());
        assertEquals(1, r.code());
    }

    @Test
    void unreachableServerIsOneLineExit3() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        SampleCommandTest.Result r = SampleCommandTest.cli("status", "1", "--server", "http://127.0.0.1:" + port);
        oneLine(r);
        assertTrue(r.err().contains("cannot connect to http://127.0.0.1:" + port), r.err());
        assertEquals(3, r.code());
    }

    @Test
    void unknownOptionIsOneLineExit2() {
        SampleCommandTest.Result r = SampleCommandTest.cli("status", "1", "--no-such-option");
        oneLine(r);
        assertEquals(2, r.code());
    }

    @Test
    void messagesAreFoldedToOneLine() {
        assertEquals("a b c", CliErrors.oneLine("a\n  b\r\n\tc\n"));
        String longOne = "x".repeat(2000);
        assertTrue(CliErrors.oneLine(longOne).length() <= CliErrors.MAX_LENGTH, "bounded");
        assertEquals("IllegalStateException", CliErrors.oneLine(CliErrors.message(new IllegalStateException())));
    }

    @Test
    void downloadHelpListsEveryExportFormat() {
        SampleCommandTest.Result r = SampleCommandTest.cli("download", "--help");
        assertEquals(0, r.code());
        for (String f : io.solvertune.exports.ExportFormat.ids()) {
            assertTrue(r.out().contains(f), "download --help lacks " + f + ":\n" + r.out());
        }
    }
}
