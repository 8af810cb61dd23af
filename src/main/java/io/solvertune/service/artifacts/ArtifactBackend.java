package io.solvertune.service.artifacts;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Chooses the shared artifact store's backend from {@code solvertune.artifacts.*} and produces the
 * {@link SharedArtifacts} bean.
 */
@Singleton
public class ArtifactBackend {

    private static final Logger LOG = Logger.getLogger(ArtifactBackend.class);

    /** Backends. */
    public enum Kind { POSTGRESQL, S3 }

    /** {@code solvertune.artifacts.*}. */
    @ConfigMapping(prefix = "solvertune.artifacts")
    public interface Config {
        /** postgresql (default: nothing else to install) or s3. */
        @WithDefault("postgresql")
        Kind backend();

        /** The local cache of blobs (any host-local directory). */
        Path cacheDir();

        Pg postgresql();

        S3 s3();

        Checkpoints checkpoints();

        Sweep sweep();

        /** Checkpoints of running stages in the store, so that a stage resumes on another host (migration V10). */
        interface Checkpoints {
            /** Upload them (with {@code solvertune.artifacts.sync}). */
            @WithDefault("true")
            boolean upload();

            /**
             * At most one upload per running stage per interval, at a checkpoint (a progress report or a
             * {@code checkpointCommitted()}) whose files changed; 0: at every such checkpoint.
             */
            @WithDefault("60s")
            Duration interval();
        }

        /** The periodic sweep of garbage blobs (one worker in the fleet per interval). */
        interface Sweep {
            @WithDefault("true")
            boolean enabled();

            /** How often the fleet sweeps. */
            @WithDefault("1h")
            Duration interval();

            /**
             * Nothing younger is swept: an abandoned upload is one idle this long, an unreferenced blob one nobody
             * stored or found stored this long. Longer than any single upload and any stage's store-then-record gap.
             */
            @WithDefault("6h")
            Duration minAge();
        }

        /** The PostgreSQL backend. */
        interface Pg {
            /** Bytes per row of blob_chunks. */
            @WithDefault("1M")
            MemorySize chunkSize();
        }

        /** The S3-compatible backend. */
        interface S3 {
            /** e.g. http://minio:9000; absent: AWS S3 of the region. */
            Optional<URI> endpoint();

            @WithDefault("us-east-1")
            String region();

            Optional<String> bucket();

            /** Key prefix inside the bucket, e.g. "solvertune/". */
            @WithDefault("")
            Optional<String> prefix();

            /** Path-style URLs (http://host/bucket/key): MinIO and most S3-compatible stores want them. */
            @WithDefault("true")
            boolean pathStyle();

            /** Static credentials; absent: the SDK's default chain (AWS_* env, profile, web identity/IRSA). */
            Optional<String> accessKeyId();

            Optional<String> secretAccessKey();

            /** Larger blobs go up as multipart uploads (at most 5G: S3's largest single PUT). */
            @WithDefault("64M")
            MemorySize multipartThreshold();

            /** Part size of multipart uploads (5M to 5G; larger when a blob would need over 10,000 parts). */
            @WithDefault("16M")
            MemorySize partSize();
        }
    }

    @Produces
    @Singleton
    SharedArtifacts shared(Config config, AgroalDataSource ds) {
        BlobStore store = switch (config.backend()) {
            case POSTGRESQL -> new PgBlobStore(ds, (int) Math.min(Integer.MAX_VALUE,
                    config.postgresql().chunkSize().asLongValue()));
            case S3 -> new S3BlobStore(new S3BlobStore.Settings(config.s3().endpoint(), config.s3().region(),
                    config.s3().bucket().orElse(null), config.s3().prefix().orElse(""), config.s3().pathStyle(),
                    config.s3().accessKeyId(), config.s3().secretAccessKey(),
                    config.s3().multipartThreshold().asLongValue(), config.s3().partSize().asLongValue()));
        };
        LOG.infof("shared artifact store: %s, local cache %s", store.name(), config.cacheDir());
        return new SharedArtifacts(store, config.cacheDir());
    }
}
