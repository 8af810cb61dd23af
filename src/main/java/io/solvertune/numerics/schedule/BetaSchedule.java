package io.solvertune.numerics.schedule;

/** Named discrete beta schedules, computed exactly as diffusers' {@code DDPMScheduler} defines them (in double). */
public enum BetaSchedule {
    /** {@code betas = linspace(beta_start, beta_end, N)} (DDPM; defaults 1e-4 .. 0.02). */
    LINEAR("linear", 1e-4, 0.02),
    /** {@code betas = linspace(sqrt(beta_start), sqrt(beta_end), N)^2} (Stable Diffusion; 0.00085 .. 0.012). */
    SCALED_LINEAR("scaled_linear", 0.00085, 0.012),
    /** Glide / iDDPM cosine: {@code beta_i = min(1 - abar((i+1)/N)/abar(i/N), 0.999)}, abar(t)=cos²((t+0.008)/1.008·π/2). */
    SQUAREDCOS_CAP_V2("squaredcos_cap_v2", Double.NaN, Double.NaN);

    private final String id;
    private final double defaultBetaStart;
    private final double defaultBetaEnd;

    BetaSchedule(String id, double defaultBetaStart, double defaultBetaEnd) {
        this.id = id;
        this.defaultBetaStart = defaultBetaStart;
        this.defaultBetaEnd = defaultBetaEnd;
    }

    /** The diffusers name of this schedule. */
    public String id() {
        return id;
    }

    public double defaultBetaStart() {
        return defaultBetaStart;
    }

    public double defaultBetaEnd() {
        return defaultBetaEnd;
    }

    /** Parses a diffusers name ({@code linear}, {@code scaled_linear}, {@code squaredcos_cap_v2}). */
    public static BetaSchedule fromId(String id) {
        for (BetaSchedule b : values()) {
            if (b.id.equals(id)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown beta schedule '" + id
                + "' (expected linear, scaled_linear or squaredcos_cap_v2)");
    }

    /** The {@code n} betas of this schedule. Beta bounds are ignored by {@link #SQUAREDCOS_CAP_V2}. */
    public double[] betas(int n, double betaStart, double betaEnd) {
        if (n < 2) {
            throw new IllegalArgumentException("a discrete schedule needs at least 2 timesteps, got " + n);
        }
        double[] betas = new double[n];
        switch (this) {
            case LINEAR -> {
                double[] l = Linspace.of(betaStart, betaEnd, n);
                System.arraycopy(l, 0, betas, 0, n);
            }
            case SCALED_LINEAR -> {
                double[] l = Linspace.of(Math.sqrt(betaStart), Math.sqrt(betaEnd), n);
                for (int i = 0; i < n; i++) {
                    betas[i] = l[i] * l[i];
                }
            }
            case SQUAREDCOS_CAP_V2 -> {
                for (int i = 0; i < n; i++) {
                    double t1 = (double) i / n;
                    double t2 = (double) (i + 1) / n;
                    betas[i] = Math.min(1.0 - alphaBarCosine(t2) / alphaBarCosine(t1), 0.999);
                }
            }
            default -> throw new AssertionError(this);
        }
        return betas;
    }

    private static double alphaBarCosine(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2.0);
        return c * c;
    }
}
