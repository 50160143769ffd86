package org.backstopmx.core.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * An IP address or a prefix of them ({@code 203.0.113.7}, {@code 198.51.100.0/24}, {@code 2001:db8::/48}), written
 * as such: host names are refused, so checking a client against it never asks DNS.
 *
 * @param network the first address (the host bits of a written address are kept, and ignored when matching)
 * @param prefix  the number of leading bits that must match: 32 or 128 for one address
 */
public record AddressRange(InetAddress network, int prefix) {
    public AddressRange {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("prefix must be 0-" + bits + ", got " + prefix);
        }
    }

    /**
     * Parses {@code address} or {@code address/prefix}.
     *
     * @throws IllegalArgumentException when it is not an IPv4 or IPv6 address (a host name included), or the prefix
     *                                  is out of range
     */
    public static AddressRange parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String address = slash < 0 ? t : t.substring(0, slash);
        if (address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1);
        }
        if (address.isEmpty() || !(address.indexOf(':') >= 0 || address.matches("[0-9.]+"))) {
            throw new IllegalArgumentException("expected an IP address or prefix like 192.0.2.0/24, got \"" + text + "\"");
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByName(address); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("expected an IP address or prefix like 192.0.2.0/24, got \"" + text
                    + "\"", e);
        }
        int bits = ip.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("prefix length must be a number, got \"" + text + "\"", e);
            }
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("prefix length must be 0-" + bits + ", got \"" + text + "\"");
            }
        }
        return new AddressRange(ip, prefix);
    }

    /** Whether {@code address} is in this range (an IPv4 address is never in an IPv6 range, nor the reverse). */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != n[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xff << (8 - rest) & 0xff;
        return (a[full] & mask) == (n[full] & mask);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }
}
