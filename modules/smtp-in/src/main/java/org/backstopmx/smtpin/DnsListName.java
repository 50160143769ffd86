package org.backstopmx.smtpin;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * The name a DNS list is asked about a client by (RFC 5782 §2.1 for IPv4, §2.4 for IPv6): the address's octets,
 * or for IPv6 its 32 nibbles in hexadecimal, in reverse order, then the list's zone.
 * {@code 192.0.2.99} under {@code bl.example} is {@code 99.2.0.192.bl.example.};
 * {@code 2001:db8::1} is {@code 1.0.0.0.}(24 more nibbles){@code .8.b.d.0.1.0.0.2.bl.example.}.
 */
final class DnsListName {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private DnsListName() {
    }

    /** The absolute query name for {@code client} under {@code zone} (which may or may not end with a dot). */
    static String of(InetAddress client, String zone) {
        byte[] a = client.getAddress();
        StringBuilder name = new StringBuilder(a.length * 4 + zone.length() + 1);
        for (int i = a.length - 1; i >= 0; i--) {
            int b = a[i] & 0xff;
            if (client instanceof Inet4Address) {
                name.append(b).append('.');
            } else {
                name.append(HEX[b & 0xf]).append('.').append(HEX[b >> 4]).append('.');
            }
        }
        name.append(zone);
        if (!zone.endsWith(".")) {
            name.append('.');
        }
        return name.toString();
    }
}
