package io.solvertune.service.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, GCS/R2 in S3 mode) through the AWS SDK for Java v2:
 * object {@code <prefix>sha256/ab/abcdef...}, written once with a single streamed PUT (up to S3's 5 GiB per PUT), its
 * digest also in the object's metadata ({@code x-amz-meta-sha256}). Checksums are computed only where the API requires
 * them ({@code WHEN_REQUIRED}), which S3-compatible stores that predate the 2025 flexible-checksum default need.
 */
public final class S3BlobStore implements BlobStore, AutoCloseable {

    /** Where and as whom. */
    public record Settings(Optional<URI> endpoint, String region, String bucket, String prefix, boolean pathStyle,
                           Optional<String> accessKeyId, Optional<String> secretAccessKey) {
        public Settings {
            if (bucket == null || bucket.isBlank()) {
                throw new IllegalArgumentException("solvertune.artifacts.s3.bucket: required with backend s3");
            }
            if (accessKeyId.isPresent() != secretAccessKey.isPresent()) {
                throw new IllegalArgumentException("solvertune.artifacts.s3.access-key-id and secret-access-key: "
                        + "give both or neither (neither: the SDK's default chain, e.g. AWS_* env, IRSA)");
            }
            prefix = prefix == null ? "" : prefix;
        }
    }

    private final S3Client s3;
    private final String bucket;
    private final String prefix;

    public S3BlobStore(Settings s) {
        AwsCredentialsProvider creds = s.accessKeyId().isPresent()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(s.accessKeyId().get(),
                s.secretAccessKey().get()))
                : DefaultCredentialsProvider.builder().build();
        var b = S3Client.builder().region(Region.of(s.region())).credentialsProvider(creds)
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .forcePathStyle(s.pathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        s.endpoint().ifPresent(b::endpointOverride);
        this.s3 = b.build();
        this.bucket = s.bucket();
        this.prefix = s.prefix();
    }

    @Override
    public String name() {
        return "s3";
    }

    /** The object key of a blob. */
    public String objectKey(String sha256) {
        return prefix + Blobs.key(sha256);
    }

    @Override
    public boolean exists(String sha256) throws IOException {
        try {
            s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(objectKey(sha256)).build());
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw io(e);
        } catch (SdkException e) {
            throw io(e);
        }
    }

    @Override
    public void put(String sha256, long size, Path file) throws IOException {
        if (exists(sha256)) {
            return;
        }
        try {
            s3.putObject(PutObjectRequest.builder().bucket(bucket).key(objectKey(sha256)).contentLength(size)
                    .contentType("application/octet-stream").metadata(Map.of("sha256", sha256)).build(),
                    RequestBody.fromFile(file));
        } catch (SdkException e) {
            throw io(e);
        }
    }

    @Override
    public InputStream open(String sha256) throws IOException {
        try {
            return s3.getObject(GetObjectRequest.builder().bucket(bucket).key(objectKey(sha256)).build());
        } catch (NoSuchKeyException e) {
            throw new NoSuchFileException("blob " + sha256 + " (s3://" + bucket + "/" + objectKey(sha256) + ")");
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw new NoSuchFileException("blob " + sha256 + " (s3://" + bucket + "/" + objectKey(sha256) + ")");
            }
            throw io(e);
        } catch (SdkException e) {
            throw io(e);
        }
    }

    private IOException io(SdkException e) {
        return new IOException("artifact store (s3://" + bucket + "): " + e.getMessage(), e);
    }

    @Override
    public void close() {
        s3.close();
    }
}
