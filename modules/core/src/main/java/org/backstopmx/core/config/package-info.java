/**
 * The configuration as one immutable record tree. Loading, defaults, environment overrides and validation live in
 * the {@code app} module; every other module receives the part it needs, already validated.
 */
package org.backstopmx.core.config;
