package io.solvertune.numerics.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.EnumMap;
import java.util.Map;

/** A model constant kept once per data type (float64 master copy, float32 view made on first use). */
final class DtypeCache implements AutoCloseable {
    private final Map<DataType, NDArray> byType = new EnumMap<>(DataType.class);

    DtypeCache(NDArray master) {
        byType.put(master.getDataType(), master);
    }

    synchronized NDArray get(DataType type) {
        NDArray a = byType.get(type);
        if (a == null) {
            NDArray master = byType.values().iterator().next();
            a = master.toType(type, true);
            byType.put(type, a);
        }
        return a;
    }

    static DtypeCache of(NDManager m, double[] data, long... shape) {
        return new DtypeCache(m.create(data, new ai.djl.ndarray.types.Shape(shape)));
    }

    @Override
    public synchronized void close() {
        byType.values().forEach(NDArray::close);
        byType.clear();
    }
}
