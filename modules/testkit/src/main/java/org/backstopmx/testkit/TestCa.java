package org.backstopmx.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A certificate authority made for a test with the JDK's {@code keytool}, in a directory of the test's: its
 * certificate in {@code <name>.pem} (what {@code delivery.tls-ca-file} points at), and server certificates it signs,
 * each as an {@link SSLContext} a test server presents (with the CA in the chain).
 */
public final class TestCa {
    private static final String PASS = "changeit";

    private final Path dir;
    private final String name;

    private TestCa(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new CA {@code CN=<name>} in {@code dir}, valid for 30 days. */
    public static TestCa create(Path dir, String name) {
        TestCa ca = new TestCa(dir, name);
        ca.keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-dname", "CN=" + name, "-ext", "bc:c",
                "-validity", "30", "-keystore", name + ".p12");
        ca.keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", name + ".p12", "-file", name + ".pem");
        return ca;
    }

    /** The CA certificate, PEM. */
    public Path pem() {
        return dir.resolve(name + ".pem");
    }

    /**
     * A server certificate for the DNS names {@code hosts} signed by this CA, under {@code leaf} (a file name).
     *
     * @param extra further {@code keytool -gencert} options, e.g. {@code -startdate -20d -validity 10}
     */
    public SSLContext server(String leaf, List<String> hosts, String... extra) {
        String file = name + "-" + leaf;
        keytool("-genkeypair", "-alias", "leaf", "-keyalg", "EC", "-dname", "CN=" + hosts.get(0), "-keystore",
                file + ".p12");
        keytool("-certreq", "-alias", "leaf", "-keystore", file + ".p12", "-file", file + ".csr");
        List<String> gen = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-keystore", name + ".p12", "-infile",
                file + ".csr", "-outfile", file + ".pem", "-rfc", "-ext",
                "san=" + String.join(",", hosts.stream().map(h -> "dns:" + h).toList())));
        gen.addAll(List.of(extra));
        keytool(gen.toArray(String[]::new));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", name + ".pem", "-keystore", file + ".p12");
        keytool("-importcert", "-alias", "leaf", "-file", file + ".pem", "-keystore", file + ".p12");
        try (InputStream in = Files.newInputStream(dir.resolve(file + ".p12"))) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, PASS.toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASS.toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot load " + file + ".p12", e);
        }
    }

    private void keytool(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", PASS));
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
            throw new IllegalStateException("interrupted", e);
        }
    }
}
