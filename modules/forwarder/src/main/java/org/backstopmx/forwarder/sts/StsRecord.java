package org.backstopmx.forwarder.sts;

import java.util.List;
import java.util.Optional;

/** The {@code _mta-sts.<domain>} TXT record (RFC 8461 §3.1): {@code v=STSv1; id=<1 to 32 letters and digits>;}. */
final class StsRecord {
    private StsRecord() {
    }

    /**
     * The policy id from the TXT records of {@code _mta-sts.<domain>}, each given as its strings joined.
     *
     * @return empty when the domain has no usable record: none begins with {@code v=STSv1}, more than one does, or
     *         the one that does has no valid {@code id} (§3.1: then "the recipient domain does not have an available
     *         MTA-STS policy")
     */
    static Optional<String> id(List<String> txts) {
        List<String> sts = txts.stream().filter(t -> t.startsWith("v=STSv1;") || t.equals("v=STSv1")).toList();
        if (sts.size() != 1) {
            return Optional.empty();
        }
        String[] fields = sts.get(0).split(";");
        for (int i = 1; i < fields.length; i++) {
            String f = fields[i].trim();
            if (f.startsWith("id=")) {
                String id = f.substring(3);
                return id.matches("[A-Za-z0-9]{1,32}") ? Optional.of(id) : Optional.empty();
            }
        }
        return Optional.empty();
    }
}
