package org.backstopmx.smtpin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DnsListNameTest {
    @ParameterizedTest(name = "{0} under {1}")
    @CsvSource({
            // RFC 5782 §2.1: octets reversed
            "192.0.2.99,           bl.example,  99.2.0.192.bl.example.",
            "127.0.0.2,            bl.test.,    2.0.0.127.bl.test.",
            // RFC 5782 §2.4's own example: 2001:db8:1:2:3:4:567:89ab, nibbles reversed
            "2001:db8:1:2:3:4:567:89ab, ugly.example.com, b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com.",
            // zeros written out, every nibble present
            "::1,                  bl.test,     1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test.",
    })
    void queryName(String address, String zone, String expected) throws Exception {
        assertEquals(expected, DnsListName.of(InetAddress.getByName(address), zone));
    }
}
