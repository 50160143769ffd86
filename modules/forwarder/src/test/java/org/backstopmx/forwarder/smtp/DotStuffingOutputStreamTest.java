package org.backstopmx.forwarder.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DotStuffingOutputStreamTest {

    private static byte[] bytes(String s) {
        // | is CRLF, ~ a bare LF
        return s.replace("|", "\r\n").replace("~", "\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Every way of cutting the input in two writes gives the same bytes: line starts are remembered. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
            "no dots;            a|b|;              a|b|.|",
            "leading dot;        .a|;               ..a|.|",
            "lone dot line;      x|.|y|;            x|..|y|.|",
            "two dots;           ..x|;              ...x|.|",
            "dot inside a line;  a.b|c .|;          a.b|c .|.|",
            "dot after bare LF;  a~.b|;             a~..b|.|",
            "no final CRLF;      abc;               abc|.|",
            "empty;              '';                .|",
    })
    void stuffsAtLineStartsAcrossWrites(String name, String input, String expected) throws IOException {
        byte[] in = bytes(input);
        for (int cut = 0; cut <= in.length; cut++) {
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            DotStuffingOutputStream out = new DotStuffingOutputStream(sink);
            out.write(in, 0, cut);
            out.write(in, cut, in.length - cut);
            out.finish();
            assertThat(sink.toByteArray()).as("cut at %d", cut).isEqualTo(bytes(expected));
        }
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        DotStuffingOutputStream out = new DotStuffingOutputStream(sink);
        for (byte b : in) {
            out.write(b);
        }
        out.finish();
        assertThat(sink.toByteArray()).as("byte by byte").isEqualTo(bytes(expected));
    }
}
