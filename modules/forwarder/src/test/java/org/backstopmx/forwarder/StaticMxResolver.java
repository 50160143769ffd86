package org.backstopmx.forwarder;

import java.util.HashMap;
import java.util.Map;

/** An {@link MxResolver} that answers from maps: unknown names are NXDOMAIN. Not thread-safe while being filled. */
final class StaticMxResolver implements MxResolver {
    private final Map<String, MxAnswer> mx = new HashMap<>();
    private final Map<String, AddressAnswer> addresses = new HashMap<>();

    StaticMxResolver mx(String domain, MxAnswer answer) {
        mx.put(DomainNames.normalize(domain), answer);
        return this;
    }

    StaticMxResolver addresses(String host, AddressAnswer answer) {
        addresses.put(DomainNames.normalize(host), answer);
        return this;
    }

    @Override
    public MxAnswer mx(String domain) {
        return mx.getOrDefault(DomainNames.normalize(domain), new MxAnswer.NxDomain());
    }

    @Override
    public AddressAnswer addresses(String host) {
        return addresses.getOrDefault(DomainNames.normalize(host), new AddressAnswer.NxDomain());
    }
}
