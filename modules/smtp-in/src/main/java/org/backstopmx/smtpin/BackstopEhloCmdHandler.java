package org.backstopmx.smtpin;

import java.util.Collection;
import java.util.List;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.AbstractHookableCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.apache.james.protocols.smtp.hook.HeloHook;
import org.apache.james.protocols.smtp.hook.HookResult;

/**
 * EHLO (RFC 5321 §4.1.1.1): our name, the client's name and address (never a reverse lookup), then the extensions:
 * PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES here, SIZE and DSN from {@link MailParameters}, ETRN from
 * {@link EtrnCommand}, STARTTLS from James's handler when a certificate is configured. Written again because James's reply carried a stray {@code )}.
 */
final class BackstopEhloCmdHandler extends AbstractHookableCmdHandler<HeloHook> implements EhloExtension {
    private static final List<String> FEATURES = List.of("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES");
    private List<EhloExtension> extensions = List.of();

    BackstopEhloCmdHandler(MetricFactory metricFactory) {
        super(metricFactory);
    }

    @Override
    public Collection<String> getImplCommands() {
        return List.of("EHLO");
    }

    @Override
    protected Response doFilterChecks(SMTPSession session, String command, String parameters) {
        session.resetState();
        if (parameters == null || parameters.isBlank()) {
            return Replies.response(Replies.HELO_SYNTAX);
        }
        session.setAttachment(SMTPSession.CURRENT_HELO_NAME, parameters.strip(), State.Connection);
        return null;
    }

    @Override
    protected Response doCoreCmd(SMTPSession session, String command, String parameters) {
        session.setAttachment(SMTPSession.CURRENT_HELO_MODE, "EHLO", State.Connection);
        SMTPResponse resp = new SMTPResponse("250", session.getConfiguration().getHelloName() + " Hello "
                + parameters.strip() + " [" + session.getRemoteAddress().getAddress().getHostAddress() + "]");
        for (EhloExtension extension : extensions) {
            List<String> lines = extension.getImplementedEsmtpFeatures(session);
            if (lines != null) {
                lines.forEach(resp::appendLine);
            }
        }
        return resp;
    }

    @Override
    protected Class<HeloHook> getHookInterface() {
        return HeloHook.class;
    }

    @Override
    protected HookResult callHook(HeloHook rawHook, SMTPSession session, String parameters) {
        return rawHook.doHelo(session, parameters);
    }

    @Override
    public List<Class<?>> getMarkerInterfaces() {
        List<Class<?>> classes = super.getMarkerInterfaces();
        classes.add(EhloExtension.class);
        return classes;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void wireExtensions(Class<?> interfaceName, List<?> extension) {
        super.wireExtensions(interfaceName, extension);
        if (EhloExtension.class.equals(interfaceName)) {
            this.extensions = List.copyOf((List<EhloExtension>) extension);
        }
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return FEATURES;
    }
}
