package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Parsing libtorch's printed schemas (taken verbatim from libtorch 2.7.1 errors) and the arity checks on them. */
class TorchScriptSignatureTest {

    static TorchScriptSignature sig(String declaration) {
        return TorchScriptSignature.parse(declaration).orElseThrow();
    }

    @Test
    void readsTheDeclarationOfLibtorchErrors() {
        String missing = "forward() is missing value for argument 'x'. Declaration: forward(__torch__.CondEps self,"
                + " Tensor x, Tensor t, Tensor y) -> Tensor";
        TorchScriptSignature s = TorchScriptSignature.fromError(missing).orElseThrow();
        assertEquals(List.of("x", "t", "y"), s.arguments().stream().map(TorchScriptSignature.Argument::name).toList());
        assertEquals("Tensor", s.returnType());
        assertEquals(3, s.positional());
        assertEquals(3, s.required());
        assertTrue(s.accepts(3));
        assertFalse(s.accepts(2));

        String typeError = "forward() Expected a value of type 'float' for argument 't' but instead found type"
                + " 'Tensor'.\nPosition: 2\nDeclaration: forward(__torch__.ScalarTime self, Tensor x, float t) -> Tensor";
        TorchScriptSignature st = TorchScriptSignature.fromError(typeError).orElseThrow();
        assertEquals("float", st.arguments().get(1).type());

        String tooMany = "Expected at most 3 argument(s) for operator 'forward', but received 4 argument(s)."
                + " Declaration: forward(__torch__.UncondEps self, Tensor x, Tensor t) -> Tensor";
        assertEquals(2, TorchScriptSignature.fromError(tooMany).orElseThrow().positional());

        assertTrue(TorchScriptSignature.fromError("RuntimeError: something else").isEmpty());
        assertTrue(TorchScriptSignature.fromError(null).isEmpty());
    }

    @Test
    void defaultsOptionalsKeywordOnlyAndNestedTypes() {
        TorchScriptSignature opt = sig("forward(__torch__.CondOptional self, Tensor x, Tensor t, Tensor? y=None)"
                + " -> Tensor");
        assertTrue(opt.accepts(2));
        assertTrue(opt.accepts(3));
        assertEquals("forward(Tensor x, Tensor t, Tensor? y=...) -> Tensor", opt.describe());
        opt.check(0);
        opt.check(10);

        TorchScriptSignature nested = sig("forward(__torch__.Net self, Tensor x, Tensor t, Dict(str, Tensor) extra={},"
                + " str mode='a,b', int[] dims=[1, 2]) -> ((Tensor, Tensor))");
        assertEquals(5, nested.positional());
        assertEquals(2, nested.required());
        assertEquals("str", nested.arguments().get(3).type());
        assertEquals("(Tensor, Tensor)", nested.returnType());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> nested.check(0));
        assertTrue(e.getMessage().contains("forward must return one Tensor"), e.getMessage());

        TorchScriptSignature kw = sig("forward(__torch__.Net self, Tensor x, Tensor t, *, Tensor y) -> Tensor");
        assertEquals(2, kw.positional());
        assertFalse(kw.accepts(2), "a required keyword-only argument cannot be passed positionally");
        IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> kw.check(0));
        assertTrue(k.getMessage().contains("keyword-only argument 'y'"), k.getMessage());

        assertTrue(TorchScriptSignature.parse("garbage").isEmpty());
        assertTrue(TorchScriptSignature.parse("forward(Tensor x").isEmpty());
    }

    @Test
    void arityChecks() {
        TorchScriptSignature uncond = sig("forward(__torch__.M self, Tensor x, Tensor t) -> Tensor");
        uncond.check(0);
        IllegalArgumentException noClass = assertThrows(IllegalArgumentException.class, () -> uncond.check(10));
        assertTrue(noClass.getMessage().contains("numClasses = 10 was declared but the module takes no class argument"),
                noClass.getMessage());

        TorchScriptSignature cond = sig("forward(__torch__.M self, Tensor x, Tensor t, Tensor y) -> Tensor");
        cond.check(10);
        IllegalArgumentException needsClass = assertThrows(IllegalArgumentException.class, () -> cond.check(0));
        assertTrue(needsClass.getMessage().contains("requires a class argument"), needsClass.getMessage());

        TorchScriptSignature four = sig("forward(__torch__.M self, Tensor x, Tensor t, Tensor y, Tensor z) -> Tensor");
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> four.check(10));
        assertTrue(tooMany.getMessage().contains("expected forward(x, t, class) (3 arguments)")
                && tooMany.getMessage().contains("it takes 4 arguments"), tooMany.getMessage());

        TorchScriptSignature intClass = sig("forward(__torch__.M self, Tensor x, Tensor t, int y) -> Tensor");
        IllegalArgumentException scalar = assertThrows(IllegalArgumentException.class, () -> intClass.check(10));
        assertTrue(scalar.getMessage().contains("argument 'y' is declared as 'int'"), scalar.getMessage());
    }

    @Test
    void summaryKeepsTheLastErrorLine() {
        String msg = "The following operation failed in the TorchScript interpreter.\nTraceback of TorchScript:\n"
                + "  File \"code/__torch__.py\", line 14, in forward\n    _0 = (conv).forward(x, )\n"
                + "RuntimeError: Given groups=1, weight of size [1, 1, 1, 1], expected input[2, 3, 28, 28] to have 1"
                + " channels, but got 3 channels instead\n";
        assertEquals("RuntimeError: Given groups=1, weight of size [1, 1, 1, 1], expected input[2, 3, 28, 28] to have"
                + " 1 channels, but got 3 channels instead", TorchScriptDenoiser.summary(msg));
        assertEquals("first line", TorchScriptDenoiser.summary("\nfirst line\nsecond"));
    }
}
