package org.backstopmx.app;

import picocli.CommandLine;

/** The version from the jar manifest (or "development" when run from classes). */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"Backstop MX " + (v == null ? "development" : v)};
    }
}
