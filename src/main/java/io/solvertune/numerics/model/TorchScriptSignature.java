package io.solvertune.numerics.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The schema of a TorchScript module's {@code forward}, as libtorch prints it, e.g.
 * {@code forward(__torch__.Net self, Tensor x, Tensor t, Tensor? y=None) -> Tensor}.
 *
 * <p>libtorch checks the arguments of a method call against this schema before running anything and puts the schema
 * into its error message ({@code "... Declaration: forward(...) -> Tensor"}). {@link TorchScriptDenoiser} reads it
 * from the error of a deliberately empty call ({@code forward()}), or from the error of a rejected call, and checks
 * it against the declared arity: {@code forward(x, t)} for unconditional and {@code forward(x, t, class)} for
 * class-conditional models ({@link #check(int)}).
 *
 * @param declaration the schema as libtorch printed it
 * @param arguments   the arguments without {@code self}
 * @param returnType  the declared return type, e.g. {@code Tensor} or {@code (Tensor, Tensor)}
 */
public record TorchScriptSignature(String declaration, List<Argument> arguments, String returnType) {

    private static final Pattern DECLARATION = Pattern.compile("Declaration: *([^\\n]+)");

    /** One argument: TorchScript type ({@code Tensor}, {@code Tensor?}, {@code float}, ...), name, default. */
    public record Argument(String type, String name, boolean hasDefault, boolean keywordOnly) {
        boolean isTensor() {
            return type.equals("Tensor") || type.equals("Tensor?") || type.equals("Optional[Tensor]");
        }
    }

    public TorchScriptSignature {
        arguments = List.copyOf(arguments);
    }

    /** The signature in a libtorch error message ({@code ... Declaration: forward(...) -> T}), if there is one. */
    public static Optional<TorchScriptSignature> fromError(String message) {
        if (message == null) {
            return Optional.empty();
        }
        Matcher m = DECLARATION.matcher(message);
        return m.find() ? parse(m.group(1).trim()) : Optional.empty();
    }

    /** Parses a printed schema {@code name(type name[=default], ...) -> returns}. */
    public static Optional<TorchScriptSignature> parse(String declaration) {
        int open = declaration.indexOf('(');
        if (open < 0) {
            return Optional.empty();
        }
        int close = matching(declaration, open);
        if (close < 0) {
            return Optional.empty();
        }
        String rest = declaration.substring(close + 1).trim();
        if (!rest.startsWith("->")) {
            return Optional.empty();
        }
        String returns = unwrap(rest.substring(2).trim());
        List<Argument> args = new ArrayList<>();
        boolean kwOnly = false;
        for (String raw : splitTopLevel(declaration.substring(open + 1, close))) {
            String a = raw.trim();
            if (a.isEmpty()) {
                continue;
            }
            if (a.equals("*")) {
                kwOnly = true;
                continue;
            }
            int eq = topLevelIndexOf(a, '=');
            boolean hasDefault = eq >= 0;
            String decl = (hasDefault ? a.substring(0, eq) : a).trim();
            int sp = decl.lastIndexOf(' ');
            if (sp < 0) {
                return Optional.empty();
            }
            String type = decl.substring(0, sp).trim();
            String name = decl.substring(sp + 1).trim();
            if (args.isEmpty() && name.equals("self") && !kwOnly) {
                continue;
            }
            args.add(new Argument(type, name, hasDefault, kwOnly));
        }
        return Optional.of(new TorchScriptSignature(declaration, args, returns));
    }

    /** Number of arguments that can be passed positionally. */
    public int positional() {
        int n = 0;
        for (Argument a : arguments) {
            if (!a.keywordOnly()) {
                n++;
            }
        }
        return n;
    }

    /** Number of positional arguments without a default. */
    public int required() {
        int n = 0;
        for (Argument a : arguments) {
            if (!a.keywordOnly() && !a.hasDefault()) {
                n++;
            }
        }
        return n;
    }

    /** Whether a call with {@code n} positional arguments passes libtorch's schema check. */
    public boolean accepts(int n) {
        for (Argument a : arguments) {
            if (a.keywordOnly() && !a.hasDefault()) {
                return false;
            }
        }
        return required() <= n && n <= positional();
    }

    /** The schema without the module's type: {@code forward(Tensor x, Tensor t) -> Tensor}. */
    public String describe() {
        StringBuilder b = new StringBuilder("forward(");
        boolean kw = false;
        for (int i = 0; i < arguments.size(); i++) {
            Argument a = arguments.get(i);
            if (i > 0) {
                b.append(", ");
            }
            if (a.keywordOnly() && !kw) {
                b.append("*, ");
                kw = true;
            }
            b.append(a.type()).append(' ').append(a.name());
            if (a.hasDefault()) {
                b.append("=...");
            }
        }
        return b.append(") -> ").append(returnType).toString();
    }

    /**
     * Checks that {@code forward} can be called as {@code forward(x, t)} ({@code numClasses == 0}) or
     * {@code forward(x, t, class)} ({@code numClasses > 0}) with tensors and returns one tensor.
     *
     * @throws IllegalArgumentException naming the mismatch
     */
    public void check(int numClasses) {
        boolean conditional = numClasses > 0;
        int n = conditional ? 3 : 2;
        String expected = expectedCall(numClasses);
        if (!accepts(n)) {
            if (conditional && accepts(2)) {
                throw new IllegalArgumentException("torchscript: numClasses = " + numClasses + " was declared but the"
                        + " module takes no class argument: expected " + expected + ", the module declares "
                        + describe() + " (declare numClasses = 0 for an unconditional model)");
            }
            if (!conditional && accepts(3) && arguments.size() >= 3 && arguments.get(2).isTensor()) {
                throw new IllegalArgumentException("torchscript: the model was declared unconditional (numClasses = 0)"
                        + " but the module requires a class argument: expected " + expected
                        + ", the module declares " + describe()
                        + " (declare numClasses and nullClass for a class-conditional model)");
            }
            throw new IllegalArgumentException("torchscript: wrong signature: expected " + expected + " (" + n
                    + " arguments), but the module declares " + describe() + " (" + arityText() + ")");
        }
        for (int i = 0; i < n; i++) {
            Argument a = arguments.get(i);
            if (!a.isTensor()) {
                throw new IllegalArgumentException("torchscript: wrong signature: expected " + expected
                        + " with tensor arguments (x [B, ...], t [B] float"
                        + (conditional ? ", class [B] int64" : "") + "), but argument '" + a.name()
                        + "' is declared as '" + a.type() + "': " + describe());
            }
        }
        if (!returnType.equals("Tensor")) {
            throw new IllegalArgumentException("torchscript: forward must return one Tensor of the input's shape, but"
                    + " the module declares " + describe());
        }
    }

    /** {@code forward(x, t)} or {@code forward(x, t, class)}. */
    static String expectedCall(int numClasses) {
        return numClasses > 0 ? "forward(x, t, class)" : "forward(x, t)";
    }

    private String arityText() {
        for (Argument a : arguments) {
            if (a.keywordOnly() && !a.hasDefault()) {
                return "it requires the keyword-only argument '" + a.name() + "'";
            }
        }
        int p = positional();
        int r = required();
        if (p == r) {
            return "it takes " + p + " argument" + (p == 1 ? "" : "s");
        }
        return "it takes " + r + " to " + p + " arguments";
    }

    /** {@code ((Tensor, Tensor))} as libtorch prints a tuple return: drop one pair of redundant parentheses. */
    private static String unwrap(String s) {
        if (s.startsWith("((") && s.endsWith("))") && matching(s, 0) == s.length() - 1) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    private static int matching(String s, int open) {
        int depth = 0;
        char quote = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        return -1;
    }

    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        char quote = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return Collections.unmodifiableList(parts);
    }

    private static int topLevelIndexOf(String s, char target) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == target && depth == 0) {
                return i;
            }
        }
        return -1;
    }
}
