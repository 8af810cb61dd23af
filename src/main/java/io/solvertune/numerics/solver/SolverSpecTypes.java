package io.solvertune.numerics.solver;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.DatabindContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.jsontype.impl.TypeIdResolverBase;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The JSON type ids of {@link SolverSpec} ({@code "solver": "ddim" | "dpmsolver" | "unipc" | ...}), collected from
 * every {@link SolverFamily} on the class path. Any ObjectMapper reads and writes solver specs through this resolver;
 * no mapper needs a module registered.
 */
public final class SolverSpecTypes extends TypeIdResolverBase {

    private static volatile Registry registry;

    private record Registry(Map<String, Class<? extends SolverSpec>> byName,
                            Map<Class<?>, String> byClass) {
    }

    /** Every registered JSON name with its record class, in registration order. */
    public static Map<String, Class<? extends SolverSpec>> all() {
        return registry().byName();
    }

    /** The JSON name of a spec's class. */
    public static String nameOf(Class<?> type) {
        String name = registry().byClass().get(type);
        if (name == null) {
            throw new IllegalArgumentException("no solver family declares " + type.getName()
                    + " (META-INF/services/" + SolverFamily.class.getName() + ")");
        }
        return name;
    }

    private static Registry registry() {
        Registry r = registry;
        if (r == null) {
            synchronized (SolverSpecTypes.class) {
                r = registry;
                if (r == null) {
                    r = load();
                    registry = r;
                }
            }
        }
        return r;
    }

    private static Registry load() {
        Map<String, Class<? extends SolverSpec>> byName = new LinkedHashMap<>();
        Map<Class<?>, String> byClass = new LinkedHashMap<>();
        ClassLoader cl = SolverSpec.class.getClassLoader();
        for (SolverFamily f : ServiceLoader.load(SolverFamily.class, cl)) {
            for (Map.Entry<String, Class<? extends SolverSpec>> e : f.specs().entrySet()) {
                Class<? extends SolverSpec> prev = byName.putIfAbsent(e.getKey(), e.getValue());
                if (prev != null && prev != e.getValue()) {
                    throw new IllegalStateException("solver name '" + e.getKey() + "' is declared by " + prev.getName()
                            + " and " + e.getValue().getName());
                }
                byClass.put(e.getValue(), e.getKey());
            }
        }
        if (byName.isEmpty()) {
            throw new IllegalStateException("no solver family found (META-INF/services/" + SolverFamily.class.getName()
                    + ")");
        }
        return new Registry(java.util.Collections.unmodifiableMap(byName), java.util.Collections.unmodifiableMap(byClass));
    }

    @Override
    public String idFromValue(Object value) {
        return nameOf(value.getClass());
    }

    @Override
    public String idFromValueAndType(Object value, Class<?> suggestedType) {
        return nameOf(value != null ? value.getClass() : suggestedType);
    }

    @Override
    public JavaType typeFromId(DatabindContext context, String id) {
        Class<? extends SolverSpec> type = registry().byName().get(id);
        // null: Jackson reports the unknown id with getDescForKnownTypeIds()
        return type == null ? null : context.constructType(type);
    }

    @Override
    public String getDescForKnownTypeIds() {
        return String.join(", ", registry().byName().keySet());
    }

    @Override
    public JsonTypeInfo.Id getMechanism() {
        return JsonTypeInfo.Id.CUSTOM;
    }
}
