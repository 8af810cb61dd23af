package io.solvertune.service.security;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The role a resource method (or every method of a resource class) needs. Every endpoint under {@code /api/} needs
 * one of {@link RequiresRole} or {@link PublicEndpoint}; {@link AuthFilter} refuses the others (fail closed).
 *
 * <p>With {@link #anonymousIfModelAllows()} an anonymous request is let through and the resource must call
 * {@link Caller#requireRead(boolean)} with the model's {@code anonymous_read} flag once it knows the model.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface RequiresRole {

    Role value();

    /** Lets anonymous requests reach the resource, which checks the model's anonymous-read flag itself. */
    boolean anonymousIfModelAllows() default false;
}
