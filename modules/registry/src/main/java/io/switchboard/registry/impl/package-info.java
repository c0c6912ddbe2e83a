/**
 * How the registry library does its work, under the API of {@code io.switchboard.registry}; nothing here is API.
 * <p>
 * Registration, one way down: {@link io.switchboard.registry.impl.KeptRegistration} registers and registers again,
 * {@link io.switchboard.registry.impl.LeaseRenewals} renews the leases of all registrations in batches and reports
 * each outcome, {@link io.switchboard.registry.impl.HubConnection} carries the calls. Discovery:
 * {@link io.switchboard.registry.impl.WatchingDiscovery} keeps a Watch per service and gives channels whose
 * addresses follow it. {@link io.switchboard.registry.client.RegistryClient} creates these and hands each its
 * dependencies; the rest of the package is theirs alone.
 */
package io.switchboard.registry.impl;
