package io.solvertune.service.db;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * A database outage while requests come in: every request that needs the database is answered 503 with Retry-After
 * (not 500), the outage is logged once when it starts and once when it ends, and nothing is logged per request.
 */
@QuarkusTest
@TestProfile(OutageProfile.class)
class DatabaseOutageTest {

    @Inject
    TokenService tokens;

    @Inject
    DatabaseOutage outage;

    @Test
    void anOutageIs503WithRetryAfterAndOneLogLineEachWay() throws Exception {
        String admin = tokens.create("outage-admin", Role.ADMIN).token();
        given().header("Authorization", "Bearer " + admin).get("/api/v1/models").then().statusCode(200);
        given().header("Authorization", "Bearer " + admin).get("/api/v1/jobs").then().statusCode(200);

        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (isLoggable(r) && r.getLevel().intValue() >= Level.INFO.intValue()) {
                    records.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        // what the console shows: its levels and its filter (quarkus.log.console.filter)
        assertEquals(OutageLogFilter.NAME, org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("quarkus.log.console.filter", String.class));
        capture.setFilter(new OutageLogFilter());
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        try {
            OutageProfile.proxy.cut();
            for (int i = 0; i < 3; i++) {
                for (String path : List.of("/api/v1/models", "/api/v1/jobs", "/api/v1/tokens", "/api/v1/models/x")) {
                    given().header("Authorization", "Bearer " + admin).get(path).then().statusCode(503)
                            .contentType(startsWith("application/problem+json"))
                            .header("Retry-After", equalTo("3"))
                            .body("status", equalTo(503))
                            .body(not(containsString("\tat ")));
                }
            }
            assertTrue(outage.inOutage());
            OutageProfile.proxy.restore();
            long deadline = System.currentTimeMillis() + 20_000;
            while (outage.inOutage()) {
                if (System.currentTimeMillis() > deadline) {
                    fail("the end of the outage was not noticed");
                }
                Thread.sleep(50);
            }
            given().header("Authorization", "Bearer " + admin).get("/api/v1/models").then().statusCode(200);
            given().header("Authorization", "Bearer " + admin).get("/api/v1/jobs").then().statusCode(200);
        } finally {
            root.removeHandler(capture);
            OutageProfile.proxy.restore();
        }
        List<String> lines = records.stream().map(r -> r.getLevel() + " [" + r.getLoggerName() + "] "
                + (r instanceof org.jboss.logmanager.ExtLogRecord e ? e.getFormattedMessage() : r.getMessage()))
                .toList();
        List<String> warnings = lines.stream().filter(l -> !l.startsWith("INFO")).toList();
        assertEquals(1, warnings.size(), "one WARN line for the whole outage:\n" + String.join("\n", lines));
        assertTrue(warnings.get(0).contains("DatabaseOutage") && warnings.get(0).contains("database unavailable"),
                warnings.get(0));
        List<String> back = lines.stream().filter(l -> l.contains("database available again")).toList();
        assertEquals(1, back.size(), String.join("\n", lines));
        assertTrue(back.get(0).contains("12 request(s) were answered 503"), back.get(0));
    }
}
