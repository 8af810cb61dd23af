package io.solvertune.service.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListPartsRequest;
import software.amazon.awssdk.services.s3.model.ListPartsResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, GCS/R2 in S3 mode) through the AWS SDK for Java v2:
 * object {@code <prefix>sha256/ab/abcdef...}, written once, its digest also in the object's metadata
 * ({@code x-amz-meta-sha256}): a single streamed PUT up to {@code multipart-threshold}, above it a multipart upload
 * whose parts ({@code part-size}, more if a file would need over 10,000 parts) are streamed from the file, each part a
 * slice of the file re-opened for a retry, so no part is held in memory; a failed multipart upload is aborted, so it
 * leaves no parts behind (and {@link #sweepIncomplete} aborts the uploads of writers that died). Checksums are computed
 * only where the API requires them ({@code WHEN_REQUIRED}), which S3-compatible stores that predate the 2025
 * flexible-checksum default need.
 */
public final class S3BlobStore implements BlobStore, AutoCloseable {

    /** S3's smallest part (but the last) and largest part, and most parts of one upload. */
    public static final long MIN_PART = 5L << 20;
    public static final long MAX_PART = 5L << 30;
    public static final int MAX_PARTS = 10_000;
    /** Default: one PUT up to 64 MiB, parts of 16 MiB above. */
    public static final long DEFAULT_THRESHOLD = 64L << 20;
    public static final long DEFAULT_PART = 16L << 20;

    /** Where and as whom; when to upload in parts and how large they are. */
    public record Settings(Optional<URI> endpoint, String region, String bucket, String prefix, boolean pathStyle,
                           Optional<String> accessKeyId, Optional<String> secretAccessKey, long multipartThreshold,
                           long partSize) {
        public Settings(Optional<URI> endpoint, String region, String bucket, String prefix, boolean pathStyle,
                        Optional<String> accessKeyId, Optional<String> secretAccessKey) {
            this(endpoint, region, bucket, prefix, pathStyle, accessKeyId, secretAccessKey, DEFAULT_THRESHOLD,
                    DEFAULT_PART);
        }

        public Settings {
            if (partSize < MIN_PART || partSize > MAX_PART) {
                throw new IllegalArgumentException("solvertune.artifacts.s3.part-size: between 5M and 5G (S3's part "
                        + "limits), got " + partSize);
            }
            if (multipartThreshold < partSize || multipartThreshold > MAX_PART) {
                throw new IllegalArgumentException("solvertune.artifacts.s3.multipart-threshold: between part-size ("
                        + partSize + ") and 5G (S3's largest single PUT), got " + multipartThreshold);
            }
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
    private final long threshold;
    private final long partSize;

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
        this.threshold = s.multipartThreshold();
        this.partSize = s.partSize();
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
        if (Files.size(file) != size) {
            throw new IOException(file + ": " + Files.size(file) + " bytes, " + size + " expected (changed?)");
        }
        if (size > threshold) {
            putMultipart(sha256, size, file);
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

    /** The part size for {@code size} bytes: the configured one, larger if it would need more than 10,000 parts. */
    long partSizeFor(long size) {
        long min = (size + MAX_PARTS - 1) / MAX_PARTS;
        long mib = 1L << 20;
        return Math.max(partSize, (min + mib - 1) / mib * mib);
    }

    private void putMultipart(String sha256, long size, Path file) throws IOException {
        String key = objectKey(sha256);
        String uploadId;
        try {
            uploadId = s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(bucket).key(key)
                    .contentType("application/octet-stream").metadata(Map.of("sha256", sha256)).build()).uploadId();
        } catch (SdkException e) {
            throw io(e);
        }
        long part = partSizeFor(size);
        try {
            List<CompletedPart> parts = new ArrayList<>();
            for (long off = 0; off < size; off += part) {
                int number = parts.size() + 1;
                long from = off;
                long len = Math.min(part, size - off);
                String etag = s3.uploadPart(UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                                .partNumber(number).contentLength(len).build(),
                        RequestBody.fromContentProvider(() -> slice(file, from, len), len,
                                "application/octet-stream")).eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            }
            s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(bucket).key(key)
                    .uploadId(uploadId).multipartUpload(CompletedMultipartUpload.builder().parts(parts).build())
                    .build());
        } catch (SdkException e) {
            abort(key, uploadId, e);
            throw io(e);
        } catch (UncheckedIOException e) {
            abort(key, uploadId, e);
            throw e.getCause();
        } catch (RuntimeException | Error e) {
            abort(key, uploadId, e);
            throw e;
        }
    }

    private void abort(String key, String uploadId, Throwable cause) {
        try {
            s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                    .build());
        } catch (SdkException a) {
            cause.addSuppressed(a); // the sweep aborts it later
        }
    }

    /** Bytes [from, from + len) of the file, streamed; opened anew for every (re)try of a part. */
    private static InputStream slice(Path file, long from, long len) {
        try {
            FileChannel ch = FileChannel.open(file);
            ch.position(from);
            InputStream in = Channels.newInputStream(ch);
            return new InputStream() {
                private long left = len;

                @Override
                public int read() throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int b = in.read();
                    if (b >= 0) {
                        left--;
                    }
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int n) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int r = in.read(b, off, (int) Math.min(n, left));
                    if (r > 0) {
                        left -= r;
                    }
                    return r;
                }

                @Override
                public void close() throws IOException {
                    in.close();
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Aborts the multipart uploads under our prefix started at least {@code minAge} ago (their writers died). */
    @Override
    public Swept sweepIncomplete(Duration minAge) throws IOException {
        Instant cutoff = Instant.now().minus(minAge);
        Swept swept = Swept.NONE;
        try {
            String keyMarker = null;
            String idMarker = null;
            while (true) {
                ListMultipartUploadsResponse r = s3.listMultipartUploads(ListMultipartUploadsRequest.builder()
                        .bucket(bucket).prefix(prefix + "sha256/").keyMarker(keyMarker).uploadIdMarker(idMarker)
                        .build());
                for (MultipartUpload u : r.uploads()) {
                    if (u.initiated() == null || !u.initiated().isBefore(cutoff)) {
                        continue;
                    }
                    long bytes = 0;
                    ListPartsResponse parts = s3.listParts(ListPartsRequest.builder().bucket(bucket).key(u.key())
                            .uploadId(u.uploadId()).build());
                    for (Part p : parts.parts()) {
                        bytes += p.size() == null ? 0 : p.size();
                    }
                    s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(u.key())
                            .uploadId(u.uploadId()).build());
                    swept = swept.plus(new Swept(1, bytes));
                }
                if (!Boolean.TRUE.equals(r.isTruncated())) {
                    return swept;
                }
                keyMarker = r.nextKeyMarker();
                idMarker = r.nextUploadIdMarker();
            }
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
