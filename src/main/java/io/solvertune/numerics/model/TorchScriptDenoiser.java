package io.solvertune.numerics.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A user model: a TorchScript module {@code forward(x, t) -> prediction} or {@code forward(x, t, class) ->
 * prediction} with a declared schedule, prediction type, sample shape, class count and time-input convention, run
 * through DJL's PyTorch engine in inference mode (libtorch {@code InferenceMode}: no autograd).
 *
 * <p><b>Call convention.</b> {@code x} is {@code [B, inputShape...]} in the declared data type, {@code t} is a
 * {@code [B]} tensor of the same data type holding the model time ({@link TimeInput}) in every row, {@code class}
 * is int64 {@code [B]} with unconditional rows ({@link Denoiser#UNCONDITIONAL}) replaced by the declared
 * {@code nullClass}. Inputs are moved to the model's device and converted to its data type when needed; the output
 * is copied back to {@code x}'s device, data type and manager (always a fresh array: libtorch returns
 * <em>inference tensors</em>, which cannot be updated in place outside inference mode, and a module may return an
 * alias of its input).
 *
 * <p><b>Validation.</b> {@link #load} rejects, with an {@link IllegalArgumentException} naming the problem, files
 * that are not loadable TorchScript, a {@code forward} whose signature does not fit the declared arity (read from
 * libtorch's schema, see {@link TorchScriptSignature}), and modules whose test forward pass (batch of
 * {@value #VALIDATION_BATCH} at the declared shape, at {@code tMax} and at the default end time, a class row and an
 * unconditional row for conditional models) fails, returns a non-tensor, another shape, NaN/infinity, or modifies
 * its input in place.
 *
 * <p><b>Threads.</b> {@link #predict} is safe to call from several threads at once, without a lock: it keeps no
 * mutable state, calls the module through DJL's stateless {@code IValueUtils.runMethod} (not
 * {@code PtSymbolBlock.forward(NDList)}, whose lazy shape bookkeeping and train/inference flag are unsynchronised
 * Java fields), and libtorch runs concurrent inference calls on one {@code torch::jit::Module} safely as long as the
 * module does not write its own attributes in {@code forward} (pytorch/pytorch#51452) — modules that do are not
 * supported. Each caller must pass arrays of its own manager.
 */
public final class TorchScriptDenoiser implements Denoiser {

    /** Batch size of the test forward passes run when a model is loaded. */
    public static final int VALIDATION_BATCH = 2;

    private static final Pattern SCHEMA_ERROR = Pattern.compile(
            "Expected at most \\d+ argument|is missing value for argument|Expected a value of type");
    private static final Pattern ERROR_LINE = Pattern.compile("(?m)^(?:\\w+\\.)*\\w*(?:Error|Exception): .+$");

    /** What time value the network receives for continuous time {@code t}. */
    public enum TimeInput {
        /** {@link NoiseSchedule#modelInputTime}: the DDPM training index {@code N' t - 1} of a discrete VP schedule. */
        DDPM_INDEX("ddpm_index"),
        /** The continuous time {@code t} itself. */
        CONTINUOUS("continuous"),
        /** The EDM noise level {@code sigma(t) / alpha(t)}. */
        SIGMA("sigma"),
        /** {@code 1000 t} (flow-matching / rectified-flow nets trained on a [0, 1000] time axis). */
        SCALED_1000("scaled_1000");

        private final String id;

        TimeInput(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        /** Parses {@code ddpm_index}, {@code continuous}, {@code sigma} or {@code scaled_1000}. */
        public static TimeInput parse(String s) {
            String k = s.toLowerCase(Locale.ROOT);
            for (TimeInput ti : values()) {
                if (ti.id.equals(k)) {
                    return ti;
                }
            }
            throw new IllegalArgumentException("unknown time input '" + s
                    + "' (expected ddpm_index, continuous, sigma or scaled_1000)");
        }

        /** The model time for continuous time {@code t} of {@code s}. */
        public double modelTime(NoiseSchedule s, double t) {
            return switch (this) {
                case DDPM_INDEX -> s.modelInputTime(t);
                case CONTINUOUS -> t;
                case SIGMA -> s.sigma(t) / s.alpha(t);
                case SCALED_1000 -> 1000.0 * t;
            };
        }
    }

    /**
     * What a user declares about a TorchScript model.
     *
     * @param file           the TorchScript file ({@code torch.jit.save})
     * @param inputShape     shape of one sample, e.g. {@code [1, 28, 28]}
     * @param predictionType what {@code forward} returns
     * @param numClasses     number of classes (0 = unconditional: called as {@code forward(x, t)})
     * @param nullClass      the label the module takes for unconditional rows (ignored without classes); must not
     *                       be one of the classes {@code 0..numClasses-1}
     * @param timeInput      the time convention of the network
     * @param dtype          data type of the module's inputs (float32, or float64 if the module supports it)
     * @param device         where the module runs; {@code null} = a GPU if DJL reports one, else the CPU
     */
    public record Config(Path file, long[] inputShape, PredictionType predictionType, int numClasses, long nullClass,
                         TimeInput timeInput, DataType dtype, Device device) {
        public Config {
            if (file == null) {
                throw new IllegalArgumentException("torchscript: file is required");
            }
            if (inputShape == null || inputShape.length == 0) {
                throw new IllegalArgumentException("torchscript: inputShape is required, e.g. [1, 28, 28]");
            }
            for (long d : inputShape) {
                if (d < 1) {
                    throw new IllegalArgumentException("torchscript: inputShape must have positive dimensions, got "
                            + Arrays.toString(inputShape));
                }
            }
            inputShape = inputShape.clone();
            if (predictionType == null) {
                throw new IllegalArgumentException("torchscript: predictionType is required");
            }
            if (timeInput == null) {
                throw new IllegalArgumentException("torchscript: timeInput is required");
            }
            if (numClasses < 0) {
                throw new IllegalArgumentException("torchscript: numClasses must be >= 0, got " + numClasses);
            }
            if (numClasses > 0 && nullClass >= 0 && nullClass < numClasses) {
                throw new IllegalArgumentException("torchscript: nullClass " + nullClass + " is one of the classes 0.."
                        + (numClasses - 1) + "; the unconditional label must differ from every class (usually "
                        + numClasses + ")");
            }
            if (dtype == null) {
                dtype = DataType.FLOAT32;
            }
            if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT64) {
                throw new IllegalArgumentException("torchscript: dtype must be float32 or float64, got " + dtype);
            }
        }

        /** An unconditional float32 model on the default device. */
        public static Config of(Path file, long[] inputShape, PredictionType predictionType, TimeInput timeInput) {
            return new Config(file, inputShape, predictionType, 0, 0, timeInput, DataType.FLOAT32, null);
        }

        /** This config with {@code numClasses} classes and unconditional label {@code nullClass}. */
        public Config withClasses(int numClasses, long nullClass) {
            return new Config(file, inputShape, predictionType, numClasses, nullClass, timeInput, dtype, device);
        }

        public Config withDtype(DataType dtype) {
            return new Config(file, inputShape, predictionType, numClasses, nullClass, timeInput, dtype, device);
        }

        public Config withDevice(Device device) {
            return new Config(file, inputShape, predictionType, numClasses, nullClass, timeInput, dtype, device);
        }

        @Override
        public long[] inputShape() {
            return inputShape.clone();
        }
    }

    private final NoiseSchedule schedule;
    private final Config config;
    private final Model model;
    private final PtSymbolBlock block;
    private final Device device;
    private final String sha256;
    private final long fileSize;
    private final OptionalLong parameterCount;
    private final TorchScriptSignature signature;

    private TorchScriptDenoiser(NoiseSchedule schedule, Config config, Model model, Device device, String sha256,
                                long fileSize, TorchScriptSignature signature) {
        this.schedule = schedule;
        this.config = config;
        this.model = model;
        this.block = (PtSymbolBlock) model.getBlock();
        this.device = device;
        this.sha256 = sha256;
        this.fileSize = fileSize;
        this.signature = signature;
        this.parameterCount = countParameters(block);
    }

    /**
     * Loads and validates a TorchScript model (see the class comment).
     *
     * @throws IllegalArgumentException if the file is missing or not TorchScript, or the module does not fit the
     *                                  declaration; the message names the problem
     * @throws IOException              if the file cannot be read
     */
    public static TorchScriptDenoiser load(NoiseSchedule schedule, Config config) throws IOException {
        if (schedule == null) {
            throw new IllegalArgumentException("torchscript: a schedule is required");
        }
        if (config.timeInput() == TimeInput.DDPM_INDEX && !(schedule instanceof VpDiscreteSchedule)) {
            throw new IllegalArgumentException("torchscript: timeInput ddpm_index needs a vp_discrete schedule, got "
                    + schedule.spec().getClass().getSimpleName()
                    + " (use continuous, sigma or scaled_1000 for continuous-time models)");
        }
        Path file = config.file();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("torchscript: cannot load " + file + ": no such file");
        }
        long size = Files.size(file);
        String sha = sha256(file);
        Device dev = config.device() != null ? config.device() : defaultDevice();
        Model model = Model.newInstance("torchscript-" + sha.substring(0, 12), dev, "PyTorch");
        try {
            try {
                // mapLocation: tensors saved on another device (e.g. CUDA) are loaded straight onto ours
                model.load(file, null, Map.of("mapLocation", "true"));
            } catch (IOException | MalformedModelException | RuntimeException e) {
                throw notTorchScript(file, e);
            }
            if (!(model.getBlock() instanceof PtSymbolBlock b)) {
                throw new IllegalArgumentException("torchscript: " + file.getFileName()
                        + " did not load as a TorchScript module");
            }
            List<String> methods = Arrays.asList(JniUtils.getMethodNames(b));
            if (!methods.contains("forward")) {
                throw new IllegalArgumentException("torchscript: the module has no forward method (methods: "
                        + methods + ")");
            }
            TorchScriptSignature sig = probeSignature(b).orElse(null);
            if (sig != null) {
                sig.check(config.numClasses());
            }
            TorchScriptDenoiser d = new TorchScriptDenoiser(schedule, config, model, dev, sha, size, sig);
            d.validate();
            return d;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** A GPU if DJL's PyTorch engine reports one, else the CPU. */
    public static Device defaultDevice() {
        return Engine.getEngine("PyTorch").getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    }

    /**
     * Parses a device name: {@code cpu}, {@code gpu} (GPU 0), {@code gpu:N}, or {@code auto}/{@code null}
     * ({@code null} result: {@link #defaultDevice()} at load time).
     */
    public static Device parseDevice(String s) {
        if (s == null) {
            return null;
        }
        String k = s.trim().toLowerCase(Locale.ROOT);
        if (k.equals("auto")) {
            return null;
        }
        if (k.equals("cpu")) {
            return Device.cpu();
        }
        Matcher m = Pattern.compile("gpu(?::?(\\d+))?").matcher(k);
        if (m.matches()) {
            int id = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
            int gpus = Engine.getEngine("PyTorch").getGpuCount();
            if (id >= gpus) {
                throw new IllegalArgumentException("device: " + s + " requested but DJL reports "
                        + (gpus == 0 ? "no GPU" : gpus + " GPU(s)"));
            }
            return Device.gpu(id);
        }
        throw new IllegalArgumentException("device: expected cpu, gpu, gpu:N or auto, got '" + s + "'");
    }

    public Config config() {
        return config;
    }

    /** The device the module runs on. */
    public Device device() {
        return device;
    }

    /** SHA-256 of the file, lower-case hex. */
    public String sha256() {
        return sha256;
    }

    /** File size in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Number of parameter values ({@code sum numel} over {@code module.parameters()}), if DJL could list them. */
    public OptionalLong parameterCount() {
        return parameterCount;
    }

    /** libtorch's schema of {@code forward}, if it could be read. */
    public Optional<TorchScriptSignature> signature() {
        return Optional.ofNullable(signature);
    }

    /** The time value the network receives at continuous time {@code t}. */
    public double modelTime(double t) {
        return config.timeInput().modelTime(schedule, t);
    }

    @Override
    public PredictionType predictionType() {
        return config.predictionType();
    }

    @Override
    public NoiseSchedule schedule() {
        return schedule;
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public long[] sampleShape() {
        return config.inputShape();
    }

    @Override
    public NDArray predict(NDArray x, double t, NDArray labels) {
        Shape shape = x.getShape();
        long[] expected = config.inputShape();
        if (shape.dimension() != expected.length + 1
                || !Arrays.equals(shape.slice(1).getShape(), expected)) {
            throw new IllegalArgumentException("torchscript: expected x of shape [B, "
                    + Arrays.toString(expected).substring(1) + ", got " + Arrays.toString(shape.getShape()));
        }
        long b = shape.get(0);
        long[] mapped = mapLabels(labels, b);
        NDManager caller = x.getManager();
        try (NDManager scope = caller.newSubManager(device)) {
            NDArray raw = forward(scope, x, modelTime(t), mapped);
            if (!raw.getShape().equals(shape)) {
                throw new IllegalStateException(shapeMessage(raw.getShape(), shape) + " at t = " + t);
            }
            NDArray out = raw;
            if (!out.getDevice().equals(x.getDevice())) {
                out = out.toDevice(x.getDevice(), true);
            }
            if (out.getDataType() != x.getDataType()) {
                out = out.toType(x.getDataType(), true);      // a different type: a real copy
            }
            if (out == raw) {
                out = raw.duplicate();                         // never hand out the inference tensor itself
            }
            out.attach(caller);
            return out;
        }
    }

    /** Unconditional rows -> nullClass; checks the labels. {@code null} for an unconditional model. */
    private long[] mapLabels(NDArray labels, long b) {
        long[] lab = null;
        if (labels != null) {
            if (labels.getShape().dimension() != 1 || labels.getShape().get(0) != b) {
                throw new IllegalArgumentException("torchscript: labels must have shape [" + b + "], got "
                        + Arrays.toString(labels.getShape().getShape()));
            }
            if (labels.getDataType() == DataType.INT64) {
                lab = labels.toLongArray();
            } else {
                try (NDArray l = labels.toType(DataType.INT64, true)) {
                    lab = l.toLongArray();
                }
            }
        }
        int k = config.numClasses();
        if (k == 0) {
            if (lab != null) {
                for (long l : lab) {
                    if (l != UNCONDITIONAL) {
                        throw new IllegalArgumentException("torchscript: the model is unconditional but got class label "
                                + l);
                    }
                }
            }
            return null;
        }
        long[] out = new long[(int) b];
        for (int i = 0; i < b; i++) {
            long l = lab == null ? UNCONDITIONAL : lab[i];
            if (l == UNCONDITIONAL) {
                out[i] = config.nullClass();
            } else if (l >= 0 && l < k) {
                out[i] = l;
            } else {
                throw new IllegalArgumentException("torchscript: class label " + l + " is out of range (the model has "
                        + k + " classes; " + UNCONDITIONAL + " = unconditional)");
            }
        }
        return out;
    }

    /**
     * One call of the module: {@code x} (moved/converted into {@code scope} if needed), {@code t} broadcast to
     * {@code [B]}, the mapped labels if any. Returns the raw output, attached to {@code scope}.
     */
    private NDArray forward(NDManager scope, NDArray x, double modelTime, long[] labels) {
        NDArray xin = x;
        if (!xin.getDevice().equals(device)) {
            // DJL attaches a cross-device copy to a new sub-manager of the source's manager on the target device;
            // lending x to the scope (which is on the model device) keeps that copy, and any such manager, in scope
            x.tempAttach(scope);
            xin = x.toDevice(device, true);
            xin.attach(scope);
        }
        if (xin.getDataType() != config.dtype()) {
            xin = xin.toType(config.dtype(), true);
            xin.attach(scope);
        }
        int b = (int) x.getShape().get(0);
        double[] tv = new double[b];
        Arrays.fill(tv, modelTime);
        NDArray tin = Nd.create(scope, tv, new Shape(b), config.dtype());
        NDArray yin = labels == null ? null : scope.create(labels);
        IValue[] in = new IValue[yin == null ? 2 : 3];
        try {
            in[0] = IValue.from((PtNDArray) xin);
            in[1] = IValue.from((PtNDArray) tin);
            if (yin != null) {
                in[2] = IValue.from((PtNDArray) yin);
            }
            try (IValue res = IValueUtils.runMethod(block, "forward", in)) {
                if (!res.isTensor()) {
                    throw new IllegalArgumentException("torchscript: forward must return one Tensor of the input's"
                            + " shape, but returned " + res.getType());
                }
                return res.toTensor((PtNDManager) scope);
            }
        } finally {
            for (IValue v : in) {
                if (v != null) {
                    v.close();
                }
            }
        }
    }

    /** The test forward passes run by {@link #load}. */
    private void validate() {
        int k = config.numClasses();
        long[] labels = k > 0 ? new long[] {0, config.nullClass()} : null;
        String call = TorchScriptSignature.expectedCall(k);
        long[] shape = new long[config.inputShape().length + 1];
        shape[0] = VALIDATION_BATCH;
        System.arraycopy(config.inputShape(), 0, shape, 1, shape.length - 1);
        Shape xs = new Shape(shape);
        Random r = new Random(20240607L);
        double[] noise = new double[(int) xs.size()];
        for (double tt : new double[] {schedule.tMax(), schedule.defaultTEnd()}) {
            double tm = modelTime(tt);
            double scale = Math.hypot(schedule.alpha(tt), schedule.sigma(tt));
            for (int i = 0; i < noise.length; i++) {
                noise[i] = scale * r.nextGaussian();
            }
            String where = call + " with x " + Arrays.toString(shape) + " " + config.dtype().name().toLowerCase(Locale.ROOT)
                    + ", t = " + fmt(tm) + (labels == null ? "" : ", class = " + Arrays.toString(labels))
                    + " (continuous t = " + fmt(tt) + ")";
            try (NDManager scope = model.getNDManager().newSubManager(device)) {
                NDArray x = Nd.create(scope, noise, xs, config.dtype());
                NDArray before = x.duplicate();
                NDArray out;
                try {
                    out = forward(scope, x, tm, labels);
                } catch (IllegalArgumentException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw callFailed(e, where);
                }
                if (!out.getShape().equals(xs)) {
                    throw new IllegalArgumentException(shapeMessage(out.getShape(), xs) + ", for " + where);
                }
                try (NDArray nan = out.isNaN(); NDArray inf = out.isInfinite(); NDArray bad = nan.logicalOr(inf);
                     NDArray any = bad.any()) {
                    if (any.getBoolean()) {
                        throw new IllegalArgumentException("torchscript: the output contains NaN or infinite values for "
                                + where);
                    }
                }
                if (!x.contentEquals(before)) {
                    throw new IllegalArgumentException("torchscript: forward modifies its input x in place (" + where
                            + "); it must leave x unchanged");
                }
            }
        }
    }

    private IllegalArgumentException callFailed(RuntimeException e, String where) {
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        if (SCHEMA_ERROR.matcher(msg).find()) {
            Optional<TorchScriptSignature> sig = TorchScriptSignature.fromError(msg);
            if (sig.isPresent()) {
                sig.get().check(config.numClasses()); // throws the specific message
            }
            String first = msg.lines().findFirst().orElse(msg);
            return new IllegalArgumentException("torchscript: wrong signature: expected "
                    + TorchScriptSignature.expectedCall(config.numClasses()) + ", but libtorch rejected the call: "
                    + first, e);
        }
        String hint = config.dtype() == DataType.FLOAT64
                ? " (does the module support float64 inputs? declare dtype float32 otherwise)" : "";
        return new IllegalArgumentException("torchscript: " + where + " failed: " + summary(msg) + hint, e);
    }

    /** The last {@code SomethingError: ...} line of a libtorch message (its TorchScript traceback is long). */
    static String summary(String msg) {
        Matcher m = ERROR_LINE.matcher(msg);
        String last = null;
        while (m.find()) {
            last = m.group().trim();
        }
        String s = last != null ? last : msg.lines().filter(l -> !l.isBlank()).findFirst().orElse(msg).trim();
        return s.length() > 500 ? s.substring(0, 500) + "..." : s;
    }

    private static String shapeMessage(Shape got, Shape expected) {
        return "torchscript: the output shape " + Arrays.toString(got.getShape()) + " differs from the input shape "
                + Arrays.toString(expected.getShape()) + " (forward must return a prediction of x's shape)";
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) + ".0" : String.valueOf(v);
    }

    /** The schema from libtorch's error for {@code forward()} with no arguments (nothing runs). */
    private static Optional<TorchScriptSignature> probeSignature(PtSymbolBlock block) {
        try (IValue res = IValueUtils.runMethod(block, "forward")) {
            return Optional.empty(); // forward() takes no required arguments: the test calls will tell
        } catch (RuntimeException e) {
            return TorchScriptSignature.fromError(e.getMessage());
        }
    }

    private static IllegalArgumentException notTorchScript(Path file, Exception e) {
        String name = file.getFileName().toString();
        String why = diagnose(file);
        String libtorch = e.getMessage() == null ? e.toString() : summary(e.getMessage());
        return new IllegalArgumentException("torchscript: " + name + " is not a loadable TorchScript module: " + why
                + " (libtorch: " + libtorch + ")", e);
    }

    /** Why a file that libtorch refused is not TorchScript, from its bytes. */
    private static String diagnose(Path file) {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 4);
        } catch (IOException e) {
            return "it cannot be read (" + e.getMessage() + ")";
        }
        if (n == 0) {
            return "the file is empty";
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return "it is a legacy torch.save() pickle, not TorchScript; export the model with torch.jit.script(model)"
                    + " or torch.jit.trace(model, example_inputs) and torch.jit.save";
        }
        if (n < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
            return "it is not a zip archive (torch.jit.save writes one)";
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            boolean code = false;
            boolean data = false;
            for (java.util.Enumeration<? extends ZipEntry> es = zip.entries(); es.hasMoreElements(); ) {
                String p = es.nextElement().getName();
                code |= p.contains("/code/") || p.startsWith("code/");
                data |= p.endsWith("data.pkl");
            }
            if (!code && data) {
                return "it is a torch.save() checkpoint (a state_dict or pickled nn.Module), not TorchScript; export"
                        + " the model with torch.jit.script(model) or torch.jit.trace(model, example_inputs) and"
                        + " torch.jit.save";
            }
            if (!code) {
                return "it is a zip archive without TorchScript code";
            }
            return "libtorch 2.7.1 cannot read it (written by an incompatible torch version, or damaged?)";
        } catch (IOException e) {
            return "it is a damaged zip archive (" + e.getMessage() + ")";
        }
    }

    private static OptionalLong countParameters(PtSymbolBlock block) {
        try {
            long total = 0;
            for (Pair<String, Parameter> p : block.getParameters()) {
                NDArray a = p.getValue().getArray();
                total += a.getShape().size();
            }
            return OptionalLong.of(total);
        } catch (RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return "TorchScript(" + config.file().getFileName() + ", " + Arrays.toString(config.inputShape()) + ", "
                + config.predictionType().id() + ", classes=" + config.numClasses() + ", time="
                + config.timeInput().id() + ", " + config.dtype() + ", " + device + ")";
    }
}
