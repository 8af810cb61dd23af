package io.solvertune.service.configs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** In-memory alias and recommendation resolution, and the fast path's request parsing. */
class ModelPointersTest {

    private static final long NONE = ModelPointers.NONE;

    private static ModelPointers.AliasRow row(String alias, long id, String method, String solver, int nfe,
                                              double guidance, String spacing) {
        return new ModelPointers.AliasRow(alias, id, method, solver, nfe, guidance, spacing);
    }

    private static final ModelPointers P = ModelPointers.of(7, List.of(
            row("latest", 11, "dc", "unipc", 6, 7.5, "logSNR"),
            row("latest", 12, "baseline", "dpmsolver++", 6, 7.5, "logSNR"),
            row("latest", 13, "dc", "unipc", 8, 7.5, "logSNR"),
            row("latest", 14, "dc", "unipc", 6, 1.0, "time_uniform"),
            row("latest", 15, "dc", "unipc", 6, 0.0, "logSNR"),
            row("stable", 11, "dc", "unipc", 6, 7.5, "logSNR")),
            List.of(new ModelPointers.Recommendation(6, 7.5, 12), new ModelPointers.Recommendation(8, 1.0, 13),
                    new ModelPointers.Recommendation(5, -0.0, 16)));

    @Test
    void anAliasAnswersOnlyWhenExactlyOneKeyMatches() {
        assertEquals(11, P.alias("latest", "dc", null, 6, 7.5, null));
        assertEquals(12, P.alias("latest", "baseline", null, null, null, null));
        assertEquals(13, P.alias("latest", null, null, 8, null, null));
        assertEquals(14, P.alias("latest", null, null, null, null, "time_uniform"));
        assertEquals(11, P.alias("latest", null, "unipc", 6, 7.5, "logSNR"));
        assertEquals(NONE, P.alias("latest", "dc", null, 6, null, null), "three keys: the resource lists them");
        assertEquals(NONE, P.alias("latest", null, null, null, null, null));
        assertEquals(NONE, P.alias("latest", "dode", null, null, null, null), "none: the resource's 404");
        assertEquals(NONE, P.alias("latest", "DC", null, 6, 7.5, null), "exact, case-sensitive, as SQL '='");
        assertEquals(NONE, P.alias("latest", "dc ", null, 6, 7.5, null));
        assertEquals(NONE, P.alias("latest", "dc", null, 6, 7.4999999, null));
        assertEquals(11, P.alias("stable", null, null, null, null, null));
        assertEquals(NONE, P.alias("stable", "baseline", null, null, null, null));
        assertEquals(NONE, P.alias("newest", "dc", null, 6, 7.5, null));
        assertEquals(NONE, P.alias(null, "dc", null, 6, 7.5, null));
    }

    @Test
    void guidanceComparesAsPostgresDoubles() {
        // -0.0 = 0.0 in PostgreSQL (and the resource's ConfigsResource.guidance accepts "-0")
        assertEquals(15, P.alias("latest", "dc", null, null, -0.0, null));
        assertEquals(15, P.alias("latest", "dc", null, null, 0.0, null));
        assertEquals(16, P.recommended(5, 0.0));
        assertEquals(16, P.recommended(5, -0.0));
    }

    @Test
    void recommendedIsAnExactNfeAndGuidanceLookup() {
        assertEquals(12, P.recommended(6, 7.5));
        assertEquals(13, P.recommended(8, 1.0));
        assertEquals(NONE, P.recommended(6, 1.0));
        assertEquals(NONE, P.recommended(7, 7.5));
    }

    @Test
    void incompleteSnapshotsAnswerNothing() {
        for (ModelPointers p : List.of(ModelPointers.unknownModel(), ModelPointers.tooLarge(7))) {
            assertFalse(p.complete());
            assertEquals(NONE, p.alias("latest", null, null, null, null, null));
            assertEquals(NONE, p.recommended(6, 7.5));
        }
        assertEquals(NONE, ModelPointers.unknownModel().modelId());
        assertTrue(P.complete());
        assertEquals(6, P.aliasRows());
        assertThrows(IllegalArgumentException.class, () -> ModelPointers.of(7, List.of(
                row("newest", 1, "dc", "unipc", 6, 1.0, "logSNR")), List.of()));
        assertThrows(IllegalArgumentException.class, () -> ModelPointers.of(0, List.of(), List.of()));
    }

