package io.switchboard.gateway.edge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.google.protobuf.Message;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerRequestHeaders;
import io.helidon.http.WritableHeaders;
import io.helidon.metrics.api.Metrics;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.post.v1.WatchPostsRequest;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.gateway.transcode.Transcoder;
import io.switchboard.schema.Route;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventStreamsUnitTest {
    private static final Route WATCH = RouteTable.of(List.of(PostServiceGrpc.getServiceDescriptor()))
            .match("GET", "/post/watch").route();

    @Test
    void theAcceptHeaderChoosesEventsOrLinesOrNeither() {
        assertThat(EventStreams.wantsEvents(headers())).isFalse();
        assertThat(EventStreams.wantsEvents(headers("text/event-stream"))).isTrue();
        assertThat(EventStreams.wantsEvents(headers("text/html, text/event-stream"))).isTrue();
        assertThat(EventStreams.wantsEvents(headers("application/x-ndjson"))).isFalse();
        assertThat(EventStreams.wantsEvents(headers("application/json"))).isFalse();
        assertThat(EventStreams.wantsEvents(headers("*/*"))).isFalse();
        assertThat(EventStreams.wantsEvents(headers("text/event-stream;q=0, application/json"))).isFalse();
        assertThat(EventStreams.wantsEvents(headers("text/html"))).isNull();
        assertThat(EventStreams.wantsEvents(headers("image/png, text/plain"))).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {",,,", ";q=abc", "text/event-stream;q=2", "a/b/c", "\u00ff/\u00ff"})
    void aMalformedAcceptHeaderIsAnAnswerNotACrash(String accept) {
        // whatever it means, the gateway answers: SSE, NDJSON, 406, or 400 for one that does not parse
        try {
            EventStreams.wantsEvents(headers(accept));
        } catch (IllegalArgumentException e) {
            assertThat(e).hasMessage("the Accept header does not parse");
        }
        assertThatThrownBy(() -> EventStreams.wantsEvents(headers(";q=abc"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aLastEventIdFillsTheResumeFieldUnlessTheUrlDidAndIsRefusedBeyond256Characters() {
        Message fromUrl = WATCH.requestType().toBuilder()
                .setField(WATCH.requestType().getDescriptorForType().findFieldByName("after"), "7").build();
        Message empty = WATCH.requestType();
        assertThat(after(EventStreams.resumed(WATCH, empty, lastEventId("41")))).isEqualTo("41");
        assertThat(after(EventStreams.resumed(WATCH, fromUrl, lastEventId("41")))).isEqualTo("7");
        assertThat(after(EventStreams.resumed(WATCH, empty, headers()))).isEmpty();
        assertThat(after(EventStreams.resumed(WATCH, empty, lastEventId("9".repeat(256))))).hasSize(256);
        assertThatThrownBy(() -> EventStreams.resumed(WATCH, empty, lastEventId("9".repeat(257))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Last-Event-ID is longer than 256 characters");
        assertThat(WatchPostsRequest.getDescriptor().findFieldByName("after")).isNotNull();
    }

    @Test
    void streamsAreCountedPerClientAndInAllAtTheirBoundaries() {
        EventStreams streams = streams(Map.of("max", "3", "per-client", "2"));
        try {
            List<EventStreams.Permit> permits = new ArrayList<>();
            permits.add(streams.admit("a"));
            permits.add(streams.admit("a"));
            assertThat(permits).doesNotContainNull();
            assertThat(streams.admit("a")).as("a third of one client").isNull();
            permits.add(streams.admit("b"));
            assertThat(permits).doesNotContainNull();
            assertThat(streams.admit("c")).as("a fourth in all").isNull();
            permits.remove(0).close();
            // closing twice gives back one place
            EventStreams.Permit again = streams.admit("c");
            assertThat(again).isNotNull();
            again.close();
            again.close();
            assertThat(streams.admit("c")).isNotNull();
            assertThat(streams.admit("d")).isNull();
        } finally {
            streams.close();
        }
    }

    @Test
    void settingsOutOfRangeAreRefusedAtStart() {
        for (Map<String, String> bad : List.of(Map.of("max", "0"), Map.of("per-client", "0"), Map.of("buffer", "0"),
                                               Map.of("heartbeat", "PT0S"), Map.of("idle-timeout", "-PT1S"),
                                               Map.of("slow-client-timeout", "PT0S"))) {
            assertThatThrownBy(() -> streams(bad)).as("%s", bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("gateway.streams");
        }
        streams(Map.of("max", "1", "per-client", "1", "buffer", "1", "heartbeat", "PT0.001S")).close();
    }

    private static EventStreams streams(Map<String, String> settings) {
        return EventStreams.from(Config.just(ConfigSources.create(settings)), new Transcoder(), Metrics.globalRegistry());
    }

    private static String after(Message request) {
        return (String) request.getField(request.getDescriptorForType().findFieldByName("after"));
    }

    private static ServerRequestHeaders lastEventId(String id) {
        WritableHeaders<?> headers = WritableHeaders.create();
        headers.add(EventStreams.LAST_EVENT_ID, id);
        return ServerRequestHeaders.create(headers);
    }

    private static ServerRequestHeaders headers(String... accept) {
        WritableHeaders<?> headers = WritableHeaders.create();
        for (String value : accept) {
            headers.add(HeaderNames.ACCEPT, value);
        }
        return ServerRequestHeaders.create(headers);
    }
}
