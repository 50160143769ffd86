package org.backstopmx.testkit;

import java.util.List;

/**
 * SPF records (RFC 7208) for {@link Dnsmasq}, one domain under {@code spf.test} per result, as seen from a client on
 * 127.0.0.1 (any address of 127.0.0.0/8 passes where 127.0.0.1 does):
 * <pre>
 *   pass.spf.test         v=spf1 ip4:127.0.0.0/8 -all
 *   include.spf.test      v=spf1 include:pass.spf.test -all        (pass through an include)
 *   xn--bcher-kva.spf.test  (bücher.spf.test) as pass.spf.test
 *   fail.spf.test         v=spf1 ip4:192.0.2.1 -all
 *   softfail.spf.test     v=spf1 ip4:192.0.2.1 ~all
 *   neutral.spf.test      v=spf1 ?all
 *   none.spf.test         a TXT record that is not SPF
 *   (absent).spf.test     NXDOMAIN: none as well
 *   permerror.spf.test    v=spf1 ip4:127.0.0.1/99 -all             (a prefix out of range)
 *   twice.spf.test        two SPF records: permerror
 *   voids.spf.test        v=spf1 a:v1.spf.test a:v2.spf.test a:v3.spf.test -all   (three void lookups: permerror)
 *   lookups.spf.test      v=spf1 a:h1.spf.test ... a:h11.spf.test -all (eleven DNS-querying terms: permerror)
 * </pre>
 * A temperror needs a resolver that fails: {@link Dnsmasq#servfailInFrontOf}, or {@link Dnsmasq#withSilentZone}.
 */
public final class SpfRecords {
    private SpfRecords() {
    }

    /** The dnsmasq options that serve the records above. */
    public static List<String> options() {
        List<String> options = new java.util.ArrayList<>(List.of(
                "--txt-record=pass.spf.test,v=spf1 ip4:127.0.0.0/8 -all",
                "--txt-record=include.spf.test,v=spf1 include:pass.spf.test -all",
                "--txt-record=xn--bcher-kva.spf.test,v=spf1 ip4:127.0.0.0/8 -all",
                "--txt-record=fail.spf.test,v=spf1 ip4:192.0.2.1 -all",
                "--txt-record=softfail.spf.test,v=spf1 ip4:192.0.2.1 ~all",
                "--txt-record=neutral.spf.test,v=spf1 ?all",
                "--txt-record=none.spf.test,site-verification=0123456789",
                "--txt-record=permerror.spf.test,v=spf1 ip4:127.0.0.1/99 -all",
                "--txt-record=twice.spf.test,v=spf1 -all",
                "--txt-record=twice.spf.test,v=spf1 +all",
                "--txt-record=voids.spf.test,v=spf1 a:v1.spf.test a:v2.spf.test a:v3.spf.test -all",
                "--txt-record=lookups.spf.test,v=spf1 " + lookups() + "-all"));
        for (int i = 1; i <= 11; i++) {
            options.add("--host-record=h" + i + ".spf.test,192.0.2." + (100 + i));
        }
        return List.copyOf(options);
    }

    /** Eleven {@code a:} terms, each a name that exists (so none is a void lookup), none matching 127.0.0.1. */
    private static String lookups() {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= 11; i++) {
            b.append("a:h").append(i).append(".spf.test ");
        }
        return b.toString();
    }

    /** Starts dnsmasq with these records (and {@code more} options). */
    public static Dnsmasq serve(String... more) {
        List<String> all = new java.util.ArrayList<>(options());
        all.addAll(List.of(more));
        return Dnsmasq.start(all.toArray(String[]::new));
    }
}
