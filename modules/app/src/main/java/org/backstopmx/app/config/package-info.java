/**
 * Loading the configuration: embedded defaults ({@link org.backstopmx.core.config.BackstopConfig#defaults()}) ← one
 * YAML file ← {@code BACKSTOP_*} environment variables, then validation. The result is the immutable record tree of
 * {@code org.backstopmx.core.config}; nothing else in the appliance reads YAML or the environment.
 *
 * <p>The steps, each in its own class: {@link org.backstopmx.app.config.YamlSource} and
 * {@link org.backstopmx.app.config.EnvironmentSource} collect the text of each key as written
 * ({@link org.backstopmx.app.config.RawConfig}); {@link org.backstopmx.app.config.ConfigBuilder} parses it onto the
 * records with {@link org.backstopmx.app.config.Units}; {@link org.backstopmx.app.config.ConfigValidator} checks the
 * rules that span keys and the files the configuration names. {@link org.backstopmx.app.config.ConfigKeys} is the one
 * list of keys; a test holds {@code deploy/backstop.example.yaml} and the configuration table in {@code README.md} to it.
 *
 * <p>Moves no message state. Failure modes: every problem (unknown key, bad value, broken rule, missing file) is
 * collected, then all are thrown together as one {@link org.backstopmx.app.config.ConfigException}, one line per
 * problem, each line starting with the key it is about. Startup stops there; nothing is retried.
 */
package org.backstopmx.app.config;
