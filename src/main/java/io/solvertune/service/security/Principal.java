package io.solvertune.service.security;

/** The holder of a valid token: its id, name and role. */
public record Principal(long tokenId, String name, Role role) {

    public boolean has(Role required) {
        return role.includes(required);
    }
}
