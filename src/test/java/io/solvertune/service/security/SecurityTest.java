package io.solvertune.service.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

@QuarkusTest
class SecurityTest {

    @Inject
    TokenService tokens;

    @Inject
    DataSource ds;

    @Test
    void rolesAreOrderedAndParsed() {
        assertTrue(Role.ADMIN.includes(Role.SUBMITTER));
        assertTrue(Role.SUBMITTER.includes(Role.READER));
        assertFalse(Role.READER.includes(Role.SUBMITTER));
        assertEquals(Role.SUBMITTER, Role.parse(" Submitter "));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Role.parse("root"));
        assertTrue(e.getMessage().startsWith("role: "), e.getMessage());
    }

    @Test
    void onlyTheHashIsStoredAndTheTokenAuthenticates() throws Exception {
        TokenService.CreatedToken t = tokens.create("alice", Role.READER);
        assertTrue(t.token().startsWith(TokenService.PREFIX));
        try (Connection c = ds.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT token_hash FROM api_tokens WHERE id = "
                     + t.info().id())) {
            assertTrue(rs.next());
            assertEquals(TokenService.sha256(t.token()), rs.getString(1));
            assertFalse(rs.getString(1).contains(t.token().substring(3)));
        }
        given().header("Authorization", "Bearer " + t.token()).get("/api/v1/whoami")
                .then().statusCode(200).body("name", equalTo("alice")).body("role", equalTo("reader"));
    }

    @Test
    void missingTokenIs401WithChallengeAndProblemBody() {
        given().get("/api/v1/whoami").then().statusCode(401)
                .header("WWW-Authenticate", startsWith("Bearer"))
                .contentType(startsWith("application/problem+json"))
                .body("status", equalTo(401)).body("detail", containsString("bearer token"));
    }

    @Test
    void unknownOrMalformedTokenIs401EvenOnPublicEndpoints() {
        given().header("Authorization", "Bearer st_nope").get("/api/v1/whoami").then().statusCode(401)
                .body("detail", containsString("unknown or revoked"));
        given().header("Authorization", "Basic dXNlcjpwYXNz").get("/api/v1/solvers").then().statusCode(401)
                .body("detail", containsString("Bearer"));
        given().get("/api/v1/solvers").then().statusCode(200);
    }

    @Test
    void weakerRoleIs403() {
        String reader = tokens.create("bob", Role.READER).token();
        given().header("Authorization", "Bearer " + reader).get("/api/v1/tokens").then().statusCode(403)
                .contentType(startsWith("application/problem+json"))
                .body("detail", containsString("needs admin"));
    }

    @Test
    void adminCreatesListsAndRevokesTokensAndRevocationTakesEffect() {
        String admin = tokens.create("root", Role.ADMIN).token();
        String created = given().header("Authorization", "Bearer " + admin).contentType("application/json")
                .body("{\"name\":\"ci\",\"role\":\"submitter\"}").post("/api/v1/tokens")
                .then().statusCode(201).body("info.role", equalTo("submitter")).extract().path("token");
        int id = given().header("Authorization", "Bearer " + created).get("/api/v1/whoami")
                .then().statusCode(200).body("role", equalTo("submitter")).extract().path("tokenId");
        given().header("Authorization", "Bearer " + admin).get("/api/v1/tokens").then().statusCode(200)
                .body("find { it.id == " + id + " }.name", equalTo("ci"))
                .body(org.hamcrest.Matchers.not(containsString(created)));
        given().header("Authorization", "Bearer " + admin).delete("/api/v1/tokens/" + id).then().statusCode(204);
        given().header("Authorization", "Bearer " + created).get("/api/v1/whoami").then().statusCode(401);
        given().header("Authorization", "Bearer " + admin).delete("/api/v1/tokens/999999999").then().statusCode(404);
    }

    @Test
    void badTokenRequestsNameTheField() {
        String admin = tokens.create("root2", Role.ADMIN).token();
        given().header("Authorization", "Bearer " + admin).contentType("application/json")
                .body("{\"name\":\"x\",\"role\":\"god\"}").post("/api/v1/tokens")
                .then().statusCode(400).body("errors[0].field", equalTo("role"));
        given().header("Authorization", "Bearer " + admin).contentType("application/json")
                .body("{\"name\":\" \",\"role\":\"reader\"}").post("/api/v1/tokens")
                .then().statusCode(400).body("errors[0].field", equalTo("name"));
    }
}
