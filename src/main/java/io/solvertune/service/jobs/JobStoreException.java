package io.solvertune.service.jobs;

/** A database operation of the job engine failed (connection lost, server restarting, ...); workers retry later. */
public class JobStoreException extends RuntimeException {

    public JobStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
