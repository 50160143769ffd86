package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.junit.jupiter.api.Test;

/**
 * The primaries' addresses the screen never refuses, over a static DNS: we are {@code backstop.example.test} at
 * preference 20.
 */
class PrimaryAddressBookTest {
    private static final MxAnswer.TemporaryFailure SERVFAIL = new MxAnswer.TemporaryFailure(DnsFailure.SERVFAIL, "test");

    private final StaticMxResolver dns = new StaticMxResolver()
            .mx("mx.org", MxAnswer.Records.of(MxRecord.of(10, "primary.mx.org"), MxRecord.of(20, "backstop.example.test"),
                    MxRecord.of(30, "tertiary.mx.org")))
            .addresses("primary.mx.org", new AddressAnswer.Addresses(List.of(ip("192.0.2.10"), ip("2001:db8::10"))))
            .addresses("tertiary.mx.org", new AddressAnswer.Addresses(List.of(ip("192.0.2.30"))))
            .addresses("mail.routed.org", new AddressAnswer.Addresses(List.of(ip("198.51.100.5"))));

    private static BackstopConfig config(DomainConfig... domains) {
        Map<String, DomainConfig> map = new java.util.HashMap<>();
        for (DomainConfig d : domains) {
            map.put(d.name(), d);
        }
        return BackstopConfig.defaults().withDomains(map);
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    @Test
    void theMxHostsBelowOursAndTheRoutesAreTrustedNotTheOthers() {
        RouteResolver routes = new RouteResolver(config(DomainConfig.acceptAll("mx.org"),
                new DomainConfig("routed.org", new HostPort("mail.routed.org", 25), null, null)), dns, new Random(1));
        PrimaryAddressBook book = new PrimaryAddressBook(routes, dns);
        assertThat(book.isPrimary(ip("192.0.2.10"))).as("before the first lookup").isFalse();

        book.refresh();

        assertThat(book.isPrimary(ip("192.0.2.10"))).isTrue();
        assertThat(book.isPrimary(ip("2001:db8::10"))).isTrue();
        assertThat(book.isPrimary(ip("198.51.100.5"))).as("a configured route").isTrue();
        assertThat(book.isPrimary(ip("192.0.2.30"))).as("an MX above our own preference is no primary").isFalse();
        assertThat(book.isPrimary(ip("203.0.113.1"))).isFalse();
        assertThat(book.addresses()).containsOnlyKeys("mx.org", "routed.org");
    }

    @Test
    void aFailedLookupKeepsWhatTheLastOneFound() {
        RouteResolver routes = new RouteResolver(config(DomainConfig.acceptAll("mx.org")), dns, new Random(1));
        PrimaryAddressBook book = new PrimaryAddressBook(routes, dns);
        book.refresh();

        dns.mx("mx.org", SERVFAIL);
        book.refresh();
        assertThat(book.isPrimary(ip("192.0.2.10"))).as("after SERVFAIL").isTrue();

        dns.mx("mx.org", MxAnswer.Records.of(MxRecord.of(10, "primary.mx.org")))
                .addresses("primary.mx.org", new AddressAnswer.TemporaryFailure(DnsFailure.TIMEOUT, "test"));
        book.refresh();
        assertThat(book.isPrimary(ip("192.0.2.10"))).as("after a timed-out address lookup").isTrue();

        dns.addresses("primary.mx.org", new AddressAnswer.Addresses(List.of(ip("192.0.2.11"))));
        book.refresh();
        assertThat(book.isPrimary(ip("192.0.2.11"))).as("the primary moved").isTrue();
        assertThat(book.isPrimary(ip("192.0.2.10"))).as("and its old address is forgotten").isFalse();
    }

    @Test
    void etrnFromListsAreTrustedAndAReloadIsLookedUpAgain() {
        DomainConfig behindNat = new DomainConfig("mx.org", null, null, null, null,
                List.of(AddressRange.parse("10.1.0.0/16")));
        RouteResolver routes = new RouteResolver(config(behindNat), dns, new Random(1));
        PrimaryAddressBook book = new PrimaryAddressBook(routes, dns);
        assertThat(book.isPrimary(ip("10.1.2.3"))).as("etrn-from needs no lookup").isTrue();

        routes.reload(config(new DomainConfig("routed.org", new HostPort("mail.routed.org", 25), null, null)));
        book.refreshSoon();
        assertThat(book.isPrimary(ip("10.1.2.3"))).isFalse();
        assertThat(book.isPrimary(ip("198.51.100.5"))).isTrue();
        assertThat(book.addresses()).isEqualTo(Map.of("routed.org", Set.of(ip("198.51.100.5"))));
    }
}
