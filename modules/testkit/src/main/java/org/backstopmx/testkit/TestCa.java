package org.backstopmx.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A certificate authority for TLS tests, made with the JDK's keytool in a directory of the test's: EC keys, PKCS12
 * key stores with the password {@value #PASSWORD}. Leaves it signs carry their chain (leaf, then the CA), so a server
 * made from one ({@link #serverContext}) sends both.
 */
public final class TestCa {
    public static final String PASSWORD = "changeit";

    private final Path dir;
    private final String name;

    private TestCa(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A CA in {@code name.p12} (its certificate also in {@code name.pem}), valid 30 days. */
    public static TestCa create(Path dir, String name) {
        keytool(dir, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-dname", "CN=" + name, "-ext", "bc:c",
                "-validity", "30", "-keystore", name + ".p12");
        keytool(dir, "-exportcert", "-rfc", "-alias", "ca", "-keystore", name + ".p12", "-file", name + ".pem");
        return new TestCa(dir, name);
    }

    /**
     * A leaf key pair in {@code file.p12} for {@code san} ({@code dns:mx.example}), signed by this CA, the chain
     * imported; {@code extra} goes to {@code keytool -gencert} ({@code -startdate -20d -validity 10}).
     */
    public Path leaf(String file, String commonName, String san, String... extra) {
        keytool(dir, "-genkeypair", "-alias", "leaf", "-keyalg", "EC", "-dname", "CN=" + commonName, "-keystore",
                file + ".p12");
        keytool(dir, "-certreq", "-alias", "leaf", "-keystore", file + ".p12", "-file", file + ".csr");
        List<String> gen = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-keystore", name + ".p12", "-infile",
                file + ".csr", "-outfile", file + ".pem", "-rfc", "-ext", "san=" + san));
        gen.addAll(List.of(extra));
        keytool(dir, gen.toArray(String[]::new));
        keytool(dir, "-importcert", "-noprompt", "-alias", "ca", "-file", name + ".pem", "-keystore", file + ".p12");
        keytool(dir, "-importcert", "-alias", "leaf", "-file", file + ".pem", "-keystore", file + ".p12");
        return dir.resolve(file + ".p12");
    }

    /**
     * A server's SSL context for the DNS names {@code hosts}, signed by this CA, under {@code leaf} (a file name).
     *
     * @param extra further {@code keytool -gencert} options, e.g. {@code -startdate -20d -validity 10}
     */
    public SSLContext server(String leaf, List<String> hosts, String... extra) {
        String san = String.join(",", hosts.stream().map(h -> "dns:" + h).toList());
        return serverContext(leaf(name + "-" + leaf, hosts.get(0), san, extra));
    }

    /** The CA's certificate ({@code name.pem}). */
    public Path pem() {
        return dir.resolve(name + ".pem");
    }

    /** The CA's own certificate. */
    public X509Certificate certificate() {
        return (X509Certificate) certificate(dir.resolve(name + ".p12"), "ca");
    }

    /** The certificate under {@code alias} in a key store made here. */
    public static java.security.cert.Certificate certificate(Path p12, String alias) {
        try {
            return load(p12).getCertificate(alias);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(p12 + ": " + e.getMessage(), e);
        }
    }

    /** A key store made here, loaded. */
    public static KeyStore load(Path p12) {
        try (InputStream in = Files.newInputStream(p12)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, PASSWORD.toCharArray());
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(p12 + ": " + e.getMessage(), e);
        }
    }

    /** A server's SSL context presenting the key and chain in {@code p12}. */
    public static SSLContext serverContext(Path p12) {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(p12), PASSWORD.toCharArray());
            SSLContext server = SSLContext.getInstance("TLS");
            server.init(kmf.getKeyManagers(), null, null);
            return server;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(p12 + ": " + e.getMessage(), e);
        }
    }

    /** The JDK's keytool in {@code dir} with these arguments and the PKCS12 store type and password. */
    public static void keytool(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run keytool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: keytool", e);
        }
    }
}
