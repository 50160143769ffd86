package org.backstopmx.app.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import org.backstopmx.core.config.AdminConfig;

/**
 * The bearer token of the admin API: {@code admin.token}, else the first line of {@code admin.token-file}, else a
 * random token that the appliance writes to {@code admin.token} in the queue directory (mode 0600) at its first start,
 * so that the CLI, run by the same user on the same host with the same configuration, finds it without further
 * setup, like Postfix's commands rely on the queue directory's permissions.
 */
public final class AdminToken {
    /** The generated token's file, in the queue directory. */
    public static final String GENERATED = "admin.token";

    private AdminToken() {
    }

    /** The appliance's token; generates and stores one when none is configured. */
    public static String forServer(AdminConfig admin, Path queueDir) throws IOException {
        Optional<String> configured = configured(admin);
        if (configured.isPresent()) {
            return configured.get();
        }
        Path file = queueDir.resolve(GENERATED);
        if (Files.exists(file)) {
            return read(file);
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Path tmp = queueDir.resolve(GENERATED + ".new");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
        try {
            Files.move(tmp, file); // not replacing: two first starts cannot both win
        } catch (FileAlreadyExistsException e) {
            Files.delete(tmp);
            return read(file);
        }
        return token;
    }

    /** The CLI's token: as the appliance finds it, without generating one; empty when there is none yet. */
    public static Optional<String> forClient(AdminConfig admin, Path queueDir) throws IOException {
        Optional<String> configured = configured(admin);
        if (configured.isPresent()) {
            return configured;
        }
        Path file = queueDir.resolve(GENERATED);
        return Files.isReadable(file) ? Optional.of(read(file)) : Optional.empty();
    }

    private static Optional<String> configured(AdminConfig admin) throws IOException {
        if (admin.token() != null) {
            return Optional.of(admin.token());
        }
        if (admin.tokenFile() != null) {
            return Optional.of(read(admin.tokenFile()));
        }
        return Optional.empty();
    }

    private static String read(Path file) throws IOException {
        String token = Files.readAllLines(file, StandardCharsets.UTF_8).stream().findFirst().orElse("").trim();
        if (token.isEmpty()) {
            throw new IOException(file + " holds no token");
        }
        return token;
    }
}
