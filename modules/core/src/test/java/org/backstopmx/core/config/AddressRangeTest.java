package org.backstopmx.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class AddressRangeTest {
    @Test
    void oneAddressMatchesOnlyItself() throws Exception {
        AddressRange r = AddressRange.parse("203.0.113.7");
        assertThat(r.prefix()).isEqualTo(32);
        assertThat(r.contains(InetAddress.getByName("203.0.113.7"))).isTrue();
        assertThat(r.contains(InetAddress.getByName("203.0.113.8"))).isFalse();
    }

    @Test
    void prefixesMatchOnTheirLeadingBits() throws Exception {
        AddressRange v4 = AddressRange.parse("198.51.100.0/22");
        assertThat(v4.contains(InetAddress.getByName("198.51.103.255"))).isTrue();
        assertThat(v4.contains(InetAddress.getByName("198.51.104.0"))).isFalse();
        AddressRange v6 = AddressRange.parse("[2001:db8::]/33");
        assertThat(v6.contains(InetAddress.getByName("2001:db8:7fff::1"))).isTrue();
        assertThat(v6.contains(InetAddress.getByName("2001:db8:8000::1"))).isFalse();
        assertThat(v6.contains(InetAddress.getByName("198.51.100.1"))).isFalse();
        assertThat(AddressRange.parse("0.0.0.0/0").contains(InetAddress.getByName("192.0.2.1"))).isTrue();
        assertThat(v4).hasToString("198.51.100.0/22");
    }

    @Test
    void hostNamesAndBadPrefixesAreRefused() {
        assertThatThrownBy(() -> AddressRange.parse("mail.example.org")).hasMessageContaining("IP address");
        assertThatThrownBy(() -> AddressRange.parse("192.0.2.0/33")).hasMessageContaining("0-32");
        assertThatThrownBy(() -> AddressRange.parse("2001:db8::/129")).hasMessageContaining("0-128");
        assertThatThrownBy(() -> AddressRange.parse("192.0.2.0/x")).hasMessageContaining("number");
        assertThatThrownBy(() -> AddressRange.parse("")).hasMessageContaining("IP address");
    }
}