    @Test
    void bytesGrowWithRowsAndNamesAreShared() {
        ModelPointers one = ModelPointers.of(7, List.of(row("latest", 1, "dc", "unipc", 6, 1.0, "logSNR")), List.of());
        ModelPointers two = ModelPointers.of(7, List.of(row("latest", 1, "dc", "unipc", 6, 1.0, "logSNR"),
                row("latest", 2, "dc", "unipc", 8, 1.0, "logSNR")), List.of());
        assertTrue(two.bytes() > one.bytes());
        assertTrue(two.bytes() - one.bytes() < one.bytes() - ModelPointers.tooLarge(7).bytes(),
                "a second row with the same names costs less than the first");
    }

    // ---- the fast path's request parsing ---------------------------------------------------------------------------

    private static final String[] ALIAS = {"method", "solver", "nfe", "guidance", "spacing"};

    @Test
    void queryParametersAreReadOnlyWhenTheirRawTextIsTheirValue() {
        assertArrayEquals(new String[] {"dc", null, "6", "7.5", null},
                ConfigFastPath.parameters("method=dc&nfe=6&guidance=7.5", ALIAS));
        assertArrayEquals(new String[5], ConfigFastPath.parameters(null, ALIAS));
        assertArrayEquals(new String[5], ConfigFastPath.parameters("", ALIAS));
        assertArrayEquals(new String[] {"", null, null, null, null}, ConfigFastPath.parameters("method=", ALIAS));
        assertArrayEquals(new String[] {null, null, "06", "1e-3", "time_uniform"},
                ConfigFastPath.parameters("nfe=06&guidance=1e-3&spacing=time_uniform", ALIAS));
        for (String q : List.of("nfe=6&nfe=8", "nfe=6&x=1", "nfe", "nfe=6&", "&nfe=6", "nfe=6&&method=dc",
                "method=d%63", "method=dc+x", "guidance=1e%2B3", "method=a;b", "nfe=6#x", "methodx=dc", "metho=dc",
                "method=" + "a".repeat(201), "Method=dc", "method=d c", "method=ü")) {
            assertNull(ConfigFastPath.parameters(q, ALIAS), q);
        }
        assertArrayEquals(new String[] {"gmm", "6", null},
                ConfigFastPath.parameters("model=gmm&nfe=6", new String[] {"model", "nfe", "guidance"}));
    }

    @Test
    void modelReferencesArePlainSegments() {
        assertEquals("gmm-sd-d32", ConfigFastPath.segment("/gmm-sd-d32/", 1, 11));
        assertEquals("42", ConfigFastPath.segment("42", 0, 2));
        assertEquals("a.b_c-D", ConfigFastPath.segment("a.b_c-D", 0, 7));
        for (String s : List.of("", ".", "..", "a%20b", "a b", "a+b", "a;b", "ü", "a".repeat(201))) {
            assertNull(ConfigFastPath.segment(s, 0, s.length()), s);
        }
    }

    @Test
    void onlyAcceptHeadersThatCertainlyTakeJsonAreAnsweredHere() {
        for (String a : new String[] {null, "*/*", "application/json", "Application/JSON", "application/*",
                "text/html, */*", " application/json ,text/plain"}) {
            assertTrue(ConfigFastPath.acceptsJson(a), a);
        }
        for (String a : List.of("text/html", "application/xml", "application/problem+json", "application/json;q=0",
                "*/*;q=0.1, text/html", "", "application/jsonx", "text/*")) {
            assertFalse(ConfigFastPath.acceptsJson(a), a);
        }
    }
}
