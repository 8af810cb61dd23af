package io.solvertune.service.security;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A flood of random tokens costs a bounded number of database lookups (solvertune.auth.unknown-lookups-per-second,
 * 50 by default) and cannot push a valid token out of the cache; nothing unverified ever gets in.
 */
@QuarkusTest
class TokenFloodTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    TokenService tokens;

    static String randomToken() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return TokenService.PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    @Test
    void aFloodOfRandomWellFormedTokensCostsBoundedLookupsAndKeepsValidTokensCached() {
        String valid = tokens.create("flood-victim", Role.READER).token();
        assertTrue(tokens.authenticate(valid).isPresent());
        int n = 20_000;
        long lookups0 = tokens.lookups();
        long t0 = System.nanoTime();
        int refused = 0;
        int busy = 0;
        for (int i = 0; i < n; i++) {
            try {
                Optional<Principal> p = tokens.authenticate(randomToken());
                assertFalse(p.isPresent(), "a random token got in");
                refused++;
            } catch (TokenService.LookupBudgetExceeded e) {
                busy++;
            }
            if (i % 1000 == 0) {
                // remembered (peek never queries): authenticate answers it from the cache; a refresh-ahead reload of
                // the entry may run in the background meanwhile, by design, so the lookup counter is not the test
                assertTrue(tokens.peek(valid).orElseThrow().isPresent(),
                        "the valid token was answered from the cache during the flood");
                assertEquals("flood-victim", tokens.authenticate(valid).orElseThrow().name());
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long lookups = tokens.lookups() - lookups0;
        // 50 per second plus a burst of 50 (the default budget)
        long bound = 50 + (long) Math.ceil(50 * seconds) + 1;
        System.out.printf("token flood: %d random tokens in %.2f s -> %d database lookups (bound %d), %d answered "
                + "401, %d answered 503%n", n, seconds, lookups, bound, refused, busy);
        assertTrue(lookups <= bound, lookups + " lookups for " + n + " random tokens in " + seconds + " s");
        assertEquals(n, refused + busy);
        assertTrue(tokens.peek(valid).orElseThrow().isPresent(), "still cached as valid after the flood");
    }

    @Test
    void malformedTokensCostNoLookupAtAll() {
        long lookups0 = tokens.lookups();
        for (int i = 0; i < 5_000; i++) {
            String t = randomToken();
            assertTrue(tokens.authenticate(i % 2 == 0 ? t + "x" : t.replace("st_", "xx_")).isEmpty());
        }
        assertTrue(tokens.authenticate("st_" + "!".repeat(43)).isEmpty());
        assertTrue(tokens.authenticate("").isEmpty());
        assertEquals(lookups0, tokens.lookups());
    }

    @Test
    void overHttpAFloodNeverGetsInAndIsToldToRetry() {
        String valid = tokens.create("flood-http", Role.READER).token();
        given().header("Authorization", "Bearer " + valid).get("/api/v1/whoami").then().statusCode(200);
        int unauthorized = 0;
        int busy = 0;
        for (int i = 0; i < 400; i++) {
            Response r = given().header("Authorization", "Bearer " + randomToken()).get("/api/v1/whoami");
            if (r.statusCode() == 401) {
                unauthorized++;
            } else {
                assertEquals(503, r.statusCode(), r.asString());
                assertEquals("1", r.header("Retry-After"));
                assertTrue(r.contentType().startsWith("application/problem+json"));
                busy++;
            }
        }
        assertEquals(400, unauthorized + busy);
        given().header("Authorization", "Bearer " + valid).get("/api/v1/whoami").then().statusCode(200);
    }

    @Test
    void revocationStaysImmediateInThisProcess() {
        TokenService.CreatedToken t = tokens.create("soon-revoked", Role.READER);
        assertTrue(tokens.authenticate(t.token()).isPresent());
        Principal p = tokens.authenticate(t.token()).orElseThrow();
        assertTrue(tokens.isActive(p));
        assertTrue(tokens.revoke(t.info().id()));
        assertTrue(tokens.authenticate(t.token()).isEmpty(), "refused at once after the revocation");
        assertFalse(tokens.isActive(p), "and long-lived requests see it at once");
        assertTrue(tokens.peek(t.token()).orElseThrow().isEmpty(), "remembered as unknown");
    }
}
