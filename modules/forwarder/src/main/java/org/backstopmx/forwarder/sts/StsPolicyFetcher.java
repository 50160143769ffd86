package org.backstopmx.forwarder.sts;

import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.backstopmx.forwarder.DomainNames;

/**
 * Fetches {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} (RFC 8461 §3.3) with the JDK's {@link HttpClient}:
 * the certificate verified (chain to the trusted CAs, the name {@code mta-sts.<domain>}, which the client also sends
 * as SNI), redirects never followed, only a 200 taken, the whole fetch bounded in time and the body in size.
 *
 * <p>Where the connection goes is the client's proxy selector: the system's in production; tests give one that
 * points at a CONNECT tunnel on loopback, so the URL, the SNI and the name checked stay {@code mta-sts.<domain>}.
 */
public final class StsPolicyFetcher {
    /** §3.3: senders SHOULD limit the body to 64 KB. */
    static final int MAX_BODY = 64 * 1024;
    /** §3.3: a timeout of 60 s or less; delivery waits for it, so less. */
    public static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final HttpClient client;
    private final Duration timeout;

    /** Verifying with {@code trust} (the {@code verify} level's CAs), through the system's proxy settings. */
    public StsPolicyFetcher(SSLContext trust) {
        this(trust, null, TIMEOUT);
    }

    /** @param proxy where connections go; null for the system's */
    public StsPolicyFetcher(SSLContext trust, ProxySelector proxy, Duration timeout) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        HttpClient.Builder b = HttpClient.newBuilder().sslContext(Objects.requireNonNull(trust, "trust"))
                .followRedirects(HttpClient.Redirect.NEVER) // §3.3: HTTP 3xx redirects MUST NOT be followed
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout);
        if (proxy != null) {
            b.proxy(proxy);
        }
        this.client = b.build();
    }

    /** The policy URL of {@code domain}. */
    static URI uri(String domain) {
        return URI.create("https://mta-sts." + DomainNames.normalize(domain) + "/.well-known/mta-sts.txt");
    }

    /**
     * The policy body of {@code domain}.
     *
     * @throws IOException with a one-line reason: no connection, a TLS failure, a status other than 200, a media type
     *                     other than {@code text/plain}, a body over {@value #MAX_BODY} bytes, the time limit
     */
    public String fetch(String domain) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(uri(domain)).timeout(timeout).GET().build();
        CompletableFuture<HttpResponse<byte[]>> future = client.sendAsync(request, info -> new Capped(MAX_BODY));
        HttpResponse<byte[]> response;
        try {
            response = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new IOException(request.uri() + ": no policy within " + timeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new IOException(request.uri() + ": interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new IOException(request.uri() + ": " + (cause.getMessage() == null
                    ? cause.getClass().getSimpleName() : cause.getMessage()).replaceAll("[\\r\\n]+", " "), cause);
        }
        if (response.statusCode() != 200) {
            throw new IOException(request.uri() + ": HTTP " + response.statusCode());
        }
        String type = response.headers().firstValue("Content-Type").orElse("text/plain");
        if (!type.toLowerCase(java.util.Locale.ROOT).startsWith("text/plain")) {
            throw new IOException(request.uri() + ": media type " + type + ", not text/plain");
        }
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    /** Collects a body of at most {@code limit} bytes; a longer one fails and the stream is cancelled. */
    private static final class Capped implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final int limit;
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private Flow.Subscription subscription;

        Capped(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer b : buffers) {
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.writeBytes(chunk);
            }
            if (bytes.size() > limit && !result.isDone()) {
                subscription.cancel();
                result.completeExceptionally(new IOException("policy larger than " + limit + " bytes"));
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }
    }
}
