package io.switchboard.registry.impl;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The renewal schedule against an in-process hub. Lower bounds on times are exact (nothing is sent before it is
 * due); upper bounds allow for a loaded machine.
 */
@Timeout(value = 60, unit = SECONDS)
class LeaseRenewalsUnitTest {
    /** Renewal interval 1 s. */
    private static final Duration TTL = Duration.ofSeconds(3);
    private static final long INTERVAL_MS = TTL.toMillis() / 3;
    private static final long LATE_MS = 400;

    private final FakeHub hub = new FakeHub();
    private final List<LeaseRenewals> clients = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        clients.forEach(LeaseRenewals::close);
        hub.close();
    }

    @Test
    void firstRenewalFallsAtARandomPointOfTheSecondHalfOfTheFirstInterval() {
        List<Long> sent = new ArrayList<>();
        for (long lease = 1; lease <= 12; lease++) {
            long now = System.nanoTime();
            sent.add(now);
            renewals().track(new Outcomes(), lease, TTL, now);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> LongStream.rangeClosed(1, 12)
                .allMatch(lease -> !hub.renewalsOf(lease).isEmpty()));

        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            delays.add((hub.renewalsOf(i + 1).get(0).nanos() - sent.get(i)) / 1_000_000);
        }
        assertThat(delays).allSatisfy(ms -> assertThat(ms).isBetween(INTERVAL_MS / 2, INTERVAL_MS + LATE_MS));
        // a fleet started together spreads out
        assertThat(delays.stream().mapToLong(Long::longValue).max().orElseThrow()
                   - delays.stream().mapToLong(Long::longValue).min().orElseThrow()).isGreaterThan(100);
    }

    @Test
    void leasesDueWithinAFifthOfAnIntervalOfTheFirstGoInTheSameCall() {
        LeaseRenewals renewals = renewals();
        long now = System.nanoTime();
        for (long lease = 1; lease <= 300; lease++) {
            renewals.track(new Outcomes(), lease, TTL, now);
        }
        List<FakeHub.Renewal> firstRound = firstRound(300);
        // first renewals fall over half an interval and each call takes a fifth of one: at most three calls
        assertThat(firstRound).hasSizeLessThanOrEqualTo(3);
        assertThat(firstRound.stream().mapToInt(r -> r.leaseIds().size()).sum()).isEqualTo(300);
    }

    @Test
    void aCallCarriesAtMostMaxBatchLeases() {
        LeaseRenewals renewals = renewals();
        long now = System.nanoTime();
        for (long lease = 1; lease <= 10_000; lease++) {
            renewals.track(new Outcomes(), lease, TTL, now);
        }
        List<FakeHub.Renewal> firstRound = firstRound(10_000);
        assertThat(firstRound).allSatisfy(r -> assertThat(r.leaseIds()).hasSizeLessThanOrEqualTo(LeaseRenewals.MAX_BATCH));
        // some 4,000 leases are due in each fifth of an interval: the calls are full
        assertThat(firstRound).hasSizeLessThanOrEqualTo(12);
        assertThat(firstRound.stream().mapToInt(r -> r.leaseIds().size()).sum()).isEqualTo(10_000);
    }

    @Test
    void aFailedCallIsRetriedWithGrowingJitteredBackoffAndAfterASuccessTheBackoffStartsAgain() {
        Outcomes outcomes = new Outcomes();
        hub.failNext.set(4);
        renewals().track(outcomes, 1, TTL, dueNow());
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.renewalsOf(1).size() >= 5 && !outcomes.renewed.isEmpty());
        List<Long> gaps = gapsMillis(hub.renewalsOf(1));
        // delays drawn from [d/2, d], d doubling from 100 ms: the first retry comes long before the next interval
        assertThat(gaps.get(0)).isBetween(50L, INTERVAL_MS / 2);
        assertThat(gaps.get(1)).isGreaterThanOrEqualTo(100);
        assertThat(gaps.get(2)).isGreaterThanOrEqualTo(200);
        assertThat(gaps.get(3)).isGreaterThanOrEqualTo(400);
        assertThat(outcomes.renewed).containsExactly(1L);
        assertThat(outcomes.lost).isEmpty();

        hub.failNext.set(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.renewalsOf(1).size() >= 7);
        gaps = gapsMillis(hub.renewalsOf(1));
        // renewed: the next renewal comes an interval later; after its failure the backoff starts again from 100 ms
        // (without the reset it would wait at least 500 ms)
        assertThat(gaps.get(4)).isGreaterThanOrEqualTo(INTERVAL_MS);
        assertThat(gaps.get(5)).isBetween(50L, 450L);
        assertThat(outcomes.lost).isEmpty();
    }

    @Test
    void aLeaseTheHubReportsGoneIsReportedLostOnceAndNoLongerRenewed() {
        LeaseRenewals renewals = renewals();
        Outcomes kept = new Outcomes();
        Outcomes gone = new Outcomes();
        hub.gone.add(2L);
        renewals.track(kept, 1, TTL, dueNow());
        renewals.track(gone, 2, TTL, dueNow());
        await().atMost(Duration.ofSeconds(5)).until(() -> !gone.lost.isEmpty() && !kept.renewed.isEmpty());
        assertThat(renewals.size()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(5)).until(() -> hub.renewalsOf(1).size() >= 2);
        assertThat(gone.lost).containsExactly(2L);
        assertThat(gone.renewed).isEmpty();
        assertThat(hub.renewalsOf(2)).hasSize(1);
        assertThat(kept.lost).isEmpty();
    }

    @Test
    void aLeaseLeftOutOfTheAnswerIsRetriedSoonAndNotReportedLost() {
        Outcomes outcomes = new Outcomes();
        hub.unknown.add(1L);
        renewals().track(outcomes, 1, TTL, dueNow());
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.renewalsOf(1).size() >= 3);
        assertThat(gapsMillis(hub.renewalsOf(1)).get(0)).isLessThan(INTERVAL_MS / 2);
        assertThat(outcomes.lost).isEmpty();
        assertThat(outcomes.renewed).isEmpty();

        hub.unknown.clear();
        await().atMost(Duration.ofSeconds(5)).until(() -> !outcomes.renewed.isEmpty());
        assertThat(outcomes.lost).isEmpty();
    }

    private LeaseRenewals renewals() {
        LeaseRenewals renewals = new LeaseRenewals(hub.connection);
        clients.add(renewals);
        return renewals;
    }

    /* A Register call sent an interval ago: the first renewal is due at once. */
    private static long dueNow() {
        return System.nanoTime() - Duration.ofMillis(INTERVAL_MS).toNanos();
    }

    /* The calls up to the one that completes the first renewal of leases 1..count. */
    private List<FakeHub.Renewal> firstRound(int count) {
        await().atMost(Duration.ofSeconds(10)).until(() -> renewedOnce(hub.renewals).size() == count);
        List<FakeHub.Renewal> calls = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (FakeHub.Renewal call : hub.renewals) {
            calls.add(call);
            seen.addAll(call.leaseIds());
            if (seen.size() == count) {
                return calls;
            }
        }
        throw new AssertionError("unreachable");
    }

    private static Set<Long> renewedOnce(List<FakeHub.Renewal> calls) {
        Set<Long> leases = new HashSet<>();
        calls.forEach(call -> leases.addAll(call.leaseIds()));
        return leases;
    }

    private static List<Long> gapsMillis(List<FakeHub.Renewal> calls) {
        List<Long> gaps = new ArrayList<>();
        for (int i = 1; i < calls.size(); i++) {
            gaps.add((calls.get(i).nanos() - calls.get(i - 1).nanos()) / 1_000_000);
        }
        return gaps;
    }

    private static final class Outcomes implements LeaseRenewals.Listener {
        private final List<Long> renewed = new CopyOnWriteArrayList<>();
        private final List<Long> lost = new CopyOnWriteArrayList<>();

        @Override
        public void renewed(long leaseId, long sentNanos) {
            renewed.add(leaseId);
        }

        @Override
        public void lost(long leaseId) {
            lost.add(leaseId);
        }
    }
}
