package org.backstopmx.core.config;

import java.nio.file.Path;

/**
 * {@code admin.listen} (default 127.0.0.1:9466), {@code admin.token} or {@code admin.token-file}: the admin HTTP API and
 * the bearer token that guards it.
 */
public record AdminConfig(HostPort listen, String token, Path tokenFile) {
    public static AdminConfig defaults() {
        return new AdminConfig(new HostPort("127.0.0.1", 9466), null, null);
    }
}
