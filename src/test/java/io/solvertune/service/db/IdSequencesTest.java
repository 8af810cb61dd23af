package io.solvertune.service.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import org.junit.jupiter.api.Test;

/**
 * Ids step by 1 across processes: the entities take one id per row, so what another process (a second service, the
 * {@code token} command, a plain {@code nextval} like the config store's) gets next is the next number, not the start
 * of a new block of 50.
 */
@QuarkusTest
class IdSequencesTest {

    @Inject
    TokenService tokens;

    @Inject
    EntityManager em;

    @Test
    void tokenIdsContinueByOneInThisAndTheNextProcess() {
        long a = tokens.create("seq-a", Role.READER).info().id();
        long b = tokens.create("seq-b", Role.READER).info().id();
        assertEquals(a + 1, b);
        long other = QuarkusTransaction.requiringNew().call(() -> ((Number) em
                .createNativeQuery("SELECT nextval('api_tokens_seq')").getSingleResult()).longValue());
        assertEquals(b + 1, other, "the id another process would get next");
    }
}
