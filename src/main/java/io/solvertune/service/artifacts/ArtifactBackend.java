package io.solvertune.service.artifacts;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.URI;
import java.nio.file.Path;
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
                    config.s3().accessKeyId(), config.s3().secretAccessKey()));
        };
        LOG.infof("shared artifact store: %s, local cache %s", store.name(), config.cacheDir());
        return new SharedArtifacts(store, config.cacheDir());
    }
}
