package org.backstopmx.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files of a {@link PostfixSender} instance: main.cf, master.cf and the transport table, written into the
 * instance's directory ({@code etc/}, with {@code spool/}, {@code data/} and {@code log/} beside it).
 */
final class PostfixConfig {
    private PostfixConfig() {
    }

    static void write(Path root, int smtpdPort, String domain, int relayPort, Map<String, String> settings)
            throws IOException {
        Path etc = Files.createDirectories(root.resolve("etc"));
        Path spool = Files.createDirectories(root.resolve("spool"));
        Path data = Files.createDirectories(root.resolve("data"));
        // the daemons write their data_directory as mail_owner; the queue_directory stays root's
        UserPrincipalLookupService users = root.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(data, users.lookupPrincipalByName("postfix"));
        Path log = Files.createDirectories(root.resolve("log"));
        Map<String, String> main = new LinkedHashMap<>();
        main.put("compatibility_level", "3.6");
        main.put("config_directory", etc.toString());
        main.put("queue_directory", spool.toString());
        main.put("data_directory", data.toString());
        main.put("mail_owner", "postfix");
        main.put("setgid_group", "postdrop");
        main.put("syslog_name", "postfix-sender");
        // no syslogd here: postlogd writes a plain file
        main.put("maillog_file_prefixes", root.toString());
        main.put("maillog_file", log.resolve("maillog").toString());
        main.put("myhostname", "sender-mta.test");
        main.put("mydomain", "sender-mta.test");
        main.put("myorigin", "$myhostname");
        main.put("mydestination", "");
        main.put("local_recipient_maps", "");
        main.put("alias_maps", "");
        main.put("alias_database", "");
        main.put("inet_interfaces", "127.0.0.1");
        main.put("inet_protocols", "ipv4");
        // the test submits from loopback as a trusted client and may relay anywhere; only the transport decides
        main.put("mynetworks", "127.0.0.0/8");
        main.put("smtpd_relay_restrictions", "permit_mynetworks, reject");
        main.put("biff", "no");
        main.put("smtputf8_enable", "yes");
        main.put("transport_maps", "texthash:" + etc.resolve("transport"));
        // everything not for the relayed domain (bounces to the test's senders included) is thrown away here
        main.put("default_transport", "discard:not relayed by the test instance");
        main.put("relay_transport", "discard:not relayed by the test instance");
        // no DNS at all
        main.put("smtpd_peername_lookup", "no");
        main.put("smtp_dns_support_level", "disabled");
        main.put("smtp_host_lookup", "native");
        // retries within seconds, not minutes (defaults 300 s / 300 s / 4000 s)
        main.put("queue_run_delay", "1s");
        main.put("minimal_backoff_time", "1s");
        main.put("maximal_backoff_time", "2s");
        // submission as fast as the test writes (in_flow_delay throttles a client while qmgr is behind)
        main.put("in_flow_delay", "0");
        main.putAll(settings);
        List<String> lines = new ArrayList<>(List.of("# a sending MTA for Backstop's interoperability tests"));
        main.forEach((k, v) -> lines.add(k + " = " + v));
        Files.write(etc.resolve("main.cf"), lines, StandardCharsets.UTF_8);
        Files.writeString(etc.resolve("transport"), domain + " smtp:[127.0.0.1]:" + relayPort + "\n");
        Files.writeString(etc.resolve("master.cf"), masterCf(smtpdPort));
    }

    /** Debian's service set with chroot off everywhere (a chroot in another queue_directory needs /etc copied in). */
    private static String masterCf(int smtpdPort) {
        return String.join("\n",
                "# service type  private unpriv  chroot  wakeup  maxproc command + args",
                "127.0.0.1:" + smtpdPort + " inet n - n - - smtpd",
                "pickup    unix  n       -       n       60      1       pickup",
                "cleanup   unix  n       -       n       -       0       cleanup",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
                "rewrite   unix  -       -       n       -       -       trivial-rewrite",
                "bounce    unix  -       -       n       -       0       bounce",
                "defer     unix  -       -       n       -       0       bounce",
                "trace     unix  -       -       n       -       0       bounce",
                "verify    unix  -       -       n       -       1       verify",
                "flush     unix  n       -       n       1000?   0       flush",
                "proxymap  unix  -       -       n       -       -       proxymap",
                "proxywrite unix -       -       n       -       1       proxymap",
                "smtp      unix  -       -       n       -       -       smtp",
                "relay     unix  -       -       n       -       -       smtp",
                "showq     unix  n       -       n       -       -       showq",
                "error     unix  -       -       n       -       -       error",
                "retry     unix  -       -       n       -       -       error",
                "discard   unix  -       -       n       -       -       discard",
                "anvil     unix  -       -       n       -       1       anvil",
                "scache    unix  -       -       n       -       1       scache",
                "postlog   unix-dgram n  -       n       -       1       postlogd",
                "");
    }
}
