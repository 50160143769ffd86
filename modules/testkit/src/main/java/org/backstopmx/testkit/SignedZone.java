package org.backstopmx.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A DNSSEC-signed zone for tests, made with ldnsutils: a key-signing and a zone-signing key from
 * {@code ldns-keygen} (ECDSA P-256), signatures from {@code ldns-signzone} (NSEC, valid from now for four weeks),
 * and the key-signing key's DS record as the trust anchor a validating client starts from. Serve {@link #file()}
 * with {@link Nsd}.
 */
public final class SignedZone {
    private final String origin;
    private final Path file;
    private final String trustAnchor;

    private SignedZone(String origin, Path file, String trustAnchor) {
        this.origin = origin;
        this.file = file;
        this.trustAnchor = trustAnchor;
    }

    /** Whether {@code ldns-keygen} and {@code ldns-signzone} are on this machine (Debian package {@code ldnsutils}). */
    public static boolean toolsInstalled() {
        return LoopbackDns.executable("ldns-keygen").isPresent() && LoopbackDns.executable("ldns-signzone").isPresent();
    }

    /**
     * Writes the zone {@code origin} into {@code dir} with an SOA, an NS at {@code ns.<origin>} (127.0.0.1) and
     * {@code records} (zone-file lines, names relative to the origin), unsigned.
     */
    public static Path unsigned(Path dir, String origin, String... records) {
        Path zone = dir.resolve(origin + ".zone");
        StringBuilder z = new StringBuilder("$ORIGIN " + origin + ".\n$TTL 300\n")
                .append("@ IN SOA ns hostmaster 1 3600 600 86400 300\n@ IN NS ns\nns IN A 127.0.0.1\n");
        for (String r : records) {
            z.append(r).append('\n');
        }
        try {
            Files.writeString(zone, z, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + zone, e);
        }
        return zone;
    }

    /** The zone as {@link #unsigned}, signed. */
    public static SignedZone sign(Path dir, String origin, String... records) {
        Path zone = unsigned(dir, origin, records);
        String ksk = run(dir, "ldns-keygen", "-a", "ECDSAP256SHA256", "-k", origin).strip();
        String zsk = run(dir, "ldns-keygen", "-a", "ECDSAP256SHA256", origin).strip();
        Path signed = dir.resolve(origin + ".zone.signed");
        run(dir, "ldns-signzone", "-f", signed.toString(), zone.toString(), ksk, zsk);
        try {
            String ds = Files.readString(dir.resolve(ksk + ".ds"), StandardCharsets.US_ASCII).strip();
            return new SignedZone(origin, signed, ds);
        } catch (IOException e) {
            throw new IllegalStateException("no DS record from ldns-keygen for " + origin, e);
        }
    }

    /** The signed zone file. */
    public Path file() {
        return file;
    }

    public String origin() {
        return origin;
    }

    /** The DS record of the key-signing key, in zone-file form: the trust anchor of this zone. */
    public String trustAnchor() {
        return trustAnchor;
    }

    /**
     * Spoils the signature over the {@code type} records of {@code owner} (relative to the origin), as a forger
     * who cannot sign would: the record stays, its RRSIG no longer verifies. Call before the zone is served.
     */
    public void breakSignature(String owner, String type) {
        String name = owner + "." + origin + ".";
        try {
            List<String> out = new ArrayList<>();
            boolean found = false;
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                String[] f = line.split("\\s+");
                if (f.length > 5 && f[0].equalsIgnoreCase(name) && f[3].equals("RRSIG") && f[4].equals(type)) {
                    String sig = f[f.length - 1];
                    char flipped = sig.charAt(0) == 'A' ? 'B' : 'A';
                    line = line.substring(0, line.length() - sig.length()) + flipped + sig.substring(1);
                    found = true;
                }
                out.add(line);
            }
            if (!found) {
                throw new IllegalArgumentException("no RRSIG " + type + " at " + name + " in " + file);
            }
            Files.write(file, out, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("cannot rewrite " + file, e);
        }
    }

    private static String run(Path dir, String tool, String... args) {
        List<String> command = new ArrayList<>();
        command.add(LoopbackDns.executable(tool).map(Path::toString).orElseThrow(() -> new IllegalStateException(
                tool + " is not installed; the DANE tests need it: apt-get install ldnsutils")));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }
}
